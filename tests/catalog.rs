//! Catalog decoding against the real `GET /models` snapshot (2026-05-01, 371 models) and a
//! synthetic endpoints listing.

use std::sync::LazyLock;

use switchyard::wire::catalog::*;

const MODELS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/openrouter-models.json"
);

static CATALOG: LazyLock<Vec<Model>> = LazyLock::new(|| {
    let text =
        std::fs::read_to_string(MODELS).unwrap_or_else(|e| panic!("cannot read {MODELS}: {e}"));
    serde_json::from_str::<ModelList>(&text)
        .expect("the snapshot decodes")
        .data
});

fn model(id: &str) -> &'static Model {
    CATALOG
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("{id} is in the snapshot"))
}

#[test]
fn every_model_of_the_snapshot_decodes() {
    // `ModelList` skips undecodable entries, so compare with the raw count.
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(MODELS).unwrap()).unwrap();
    assert_eq!(raw["data"].as_array().unwrap().len(), 371);
    assert_eq!(CATALOG.len(), 371);
}

#[test]
fn ids_names_and_fields() {
    for m in CATALOG.iter() {
        assert!(m.id.contains('/'), "{} has no author prefix", m.id);
        assert!(
            m.name.is_some() && m.canonical_slug.is_some() && m.context_length.is_some(),
            "{}",
            m.id
        );
        let arch = m.architecture.as_ref().expect("architecture");
        assert!(
            !arch.input_modalities.is_empty() && !arch.output_modalities.is_empty(),
            "{}",
            m.id
        );
    }
    // Only two routers list no parameters; 272 models take `tools`.
    assert_eq!(
        CATALOG
            .iter()
            .filter(|m| m.supported_parameters.is_empty())
            .count(),
        2
    );
    assert_eq!(CATALOG.iter().filter(|m| m.supports("tools")).count(), 272);
    let jamba = model("ai21/jamba-large-1.7");
    assert_eq!(jamba.context_length, Some(256_000));
    assert_eq!(
        jamba.top_provider.unwrap().max_completion_tokens,
        Some(4096)
    );
    assert_eq!(
        jamba.architecture.as_ref().unwrap().modality.as_deref(),
        Some("text->text")
    );
    assert_eq!(jamba.architecture.as_ref().unwrap().instruct_type, None);
    assert!(jamba.supports("tools") && !jamba.supports("reasoning"));
}

#[test]
fn free_models() {
    let free: Vec<&str> = CATALOG
        .iter()
        .filter(|m| m.is_free())
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(free.len(), 29);
    for m in CATALOG.iter().filter(|m| m.is_free()) {
        assert!(m.pricing.is_zero(), "{} is :free but priced", m.id);
        assert_eq!(format_price_per_million(&m.pricing), "free");
    }
    // Zero-priced is not the same as free: Lyria bills per clip outside `pricing`.
    let lyria = model("google/lyria-3-pro-preview");
    assert!(lyria.pricing.is_zero() && !lyria.is_free());
}

#[test]
fn prices_parse() {
    let mut present = 0;
    for m in CATALOG.iter() {
        let (p, c) = (
            m.pricing.prompt.expect("prompt price"),
            m.pricing.completion.expect("completion price"),
        );
        assert!(
            p.per_token().is_finite() && c.per_token().is_finite(),
            "{}",
            m.id
        );
        // Routers report -1 ("depends on the model picked"); everything else is ≥ 0.
        if m.id.starts_with("openrouter/") {
            assert!(p.per_token() >= 0.0 || p.is_variable());
        } else {
            assert!(
                p.per_token() >= 0.0 && c.per_token() >= 0.0,
                "{} has a negative price",
                m.id
            );
        }
        present += [
            m.pricing.input_cache_read,
            m.pricing.web_search,
            m.pricing.image,
        ]
        .iter()
        .flatten()
        .count();
    }
    // Snapshot key counts from the reference: input_cache_read 158, web_search 78, image 16.
    assert_eq!(present, 158 + 78 + 16);
    let jamba = model("ai21/jamba-large-1.7");
    assert!((jamba.pricing.prompt.unwrap().per_million() - 2.0).abs() < 1e-9);
    assert!((jamba.pricing.completion.unwrap().per_million() - 8.0).abs() < 1e-9);
    assert_eq!(jamba.pricing.input_cache_read, None);
    assert_eq!(format_price_per_million(&jamba.pricing), "$2.00/$8.00/M");
    assert_eq!(
        format_price_per_million(&model("openrouter/auto").pricing),
        "varies"
    );
}

#[test]
fn fuzzy_search_ranks_the_intended_model_first() {
    let ids = |q: &str| {
        fuzzy_filter(&CATALOG, q)
            .into_iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
    };
    let hits = ids("gemini 2.5 pro");
    assert_eq!(hits[0], "google/gemini-2.5-pro");
    // The preview variants come next (prefix matches), ahead of unrelated scattered hits.
    assert!(
        hits[1..3]
            .iter()
            .all(|id| id.starts_with("google/gemini-2.5-pro-preview")),
        "{hits:?}"
    );
    assert_eq!(ids("GOOGLE/GEMINI-2.5-PRO")[0], "google/gemini-2.5-pro");
    assert_eq!(ids("jamba large")[0], "ai21/jamba-large-1.7");
    // Scattered subsequence still finds it.
    assert!(ids("gem25pro").contains(&"google/gemini-2.5-pro"));
    assert!(ids("qqqqzzzz").is_empty());
    assert_eq!(ids("").len(), 371);
    // Every hit really contains the query as a subsequence of its id or name.
    for id in ids("flash") {
        let m = model(id);
        let hay = format!("{} {}", m.id, m.name.as_deref().unwrap_or("")).to_lowercase();
        let mut it = hay.chars();
        assert!(
            "flash".chars().all(|c| it.any(|h| h == c)),
            "{id} does not contain 'flash'"
        );
    }
}

#[test]
fn dated_canonical_slugs_match() {
    let reported = model("anthropic/claude-sonnet-4.5")
        .canonical_slug
        .clone()
        .unwrap();
    assert_ne!(reported, "anthropic/claude-sonnet-4.5");
    let found = find_model(&CATALOG, &reported).expect("canonical slug resolves");
    assert!(found.matches_id(&reported));
    assert_eq!(found.id, "anthropic/claude-sonnet-4.5");
}

/// SYNTHETIC: no real endpoints response is archived; built from the reference §7 example
/// (captured record shapes), plus a second endpoint with `"request":0` as a number,
/// `supports_tool_choice`, and percentile stats.
const ENDPOINTS_FIXTURE: &str = r#"{"data":{"id":"nex-agi/nex-n2.5-pro:free","name":"Nex AGI: Nex-N2.5-Pro","created":1757203200,
 "description":"synthetic","architecture":{"modality":"text->text","input_modalities":["text"],"output_modalities":["text"],
 "tokenizer":"Other","instruct_type":null},
 "endpoints":[
  {"name":"Nex AGI | nex-agi/nex-n2.5-pro-20260907:free","model_id":"nex-agi/nex-n2.5-pro:free","model_name":"Nex AGI: Nex-N2.5-Pro",
   "context_length":262144,"pricing":{"prompt":"0","completion":"0","discount":0},"provider_name":"Nex AGI","tag":"nex-agi/fp8",
   "quantization":"fp8","max_completion_tokens":235929,"max_prompt_tokens":null,
   "supported_parameters":["tools","tool_choice","response_format","structured_outputs"],
   "status":0,"uptime_last_30m":98.2,"uptime_last_5m":96.6,"uptime_last_1d":99.4,
   "supports_implicit_caching":false,"latency_last_30m":null,"throughput_last_30m":null},
  {"name":"DeepInfra | deepseek/deepseek-chat-v3.1","model_id":"deepseek/deepseek-chat-v3.1","model_name":"DeepSeek: DeepSeek V3.1",
   "context_length":163840,"pricing":{"prompt":"0.0000002","completion":"0.0000008","request":0,"image":0,"web_search":0,
   "internal_reasoning":0,"input_cache_read":"0.00000005","discount":0},"provider_name":"DeepInfra","tag":"deepinfra/fp4",
   "quantization":null,"max_completion_tokens":null,"max_prompt_tokens":null,"supported_parameters":["tools","reasoning"],
   "status":-2,"uptime_last_30m":null,"uptime_last_5m":null,"uptime_last_1d":100,
   "supports_implicit_caching":true,"supports_tool_choice":{"none":true,"auto":true,"required":true,"function":true},
   "latency_last_30m":{"p50":0.45,"p75":0.6,"p90":0.85,"p99":1.9},"throughput_last_30m":{"p50":41.5,"p75":35,"p90":28,"p99":12}}
 ]}}"#;

#[test]
fn synthetic_endpoints_fixture_parses() {
    let r: EndpointsResponse = serde_json::from_str(ENDPOINTS_FIXTURE).expect("endpoints decode");
    assert_eq!(r.data.id, "nex-agi/nex-n2.5-pro:free");
    let [nex, deepinfra] = r.data.endpoints.as_slice() else {
        panic!("two endpoints")
    };

    assert_eq!(nex.tag.as_deref(), Some("nex-agi/fp8"));
    assert_eq!(nex.quantization.as_deref(), Some("fp8"));
    assert_eq!(nex.max_prompt_tokens, None);
    assert_eq!(nex.max_completion_tokens, Some(235_929));
    assert_eq!(nex.uptime_last_5m, Some(96.6));
    assert_eq!(
        (nex.latency_last_30m, nex.throughput_last_30m),
        (None, None)
    );
    assert_eq!(nex.supports_implicit_caching, Some(false));
    assert!(nex.pricing.is_zero() && nex.is_up());
    assert_eq!(format_price_per_million(&nex.pricing), "free");

    assert_eq!(deepinfra.quantization, None);
    assert_eq!(deepinfra.pricing.request.map(|p| p.per_token()), Some(0.0));
    assert!((deepinfra.pricing.prompt.unwrap().per_million() - 0.2).abs() < 1e-9);
    assert_eq!(deepinfra.uptime_last_30m, None);
    assert_eq!(deepinfra.uptime_last_1d, Some(100.0));
    assert_eq!(deepinfra.latency_last_30m.unwrap().p90, Some(0.85));
    assert_eq!(deepinfra.throughput_last_30m.unwrap().p75, Some(35.0));
    assert!(!deepinfra.is_up());
    assert_eq!(
        format_price_per_million(&deepinfra.pricing),
        "$0.20/$0.80/M"
    );
}

#[test]
fn openai_style_list_parses() {
    let body = r#"{"object":"list","data":[{"id":"qwen2.5:7b","object":"model","created":1700000000,"owned_by":"library"},
        {"id":"llama3.1:8b","object":"model","owned_by":"library"}]}"#;
    let models = serde_json::from_str::<OpenAiModelList>(body)
        .unwrap()
        .into_models();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["qwen2.5:7b", "llama3.1:8b"]);
    assert_eq!(models[0].created, Some(1_700_000_000));
    assert_eq!(fuzzy_filter(&models, "llama")[0].id, "llama3.1:8b");
}

/// The ids the raw JSON says pass `keep`, in catalog order (the browser's filters, recomputed
/// from the snapshot's own fields without Switchyard's types).
fn raw_ids(keep: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(MODELS).unwrap()).unwrap();
    raw["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| keep(m))
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn browse(line: &str, sort: switchyard::catalog_query::Sort) -> Vec<String> {
    let q = switchyard::catalog_query::parse(line);
    switchyard::catalog_query::run(&CATALOG, &q, sort)
        .into_iter()
        .map(|m| m.id.clone())
        .collect()
}

#[test]
fn the_browsers_filters_match_what_the_snapshot_says() {
    use switchyard::catalog_query::Sort::Relevance;
    let num = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
    let params = |m: &serde_json::Value, p: &str| {
        m["supported_parameters"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == p))
    };
    // Free: zero-priced and answering only in text (Lyria's 0/0 music bills per clip).
    let free = browse("free", Relevance);
    assert_eq!(free.len(), 31);
    assert_eq!(
        free,
        raw_ids(|m| num(&m["pricing"]["prompt"]) == Some(0.0)
            && num(&m["pricing"]["completion"]) == Some(0.0)
            && m["architecture"]["output_modalities"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o == "text"))
    );
    assert_eq!(
        browse("img tools", Relevance),
        raw_ids(|m| m["architecture"]["input_modalities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "image")
            && params(m, "tools"))
    );
    assert_eq!(
        browse("ctx>1m", Relevance),
        raw_ids(|m| m["context_length"].as_u64().is_some_and(|c| c >= 1_000_000))
    );
    assert_eq!(
        browse("@google $<0.5", Relevance),
        raw_ids(|m| m["id"].as_str().unwrap().starts_with("google/")
            && num(&m["pricing"]["prompt"]).is_some_and(|p| p >= 0.0 && p * 1e6 <= 0.5))
    );
    assert_eq!(
        browse("json", Relevance),
        raw_ids(|m| params(m, "structured_outputs") || params(m, "response_format"))
    );
    assert_eq!(
        browse("gemini 2.5 pro", Relevance)[0],
        "google/gemini-2.5-pro"
    );
    assert!(browse("free zzzz-no-such-model", Relevance).is_empty());
}

#[test]
fn the_browser_sorts_by_price_context_and_age() {
    use switchyard::catalog_query::Sort;
    let by = |s| browse("", s);
    let price = |id: &String| {
        let p = &model(id).pricing;
        match (p.prompt, p.completion) {
            (Some(a), Some(b)) if !a.is_variable() && !b.is_variable() => {
                a.per_token() + b.per_token()
            }
            _ => f64::INFINITY,
        }
    };
    let cheap = by(Sort::Price);
    assert_eq!(cheap.len(), 371);
    assert!(cheap.windows(2).all(|w| price(&w[0]) <= price(&w[1])));
    let ctx = by(Sort::Context);
    let c = |id: &String| model(id).context_length.unwrap_or(0);
    assert!(ctx.windows(2).all(|w| c(&w[0]) >= c(&w[1])));
    assert!(c(&ctx[0]) >= 1_000_000);
    let new = by(Sort::Newest);
    let t = |id: &String| model(id).created.unwrap_or(i64::MIN);
    assert!(new.windows(2).all(|w| t(&w[0]) >= t(&w[1])));
}
