//! Validates serialized `ChatRequest`s against `components.schemas.ChatRequest` of the official
//! OpenRouter OpenAPI 3.1 spec (`tests/data/openrouter-openapi.yaml`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::wire::request::*;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/openrouter-openapi.yaml"
);

/// The spec's `components.schemas`, for checking which keys the spec declares.
static SCHEMAS: LazyLock<Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
    let spec: Value = serde_yaml::from_str(&text).expect("the spec is YAML that maps to JSON");
    spec["components"]["schemas"].clone()
});

/// A 2020-12 validator for `ChatRequest`, with the spec's components placed so `$ref`s resolve.
static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/ChatRequest",
        "components": { "schemas": SCHEMAS.clone() },
    });
    jsonschema::draft202012::new(&doc).expect("the ChatRequest schema compiles")
});

/// Every validation error, as `path: message` lines.
fn errors(instance: &Value) -> Vec<String> {
    VALIDATOR
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(r: &ChatRequest) {
    let v = serde_json::to_value(r).expect("request serializes");
    let errs = errors(&v);
    assert!(
        errs.is_empty(),
        "{} spec violation(s):\n{}\nin {v:#}",
        errs.len(),
        errs.join("\n")
    );
}

/// Object keys of `instance` that `schema_name` does not declare. `ChatRequest` and the message
/// schemas allow extra keys, so a typo'd field name would otherwise validate silently.
fn undeclared(instance: &Value, schema_name: &str) -> Vec<String> {
    let props = SCHEMAS[schema_name]["properties"]
        .as_object()
        .expect("schema has properties");
    instance
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !props.contains_key(*k))
        .cloned()
        .collect()
}

fn assert_all_keys_declared(v: &Value) {
    assert_eq!(
        undeclared(v, "ChatRequest"),
        Vec::<String>::new(),
        "top-level keys outside the spec"
    );
    for m in v["messages"].as_array().unwrap() {
        let schema = match m["role"].as_str().unwrap() {
            "system" => "ChatSystemMessage",
            "developer" => "ChatDeveloperMessage",
            "user" => "ChatUserMessage",
            "assistant" => "ChatAssistantMessage",
            "tool" => "ChatToolMessage",
            r => panic!("unknown role {r}"),
        };
        assert_eq!(
            undeclared(m, schema),
            Vec::<String>::new(),
            "keys outside {schema} in {m}"
        );
    }
    if let Some(r) = v.get("reasoning") {
        // The spec's `reasoning` lists only effort/summary; the reasoning-tokens docs add these
        // three, and the schema permits extra keys. Anything else would be a typo.
        let extra = undeclared_in(r, &SCHEMAS["ChatRequest"]["properties"]["reasoning"]);
        let documented = ["max_tokens", "exclude", "enabled"];
        assert!(
            extra.iter().all(|k| documented.contains(&k.as_str())),
            "unexpected reasoning keys {extra:?}"
        );
    }
}

fn undeclared_in(instance: &Value, schema: &Value) -> Vec<String> {
    let props = schema["properties"].as_object().unwrap();
    instance
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !props.contains_key(*k))
        .cloned()
        .collect()
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(o) => o.values().any(has_null),
        _ => false,
    }
}

fn minimal() -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user("Hello")],
        ..Default::default()
    }
}

fn maximal(sort: ProviderSort, throughput: Threshold, latency: Threshold) -> ChatRequest {
    let schema = json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false});
    ChatRequest {
        model: Some("anthropic/claude-sonnet-4.5".into()),
        models: Some(vec!["openai/gpt-4o".into(), "google/gemini-2.5-pro".into()]),
        messages: vec![
            Message::system("You are terse."),
            Message::developer("Answer in JSON."),
            Message {
                name: Some("ann".into()),
                ..Message::user("Hi")
            },
            Message::user_parts([
                ContentPart::Text {
                    text: "What is in these?".into(),
                    cache_control: Some(CacheControl::ephemeral()),
                },
                ContentPart::Text {
                    text: "(long context)".into(),
                    cache_control: Some(CacheControl {
                        ttl: Some(CacheTtl::OneHour),
                        ..CacheControl::ephemeral()
                    }),
                },
                ContentPart::image_data_url("image/png", "iVBORw0KGgo="),
                ContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url: "https://example.com/a.jpg".into(),
                        detail: Some(ImageDetail::Original),
                        stored: None,
                    },
                },
                ContentPart::pdf("doc.pdf", "data:application/pdf;base64,JVBERi0xLjQ="),
                ContentPart::File {
                    file: FileRef {
                        file_id: Some("file-123".into()),
                        ..Default::default()
                    },
                },
                ContentPart::audio("UklGRiQAAABXQVZF", "wav"),
            ]),
            Message {
                reasoning: Some("The user wants weather.".into()),
                reasoning_details: Some(vec![
                    json!({"type":"reasoning.text","text":"thinking","signature":"sig==","format":"anthropic-claude-v1","index":0}),
                    json!({"type":"reasoning.encrypted","data":"enc==","id":"rs_1","format":null,"index":1}),
                ]),
                ..Message::assistant_tool_calls(vec![ToolCall::function(
                    "call_1",
                    "get_weather",
                    r#"{"city":"Oslo"}"#,
                )])
            },
            Message::tool("call_1", r#"{"temp_c":12}"#),
            Message::assistant("It is 12 °C."),
        ],
        stream: Some(true),
        stream_options: Some(StreamOptions {
            include_usage: Some(true),
        }),
        provider: Some(ProviderPreferences {
            order: Some(vec!["anthropic".into(), "google-vertex/us-east5".into()]),
            allow_fallbacks: Some(false),
            require_parameters: Some(true),
            data_collection: Some(DataCollection::Deny),
            zdr: Some(true),
            enforce_distillable_text: Some(false),
            only: Some(vec!["anthropic".into(), "Amazon Bedrock".into()]),
            ignore: Some(vec!["deepinfra/turbo".into()]),
            quantizations: Some(vec![
                Quantization::Int4,
                Quantization::Int8,
                Quantization::Fp4,
                Quantization::Mxfp4,
                Quantization::Nvfp4,
                Quantization::Fp6,
                Quantization::Fp8,
                Quantization::Mxfp8,
                Quantization::Fp16,
                Quantization::Bf16,
                Quantization::Fp32,
                Quantization::Unknown,
            ]),
            sort: Some(sort),
            max_price: Some(MaxPrice {
                prompt: Some(1.0),
                completion: Some(2.5),
                request: Some(0.01),
                image: Some(0.002),
                audio: Some(0.0000001),
            }),
            preferred_min_throughput: Some(throughput),
            preferred_max_latency: Some(latency),
        }),
        response_format: Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: "weather".into(),
                description: Some("A city".into()),
                strict: Some(true),
                schema,
            },
        }),
        plugins: Some(vec![
            Plugin::file_parser(PdfEngine::MistralOcr),
            Plugin::FileParser {
                enabled: Some(false),
                pdf: Some(PdfOptions {
                    engine: Some(PdfEngine::PdfText),
                }),
            },
            Plugin::ResponseHealing {
                enabled: Some(true),
            },
            Plugin::ContextCompression {
                enabled: Some(true),
                engine: Some(CompressionEngine::MiddleOut),
            },
            Plugin::id("web"),
        ]),
        reasoning: Some(ReasoningConfig {
            effort: Some(Effort::High),
            max_tokens: Some(2048),
            exclude: Some(false),
            enabled: Some(true),
            summary: Some(ReasoningSummary::Concise),
        }),
        temperature: Some(0.7),
        top_p: Some(0.9),
        top_k: Some(40),
        frequency_penalty: Some(0.5),
        presence_penalty: Some(-0.5),
        repetition_penalty: Some(1.1),
        min_p: Some(0.05),
        top_a: Some(0.2),
        seed: Some(42),
        logit_bias: Some(BTreeMap::from([
            ("50256".into(), -100.0),
            ("13".into(), 5.0),
        ])),
        logprobs: Some(true),
        top_logprobs: Some(5),
        stop: Some(Stop::Many(vec!["\n\n".into(), "END".into()])),
        max_tokens: Some(4096),
        max_completion_tokens: Some(4096),
        tools: Some(vec![
            Tool::function(
                "get_weather",
                "Weather for a city",
                json!({"type":"object","properties":{"city":{"type":"string"}}}),
            ),
            Tool::Server(json!({"type":"openrouter:datetime"})),
        ]),
        tool_choice: Some(ToolChoice::function("get_weather")),
        parallel_tool_calls: Some(false),
        user: Some("user-1234".into()),
        metadata: Some(BTreeMap::from([("team".into(), "routing".into())])),
        session_id: Some("sess-42".into()),
        service_tier: Some(ServiceTier::Priority),
        modalities: Some(vec![Modality::Text, Modality::Image, Modality::Audio]),
    }
}

fn maximal_both_forms() -> [ChatRequest; 2] {
    let pct = |a, b, c, d| Percentiles {
        p50: Some(a),
        p75: Some(b),
        p90: Some(c),
        p99: Some(d),
    };
    [
        maximal(
            ProviderSort::By(SortBy::Exacto),
            Threshold::Value(50.0),
            Threshold::Value(2.0),
        ),
        maximal(
            ProviderSort::Config(SortConfig {
                by: Some(SortBy::Throughput),
                partition: Some(Partition::None),
            }),
            Threshold::Percentiles(pct(100.0, 80.0, 50.0, 20.0)),
            Threshold::Percentiles(pct(0.5, 1.0, 2.0, 5.0)),
        ),
    ]
}

#[test]
fn minimal_request_validates() {
    assert_valid(&minimal());
    assert_eq!(
        serde_json::to_value(minimal()).unwrap(),
        json!({"messages":[{"role":"user","content":"Hello"}]})
    );
}

#[test]
fn maximal_requests_validate() {
    for r in maximal_both_forms() {
        assert_valid(&r);
        assert_all_keys_declared(&serde_json::to_value(&r).unwrap());
    }
}

#[test]
fn maximal_request_really_sets_every_field() {
    let [a, b] = maximal_both_forms();
    let v = serde_json::to_value(&a).unwrap();
    let mut top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    top.sort_unstable();
    // Everything of ChatRequest we model; guards against a field silently dropping out.
    let expected = [
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "min_p",
        "modalities",
        "model",
        "models",
        "parallel_tool_calls",
        "plugins",
        "presence_penalty",
        "provider",
        "reasoning",
        "repetition_penalty",
        "response_format",
        "seed",
        "service_tier",
        "session_id",
        "stop",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_a",
        "top_k",
        "top_logprobs",
        "top_p",
        "user",
    ];
    assert_eq!(top, expected);
    assert!(
        !v.as_object().unwrap().contains_key("route"),
        "deprecated `route` must never be sent"
    );
    let sorted_keys = |o: &Value| {
        let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
        k.sort_unstable();
        k
    };
    let provider_keys = sorted_keys(&v["provider"]);
    let all_provider = sorted_keys(&SCHEMAS["ProviderPreferences"]["properties"]);
    assert_eq!(
        provider_keys, all_provider,
        "every ProviderPreferences field of the spec is set"
    );
    assert_eq!(v["provider"]["sort"], json!("exacto"));
    assert_eq!(v["provider"]["preferred_max_latency"], json!(2.0));
    assert_eq!(v["provider"]["max_price"]["audio"], json!("0.0000001"));
    let vb = serde_json::to_value(&b).unwrap();
    assert_eq!(
        vb["provider"]["sort"],
        json!({"by":"throughput","partition":"none"})
    );
    assert_eq!(
        vb["provider"]["preferred_min_throughput"],
        json!({"p50":100.0,"p75":80.0,"p90":50.0,"p99":20.0})
    );
    // And it decodes back to the same value.
    for r in [a, b] {
        let back: ChatRequest = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

/// A broken request: what is wrong, the path the error must point at, and how to break it.
type Breakage = (&'static str, &'static str, fn(&mut Value));

/// Proves the validator has teeth, so the positive tests can fail.
#[test]
fn validator_rejects_invalid_requests() {
    let good = serde_json::to_value(minimal()).unwrap();
    assert!(errors(&good).is_empty());
    let cases: [Breakage; 6] = [
        ("empty messages", "/messages", |v| v["messages"] = json!([])),
        ("wrong enum", "/provider/data_collection", |v| {
            v["provider"] = json!({"data_collection":"sometimes"})
        }),
        ("unknown provider key", "/provider", |v| {
            v["provider"] = json!({"sortt":"price"})
        }),
        // The current spec types max_price values as strings, which is why we send strings.
        ("numeric max_price", "/provider/max_price/prompt", |v| {
            v["provider"] = json!({"max_price":{"prompt":1}})
        }),
        ("tool message without tool_call_id", "/messages/0", |v| {
            v["messages"] = json!([{"role":"tool","content":"x"}])
        }),
        ("five stop sequences", "/stop", |v| {
            v["stop"] = json!(["a", "b", "c", "d", "e"])
        }),
    ];
    for (what, path, mutate) in cases {
        let mut v = good.clone();
        mutate(&mut v);
        let errs = errors(&v);
        assert!(
            errs.iter().any(|e| e.starts_with(path)),
            "the validator did not reject {what} at {path}: {errs:?} for {v}"
        );
    }
}

// ---- generated requests ----

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?é]{0,24}"
}

fn part() -> BoxedStrategy<ContentPart> {
    let detail = prop::option::of(prop_oneof![
        Just(ImageDetail::Auto),
        Just(ImageDetail::Low),
        Just(ImageDetail::High),
        Just(ImageDetail::Original),
    ]);
    prop_oneof![
        (text(), any::<bool>()).prop_map(|(t, cache)| ContentPart::Text {
            text: t,
            cache_control: cache.then(CacheControl::ephemeral)
        }),
        ("[a-z]{1,8}", detail).prop_map(|(p, detail)| ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: format!("https://x/{p}.png").into(),
                detail,
                stored: None,
            }
        }),
        "[A-Za-z0-9+/]{4,16}".prop_map(|b| ContentPart::image_data_url("image/jpeg", &b)),
        ("[a-z]{1,8}", "[A-Za-z0-9+/]{4,16}").prop_map(|(n, b)| ContentPart::pdf(
            format!("{n}.pdf"),
            format!("data:application/pdf;base64,{b}")
        )),
        (
            "[A-Za-z0-9+/]{4,16}",
            prop::sample::select(vec!["wav", "mp3", "flac", "pcm16"])
        )
            .prop_map(|(b, f)| ContentPart::audio(b, f)),
    ]
    .boxed()
}

fn message() -> BoxedStrategy<Message> {
    prop_oneof![
        text().prop_map(Message::system),
        text().prop_map(Message::developer),
        text().prop_map(Message::user),
        prop::collection::vec(part(), 1..5).prop_map(Message::user_parts),
        (text(), prop::option::of(text())).prop_map(|(t, r)| Message {
            reasoning: r,
            ..Message::assistant(t)
        }),
        ("[a-z0-9]{4,8}", "[a-z_]{1,12}").prop_map(|(id, f)| {
            Message::assistant_tool_calls(vec![ToolCall::function(format!("call_{id}"), f, "{}")])
        }),
        ("[a-z0-9]{4,8}", text()).prop_map(|(id, t)| Message::tool(format!("call_{id}"), t)),
    ]
    .boxed()
}

fn sort_by() -> BoxedStrategy<SortBy> {
    prop_oneof![
        Just(SortBy::Price),
        Just(SortBy::Throughput),
        Just(SortBy::Latency),
        Just(SortBy::Exacto)
    ]
    .boxed()
}

fn threshold() -> BoxedStrategy<Threshold> {
    let p = || prop::option::of(0.0f64..500.0);
    prop_oneof![
        (0.0f64..500.0).prop_map(Threshold::Value),
        (p(), p(), p(), p()).prop_map(|(p50, p75, p90, p99)| Threshold::Percentiles(Percentiles {
            p50,
            p75,
            p90,
            p99
        })),
    ]
    .boxed()
}

fn quantization() -> BoxedStrategy<Quantization> {
    prop::sample::select(vec![
        Quantization::Int4,
        Quantization::Int8,
        Quantization::Fp4,
        Quantization::Mxfp4,
        Quantization::Nvfp4,
        Quantization::Fp6,
        Quantization::Fp8,
        Quantization::Mxfp8,
        Quantization::Fp16,
        Quantization::Bf16,
        Quantization::Fp32,
        Quantization::Unknown,
    ])
    .boxed()
}

fn provider() -> BoxedStrategy<ProviderPreferences> {
    let slugs = || prop::option::of(prop::collection::vec("[a-z]{2,10}(/[a-z0-9-]{2,8})?", 0..4));
    let b = || prop::option::of(any::<bool>());
    let sort = prop_oneof![
        sort_by().prop_map(ProviderSort::By),
        (
            prop::option::of(sort_by()),
            prop::option::of(prop_oneof![Just(Partition::Model), Just(Partition::None)])
        )
            .prop_map(|(by, partition)| ProviderSort::Config(SortConfig { by, partition })),
    ];
    let price = || prop::option::of(0.0f64..100.0);
    let max_price = (price(), price(), price(), price(), price()).prop_map(
        |(prompt, completion, request, image, audio)| MaxPrice {
            prompt,
            completion,
            request,
            image,
            audio,
        },
    );
    (
        (
            slugs(),
            b(),
            b(),
            prop::option::of(prop_oneof![
                Just(DataCollection::Allow),
                Just(DataCollection::Deny)
            ]),
        ),
        (
            b(),
            b(),
            slugs(),
            slugs(),
            prop::option::of(prop::collection::vec(quantization(), 0..4)),
        ),
        (
            prop::option::of(sort),
            prop::option::of(max_price),
            prop::option::of(threshold()),
            prop::option::of(threshold()),
        ),
    )
        .prop_map(
            |(
                (order, allow_fallbacks, require_parameters, data_collection),
                (zdr, edt, only, ignore, quantizations),
                (sort, max_price, tp, lat),
            )| {
                ProviderPreferences {
                    order,
                    allow_fallbacks,
                    require_parameters,
                    data_collection,
                    zdr,
                    enforce_distillable_text: edt,
                    only,
                    ignore,
                    quantizations,
                    sort,
                    max_price,
                    preferred_min_throughput: tp,
                    preferred_max_latency: lat,
                }
            },
        )
        .boxed()
}

fn response_format() -> BoxedStrategy<ResponseFormat> {
    prop_oneof![
        Just(ResponseFormat::Text),
        Just(ResponseFormat::JsonObject),
        (
            "[A-Za-z0-9_-]{1,64}",
            prop::option::of(text()),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(name, description, strict)| ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name,
                    description,
                    strict,
                    schema: json!({"type":"object"})
                }
            }),
    ]
    .boxed()
}

fn plugin() -> BoxedStrategy<Plugin> {
    let engine = prop::sample::select(vec![
        PdfEngine::MistralOcr,
        PdfEngine::CloudflareAi,
        PdfEngine::Native,
        PdfEngine::PdfText,
    ]);
    prop_oneof![
        (prop::option::of(any::<bool>()), prop::option::of(engine)).prop_map(
            |(enabled, engine)| Plugin::FileParser {
                enabled,
                pdf: engine.map(|e| PdfOptions { engine: Some(e) })
            }
        ),
        prop::option::of(any::<bool>()).prop_map(|enabled| Plugin::ResponseHealing { enabled }),
        prop::option::of(any::<bool>()).prop_map(|enabled| Plugin::ContextCompression {
            enabled,
            engine: Some(CompressionEngine::MiddleOut)
        }),
        Just(Plugin::id("web")),
    ]
    .boxed()
}

fn reasoning() -> BoxedStrategy<ReasoningConfig> {
    let effort = prop::sample::select(vec![
        Effort::Max,
        Effort::Xhigh,
        Effort::High,
        Effort::Medium,
        Effort::Low,
        Effort::Minimal,
        Effort::None,
    ]);
    (
        prop::option::of(effort),
        prop::option::of(1u32..100_000),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(effort, max_tokens, exclude, enabled)| ReasoningConfig {
            effort,
            max_tokens,
            exclude,
            enabled,
            summary: None,
        })
        .boxed()
}

fn stop() -> BoxedStrategy<Stop> {
    prop_oneof![
        text().prop_map(Stop::One),
        prop::collection::vec(text(), 0..=4).prop_map(Stop::Many)
    ]
    .boxed()
}

fn request() -> BoxedStrategy<ChatRequest> {
    let f = |lo: f64, hi: f64| prop::option::of(lo..hi);
    let routing = (
        prop::option::of("[a-z]{2,8}/[a-z0-9.-]{2,16}(:free|:nitro)?"),
        prop::option::of(prop::collection::vec("[a-z]{2,8}/[a-z0-9.-]{2,16}", 0..3)),
        prop::collection::vec(message(), 1..6),
        prop::option::of(any::<bool>()),
        prop::option::of(provider()),
        prop::option::of(response_format()),
        prop::option::of(prop::collection::vec(plugin(), 0..3)),
        prop::option::of(reasoning()),
    )
        .boxed();
    let sampling = (
        (
            f(0.0, 2.0),
            f(0.01, 1.0),
            prop::option::of(1u32..200),
            f(-2.0, 2.0),
            f(-2.0, 2.0),
            f(0.01, 2.0),
        ),
        (
            f(0.0, 1.0),
            f(0.0, 1.0),
            prop::option::of(any::<i64>()),
            prop::option::of(any::<bool>()),
            prop::option::of(0u32..=20),
        ),
        (
            prop::option::of(stop()),
            prop::option::of(1u32..100_000),
            prop::option::of(1u32..100_000),
        ),
    )
        .boxed();
    let other = (
        prop::option::of(prop_oneof![
            Just(ToolChoice::Mode(ToolChoiceMode::None)),
            Just(ToolChoice::Mode(ToolChoiceMode::Auto)),
            Just(ToolChoice::Mode(ToolChoiceMode::Required)),
            "[a-z_]{1,12}".prop_map(ToolChoice::function),
        ]),
        prop::option::of(any::<bool>()),
        prop::option::of("[a-z0-9-]{1,32}"),
        prop::option::of(prop::collection::btree_map("[a-z]{1,16}", text(), 0..4)),
        prop::option::of("[a-zA-Z0-9-]{1,256}"),
        prop::option::of(prop::sample::select(vec![
            ServiceTier::Auto,
            ServiceTier::Default,
            ServiceTier::Fast,
            ServiceTier::Flex,
            ServiceTier::Priority,
            ServiceTier::Scale,
        ])),
        prop::option::of(prop::sample::subsequence(
            vec![Modality::Text, Modality::Image, Modality::Audio],
            1..=3,
        )),
    )
        .boxed();
    (routing, sampling, other)
        .prop_map(|(r, s, o)| {
            let (model, models, messages, stream, provider, response_format, plugins, reasoning) =
                r;
            let (
                (
                    temperature,
                    top_p,
                    top_k,
                    frequency_penalty,
                    presence_penalty,
                    repetition_penalty,
                ),
                more,
                ends,
            ) = s;
            let (min_p, top_a, seed, logprobs, top_logprobs) = more;
            let (stop, max_tokens, max_completion_tokens) = ends;
            let (
                tool_choice,
                parallel_tool_calls,
                user,
                metadata,
                session_id,
                service_tier,
                modalities,
            ) = o;
            ChatRequest {
                model,
                models,
                messages,
                stream,
                stream_options: None,
                provider,
                response_format,
                plugins,
                reasoning,
                temperature,
                top_p,
                top_k,
                frequency_penalty,
                presence_penalty,
                repetition_penalty,
                min_p,
                top_a,
                seed,
                logit_bias: None,
                logprobs,
                top_logprobs,
                stop,
                max_tokens,
                max_completion_tokens,
                tools: tool_choice
                    .is_some()
                    .then(|| vec![Tool::function("f", "a tool", json!({"type":"object"}))]),
                tool_choice,
                parallel_tool_calls,
                user,
                metadata,
                session_id,
                service_tier,
                modalities,
            }
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_requests_validate_and_round_trip(r in request()) {
        let v = serde_json::to_value(&r).unwrap();
        let errs = errors(&v);
        prop_assert!(errs.is_empty(), "{} spec violation(s):\n{}\nin {v:#}", errs.len(), errs.join("\n"));
        assert_all_keys_declared(&v);
        prop_assert!(!has_null(&v), "unset fields must be omitted, not null: {v}");
        let back: ChatRequest = serde_json::from_value(v).unwrap();
        prop_assert_eq!(back, r);
    }
}

#[test]
fn attachments_validate_against_the_spec_text_first() {
    use switchyard::attach::{Kind, Limits, Origin, fixtures, load};
    use switchyard::settings::{Prompt, RequestSettings, build};
    switchyard::attach::pdf::set_program(env!("CARGO_BIN_EXE_switchyard"));
    let read = |name: &str, bytes: Vec<u8>| {
        load::from_bytes(name.into(), Origin::Clipboard, bytes, &Limits::default(), 0)
            .unwrap()
            .attachment
    };
    let png = read("a.png", fixtures::png(32, 16));
    let jpeg = read("b.jpg", fixtures::jpeg(40, 30));
    let pdf = read("c.pdf", fixtures::pdf(&["one page of text"]));
    assert_eq!(
        (png.kind, jpeg.kind, pdf.kind),
        (Kind::Png, Kind::Jpeg, Kind::Pdf)
    );
    let earlier = [png.clone()];
    let now = [jpeg, pdf.clone()];
    for engine in [
        None,
        Some(switchyard::wire::request::PdfEngine::CloudflareAi),
    ] {
        let s = RequestSettings {
            pdf_engine: engine,
            ..Default::default()
        };
        let r = build(
            "m/a",
            &s,
            [(Prompt::new("the first", &earlier), "seen")],
            Prompt::new("and these", &now),
        );
        assert_valid(&r);
        let v = serde_json::to_value(&r).unwrap();
        let parts = v["messages"][2]["content"].as_array().unwrap();
        assert_eq!(
            parts[0],
            serde_json::json!({"type": "text", "text": "and these"})
        );
        assert_eq!(parts[1]["type"], "image_url");
        assert!(
            parts[1]["image_url"]["url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/jpeg;base64,")
        );
        assert_eq!(parts[2]["type"], "file");
        assert_eq!(parts[2]["file"]["filename"], "c.pdf");
        assert!(
            parts[2]["file"]["file_data"]
                .as_str()
                .unwrap()
                .starts_with("data:application/pdf;base64,")
        );
        // An earlier turn's image goes again with its prompt.
        assert_eq!(v["messages"][0]["content"][1]["type"], "image_url");
        match engine {
            None => assert!(v.get("plugins").is_none()),
            Some(_) => assert_eq!(
                v["plugins"],
                serde_json::json!([{"id": "file-parser", "pdf": {"engine": "cloudflare-ai"}}])
            ),
        }
        // The same request with the PDF as its locally extracted text: valid too.
        let alt = switchyard::attach::pdfs_as_text(&r, &[&pdf]).unwrap();
        assert_valid(&alt);
        let v = serde_json::to_value(&alt).unwrap();
        let text = v["messages"][2]["content"][2]["text"].as_str().unwrap();
        assert!(
            text.contains("one page of text") && text.contains("\"c.pdf\""),
            "{text}"
        );
    }
}

#[test]
fn every_request_setting_validates_against_the_spec() {
    use switchyard::settings::{RequestSettings, build};
    let s = RequestSettings {
        provider: Some(switchyard::wire::request::ProviderPreferences {
            data_collection: Some(switchyard::wire::request::DataCollection::Deny),
            ..Default::default()
        }),
        fallbacks: vec!["m/b".into()],
        system: Some("be brief".into()),
        temperature: Some(0.2),
        top_p: Some(0.9),
        max_tokens: Some(64),
        reasoning_effort: Some(switchyard::wire::request::Effort::High),
        response_format: Some(switchyard::schema::response_format(
            "sentiment",
            true,
            switchyard::schema::check_text(switchyard::schema::TEMPLATES[0].2)
                .unwrap()
                .value,
        )),
        eu: true,
        no_require_parameters: false,
        unrecorded: false,
        pdf_engine: Some(switchyard::wire::request::PdfEngine::MistralOcr),
    };
    let r = build("m/a", &s, [("earlier".into(), "answer")], "now");
    assert_valid(&r);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v["provider"]["require_parameters"], true,
        "a schema requires its parameters"
    );
    assert_eq!(v["response_format"]["json_schema"]["name"], "sentiment");
    let keys: Vec<&String> = v["response_format"]["json_schema"]["schema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        keys,
        ["sentiment", "confidence"],
        "properties keep their order"
    );
    assert_valid(&build("m/a", &RequestSettings::default(), [], "now"));
}
