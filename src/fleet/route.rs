//! The aggregator's routing: which (provider, endpoint) pairs may serve a request, in which order.
//!
//! A deliberately simple stand-in for OpenRouter's router: hard filters from `provider`, then
//! `order`, then the sort (cheapest first by default). The real routing model lives elsewhere.

use super::catalog::tag;
use super::request::{ChatParams, Failure, Prefs};
use super::spec::{Endpoint, FleetSpec, Provider};
use serde_json::json;

/// One endpoint the aggregator may try.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The serving provider.
    pub provider: &'a Provider,
    /// The model as that provider serves it.
    pub endpoint: &'a Endpoint,
}

/// Whether a preference entry names this provider: slug, tag (`slug/quant`) or display name.
pub fn names(p: &Provider, entry: &str) -> bool {
    let e = entry.trim();
    e.eq_ignore_ascii_case(&p.slug)
        || e.eq_ignore_ascii_case(&tag(p))
        || e.eq_ignore_ascii_case(&p.name)
}

/// Price tolerance so "max 0.15" admits an endpoint priced 0.15 despite float noise.
const EPS: f64 = 1e-9;

/// Whether an endpoint passes a filter.
type Keep<'p> = Box<dyn Fn(&Provider, &Endpoint) -> bool + 'p>;

/// One hard filter: its request field, OpenRouter's `excluded_by` code, and the test.
struct Filter<'p> {
    field: &'static str,
    code: &'static str,
    keep: Keep<'p>,
}

fn filters<'p>(
    prefs: &'p Prefs,
    prompt_tokens: u64,
    prefill: bool,
    used: &'p [&'static str],
    inputs: &[&'static str],
) -> Vec<Filter<'p>> {
    let mut f: Vec<Filter<'p>> = Vec::new();
    // Images need an endpoint that sees them; files do not: the aggregator parses a PDF itself
    // for an endpoint that cannot read one (OpenRouter's file-parser).
    if inputs.contains(&"image") {
        f.push(Filter {
            field: "image input",
            code: "image_input",
            keep: Box::new(|_, e| e.input_modalities.iter().any(|m| m == "image")),
        });
    }
    if let Some(only) = &prefs.only {
        f.push(Filter {
            field: "provider.only",
            code: "allowed_providers",
            keep: Box::new(move |p, _| only.iter().any(|o| names(p, o))),
        });
    }
    if !prefs.ignore.is_empty() {
        f.push(Filter {
            field: "provider.ignore",
            code: "allowed_providers",
            keep: Box::new(move |p, _| !prefs.ignore.iter().any(|o| names(p, o))),
        });
    }
    if prefs.deny_data_collection {
        f.push(Filter {
            field: "provider.data_collection",
            code: "data_policy:training",
            keep: Box::new(|p, _| !p.collects_data),
        });
    }
    if prefs.zdr {
        f.push(Filter {
            field: "provider.zdr",
            code: "data_policy:zdr",
            keep: Box::new(|p, _| p.zdr),
        });
    }
    if let Some(qs) = &prefs.quantizations {
        f.push(Filter {
            field: "provider.quantizations",
            code: "quantization",
            keep: Box::new(move |p, _| qs.contains(&p.quantization)),
        });
    }
    if let Some(max) = prefs.max_prompt_price {
        f.push(Filter {
            field: "provider.max_price.prompt",
            code: "max_price",
            keep: Box::new(move |_, e| e.prompt_price <= max + EPS),
        });
    }
    if let Some(max) = prefs.max_completion_price {
        f.push(Filter {
            field: "provider.max_price.completion",
            code: "max_price",
            keep: Box::new(move |_, e| e.completion_price <= max + EPS),
        });
    }
    f.push(Filter {
        field: "context length",
        code: "context_length",
        keep: Box::new(move |_, e| prompt_tokens <= e.context_length),
    });
    if prefill {
        f.push(Filter {
            field: "assistant prefill (the last message is from the assistant)",
            code: "assistant_prefill",
            keep: Box::new(|_, e| e.assistant_prefill),
        });
    }
    if prefs.eu_only {
        f.push(Filter {
            field: "EU in-region processing (the EU host)",
            code: "region",
            keep: Box::new(|p, _| p.region.eq_ignore_ascii_case("eu")),
        });
    }
    if prefs.require_parameters && !used.is_empty() {
        f.push(Filter {
            field: "provider.require_parameters",
            code: "supported_parameters",
            keep: Box::new(move |_, e| {
                used.iter()
                    .all(|u| e.supported_parameters.iter().any(|s| s == u))
            }),
        });
    }
    if !prefs.allow_fallbacks && !prefs.order.is_empty() {
        f.push(Filter {
            field: "provider.order (with allow_fallbacks: false)",
            code: "allowed_providers",
            keep: Box::new(move |p, _| prefs.order.iter().any(|o| names(p, o))),
        });
    }
    f
}

/// The candidates to try, in order; or the error OpenRouter would answer.
pub fn plan<'a>(spec: &'a FleetSpec, params: &ChatParams) -> Result<Vec<Candidate<'a>>, Failure> {
    let requested: Vec<&str> = std::iter::once(params.model.as_str())
        .chain(params.fallbacks.iter().map(String::as_str))
        .collect();
    for m in &requested {
        if spec.endpoints_for(m).is_empty() {
            return Err(Failure::bad_request(format!("{m} is not a valid model ID")));
        }
    }
    let prefs = &params.prefs;
    let filters = filters(
        prefs,
        params.prompt_tokens,
        params.prefill.is_some(),
        &params.used_params,
        &params.inputs,
    );
    // (field, code, excluded provider names), accumulated over all requested models. Every
    // filter is checked against every endpoint so the error names all causes, not just the first.
    let mut excluded: Vec<(&str, &str, Vec<String>)> = filters
        .iter()
        .map(|f| (f.field, f.code, Vec::new()))
        .collect();
    let mut out = Vec::new();
    for m in &requested {
        let mut eps: Vec<Candidate<'a>> = Vec::new();
        for (provider, endpoint) in spec.endpoints_for(m) {
            let mut ok = true;
            for (f, entry) in filters.iter().zip(excluded.iter_mut()) {
                if !(f.keep)(provider, endpoint) {
                    ok = false;
                    if !entry.2.contains(&provider.name) {
                        entry.2.push(provider.name.clone());
                    }
                }
            }
            if ok {
                eps.push(Candidate { provider, endpoint });
            }
        }
        // A file goes to an endpoint that reads it natively when the model has one; the
        // file-parser is for models that have none.
        let reads = |c: &Candidate<'_>| c.endpoint.input_modalities.iter().any(|m| m == "file");
        if params.inputs.contains(&"file") && eps.iter().any(reads) {
            eps.retain(reads);
        }
        sort(&mut eps, prefs);
        if !prefs.allow_fallbacks && prefs.order.is_empty() {
            eps.truncate(1);
        }
        out.extend(eps);
    }
    excluded.retain(|(_, _, who)| !who.is_empty());
    if out.is_empty() {
        let causes: Vec<String> = excluded
            .iter()
            .map(|(field, _, who)| format!("{field} excluded {}", who.join(", ")))
            .collect();
        let mut codes: Vec<&str> = Vec::new();
        for (_, code, _) in &excluded {
            if !codes.contains(code) {
                codes.push(code);
            }
        }
        let message = if codes == ["image_input"] {
            // OpenRouter's own words for it.
            "No endpoints found that support image input".to_string()
        } else {
            format!(
                "No endpoints found for {} that match your provider preferences: {}.",
                requested.join(", "),
                causes.join("; ")
            )
        };
        let filters: Vec<_> = excluded
            .iter()
            .map(
                |(field, code, who)| json!({"field": field, "excluded_by": code, "providers": who}),
            )
            .collect();
        return Err(Failure::new(404, message).with_metadata(json!({
            "requested_models": requested,
            "excluded_by": codes,
            "filters": filters,
        })));
    }
    Ok(out)
}

/// `order` entries first (in their order), then the rest by `sort` (price by default).
fn sort(eps: &mut [Candidate<'_>], prefs: &Prefs) {
    let rank = |c: &Candidate<'_>| {
        prefs
            .order
            .iter()
            .position(|o| names(c.provider, o))
            .unwrap_or(usize::MAX)
    };
    let key = |c: &Candidate<'_>| -> f64 {
        let e = c.endpoint;
        match prefs.sort.as_deref() {
            Some("throughput") => -e.tokens_per_sec.mean,
            Some("latency") => e.ttft_ms.mean,
            _ => e.prompt_price + e.completion_price,
        }
    };
    // Stable sort keeps file order among equals, so routing is deterministic.
    eps.sort_by(|a, b| rank(a).cmp(&rank(b)).then(key(a).total_cmp(&key(b))));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::request::parse_chat;
    use serde_json::{Value, json};

    fn params(provider: Value, model: &str) -> ChatParams {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "provider": provider});
        parse_chat(&serde_json::to_vec(&body).unwrap()).unwrap()
    }

    fn slugs(spec: &FleetSpec, provider: Value, model: &str) -> Vec<String> {
        plan(spec, &params(provider, model))
            .unwrap()
            .iter()
            .map(|c| c.provider.slug.clone())
            .collect()
    }

    const LLAMA: &str = "meta-llama/llama-3.3-70b-instruct";

    #[test]
    fn default_order_is_cheapest_first() {
        let spec = FleetSpec::builtin();
        assert_eq!(
            slugs(&spec, json!({}), LLAMA),
            vec!["harvest", "basalt", "fjord", "comet"]
        );
    }

    #[test]
    fn filters_and_order() {
        let spec = FleetSpec::builtin();
        assert_eq!(
            slugs(&spec, json!({"only": ["fjord", "Comet Compute"]}), LLAMA),
            vec!["fjord", "comet"]
        );
        assert_eq!(
            slugs(&spec, json!({"ignore": ["harvest"]}), LLAMA),
            vec!["basalt", "fjord", "comet"]
        );
        assert_eq!(
            slugs(&spec, json!({"data_collection": "deny"}), LLAMA),
            vec!["basalt", "fjord", "comet"]
        );
        assert_eq!(slugs(&spec, json!({"zdr": true}), LLAMA), vec!["fjord"]);
        assert_eq!(
            slugs(&spec, json!({"quantizations": ["fp8"]}), LLAMA),
            vec!["harvest"]
        );
        assert_eq!(
            slugs(&spec, json!({"only": ["harvest/fp8"]}), LLAMA),
            vec!["harvest"]
        );
        assert_eq!(
            slugs(&spec, json!({"max_price": {"prompt": 0.12}}), LLAMA),
            vec!["harvest", "basalt"]
        );
        assert_eq!(
            slugs(&spec, json!({"order": ["comet", "fjord"]}), LLAMA),
            vec!["comet", "fjord", "harvest", "basalt"]
        );
        assert_eq!(
            slugs(
                &spec,
                json!({"order": ["comet"], "allow_fallbacks": false}),
                LLAMA
            ),
            vec!["comet"]
        );
        assert_eq!(
            slugs(&spec, json!({"allow_fallbacks": false}), LLAMA),
            vec!["harvest"]
        );
        assert_eq!(
            slugs(&spec, json!({"sort": "throughput"}), LLAMA),
            vec!["comet", "harvest", "fjord", "basalt"]
        );
    }

    #[test]
    fn model_fallbacks_follow_the_primary() {
        let spec = FleetSpec::builtin();
        let mut p = params(json!({"zdr": true}), "openai/gpt-4o-mini");
        p.fallbacks = vec![LLAMA.to_string()];
        let c = plan(&spec, &p).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].endpoint.id, LLAMA);
    }

    #[test]
    fn errors_name_the_cause() {
        let spec = FleetSpec::builtin();
        let e = plan(&spec, &params(json!({}), "nope/model")).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.message, "nope/model is not a valid model ID");
        let e = plan(&spec, &params(json!({"zdr": true}), "openai/gpt-4o-mini")).unwrap_err();
        assert_eq!(e.status, 404);
        assert!(
            e.message
                .contains("provider.zdr excluded Comet Compute, Quarry Inference"),
            "{}",
            e.message
        );
        assert_eq!(
            e.metadata.unwrap()["excluded_by"],
            json!(["data_policy:zdr"])
        );
    }

    #[test]
    fn all_failing_filters_are_named() {
        let spec = FleetSpec::builtin();
        let prov = json!({"zdr": true, "quantizations": ["int4"], "only": ["comet"]});
        let e = plan(&spec, &params(prov, "openai/gpt-4o-mini")).unwrap_err();
        assert!(
            e.message
                .contains("provider.only excluded Quarry Inference;"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("provider.quantizations excluded Comet Compute, Quarry Inference"),
            "{}",
            e.message
        );
        let codes = &e.metadata.unwrap()["excluded_by"];
        assert_eq!(
            codes,
            &json!(["allowed_providers", "data_policy:zdr", "quantization"])
        );
    }
}
