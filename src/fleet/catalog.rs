//! Catalog JSON: `GET /models`, `GET /models/{author}/{slug}/endpoints` and the per-provider
//! OpenAI-style `GET /models`, built from the spec in OpenRouter's real shapes.

use super::rng::fnv1a;
use super::spec::{Endpoint, FleetSpec, Provider};
use serde_json::{Value, json};

/// USD per million tokens → OpenRouter's per-token decimal string, exactly ($0.15/M → "0.00000015").
///
/// Done on the decimal digits rather than by dividing, so no binary-float residue leaks in.
pub fn per_token(per_million: f64) -> String {
    if !per_million.is_finite() || per_million <= 0.0 {
        return "0".to_string();
    }
    // Display for f64 prints the shortest round-trip decimal, never in exponent form.
    let s = format!("{per_million}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as isize - 6;
    let (int_part, frac_part) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = frac_part.trim_end_matches('0');
    if frac_part.is_empty() {
        int_part.to_string()
    } else {
        format!("{int_part}.{frac_part}")
    }
}

/// The model's display name: metadata, or derived from the id ("google/gemini-2.5-pro" →
/// "Google: Gemini 2.5 Pro").
pub fn model_name(spec: &FleetSpec, id: &str) -> String {
    if let Some(name) = spec.meta(id).and_then(|m| m.name.clone()) {
        return name;
    }
    let (author, rest) = id.split_once('/').unwrap_or(("", id));
    let (slug, variant) = rest
        .split_once(':')
        .map_or((rest, None), |(s, v)| (s, Some(v)));
    let author = match author {
        "openai" => "OpenAI".to_string(),
        "meta-llama" => "Meta".to_string(),
        "deepseek" => "DeepSeek".to_string(),
        "mistralai" => "Mistral".to_string(),
        "x-ai" => "xAI".to_string(),
        other => capitalise(other),
    };
    let title: Vec<String> = slug
        .split('-')
        .map(|w| match w {
            "gpt" => "GPT".to_string(),
            w if w.ends_with('b')
                && w[..w.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.') =>
            {
                w.to_uppercase()
            }
            w => capitalise(w),
        })
        .collect();
    let mut name = format!("{author}: {}", title.join(" "));
    if let Some(v) = variant {
        name.push_str(&format!(" ({v})"));
    }
    name
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// Release timestamp: metadata, or a stable fake in 2025 so sorting by "newest" is deterministic.
fn created(spec: &FleetSpec, id: &str) -> u64 {
    spec.meta(id)
        .and_then(|m| m.created)
        .unwrap_or(1_735_689_600 + fnv1a(id.as_bytes()) % 31_536_000)
}

fn description(spec: &FleetSpec, id: &str) -> String {
    spec.meta(id)
        .and_then(|m| m.description.clone())
        .unwrap_or_else(|| {
            format!(
                "{} as served by Switchyard's built-in simulated fleet.",
                model_name(spec, id)
            )
        })
}

fn tokenizer(id: &str) -> &'static str {
    match id.split('/').next().unwrap_or_default() {
        "openai" => "GPT",
        "anthropic" => "Claude",
        "google" => "Gemini",
        "meta-llama" => "Llama3",
        "deepseek" => "DeepSeek",
        "qwen" => "Qwen3",
        "mistralai" => "Mistral",
        _ => "Other",
    }
}

/// Union of a list-valued field over endpoints, in first-seen order.
fn union<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lists {
        for x in l {
            if !out.contains(x) {
                out.push(x.clone());
            }
        }
    }
    out
}

fn architecture(id: &str, endpoints: &[(&Provider, &Endpoint)]) -> Value {
    let inputs = union(endpoints.iter().map(|(_, e)| &e.input_modalities));
    json!({
        "modality": format!("{}->text", inputs.join("+")),
        "input_modalities": inputs,
        "output_modalities": ["text"],
        "tokenizer": tokenizer(id),
        "instruct_type": null,
    })
}

/// Endpoints sorted cheapest first: the one `/models` reports as its price and top provider.
fn cheapest<'a>(
    endpoints: &[(&'a Provider, &'a Endpoint)],
) -> Option<(&'a Provider, &'a Endpoint)> {
    endpoints.iter().copied().min_by(|a, b| {
        let pa = a.1.prompt_price + a.1.completion_price;
        let pb = b.1.prompt_price + b.1.completion_price;
        pa.total_cmp(&pb)
    })
}

/// One entry of `GET /models`.
fn model_json(spec: &FleetSpec, id: &str) -> Value {
    let eps: Vec<_> = spec
        .endpoints_for(id)
        .into_iter()
        .filter(|(_, e)| e.id == id)
        .collect();
    let Some((_, top)) = cheapest(&eps) else {
        return Value::Null;
    };
    let context_length = eps
        .iter()
        .map(|(_, e)| e.context_length)
        .max()
        .unwrap_or(top.context_length);
    json!({
        "id": id,
        "canonical_slug": top.canonical_slug.clone().unwrap_or_else(|| id.to_string()),
        "hugging_face_id": null,
        "name": model_name(spec, id),
        "created": created(spec, id),
        "description": description(spec, id),
        "context_length": context_length,
        "architecture": architecture(id, &eps),
        "pricing": { "prompt": per_token(top.prompt_price), "completion": per_token(top.completion_price) },
        "top_provider": {
            "context_length": top.context_length,
            "max_completion_tokens": top.max_completion_tokens,
            "is_moderated": false,
        },
        "per_request_limits": null,
        "supported_parameters": union(eps.iter().map(|(_, e)| &e.supported_parameters)),
    })
}

/// `GET /api/v1/models`.
pub fn models(spec: &FleetSpec) -> Value {
    let data: Vec<Value> = spec
        .model_ids()
        .into_iter()
        .map(|id| model_json(spec, id))
        .collect();
    json!({ "data": data })
}

/// Uptime percentage implied by the error rate (429s don't count, as on OpenRouter).
fn uptime(e: &Endpoint) -> f64 {
    ((1.0 - e.error_rate) * 1000.0).round() / 10.0
}

/// The routing tag: slug, or `slug/quant` when the quantization is disclosed.
pub fn tag(p: &Provider) -> String {
    match p.quantization {
        super::spec::Quantization::Unknown => p.slug.clone(),
        q => format!("{}/{q}", p.slug),
    }
}

/// `GET /api/v1/models/{author}/{slug}/endpoints`; `None` for an unknown model.
pub fn endpoints(spec: &FleetSpec, id: &str) -> Option<Value> {
    let (_, first) = *spec.endpoints_for(id).first()?;
    // A canonical slug resolves to the served id, like the real API's lookup.
    let id = first.id.as_str();
    let eps: Vec<_> = spec
        .endpoints_for(id)
        .into_iter()
        .filter(|(_, e)| e.id == id)
        .collect();
    let name = model_name(spec, id);
    let list: Vec<Value> = eps
        .iter()
        .map(|(p, e)| {
            json!({
                "name": format!("{} | {}", p.name, e.id),
                "model_id": e.id,
                "model_name": name,
                "context_length": e.context_length,
                "pricing": {
                    "prompt": per_token(e.prompt_price),
                    "completion": per_token(e.completion_price),
                    // Real traffic sends zero-price keys as numbers.
                    "request": 0,
                },
                "provider_name": p.name,
                "tag": tag(p),
                "quantization": p.quantization.as_str(),
                "max_completion_tokens": e.max_completion_tokens,
                "max_prompt_tokens": null,
                "supported_parameters": e.supported_parameters,
                "status": 0,
                "uptime_last_30m": uptime(e),
                "uptime_last_5m": uptime(e),
                "uptime_last_1d": uptime(e),
                "latency_last_30m": null,
                "throughput_last_30m": null,
                "supports_implicit_caching": false,
            })
        })
        .collect();
    Some(json!({
        "data": {
            "id": id,
            "name": name,
            "created": created(spec, id),
            "description": description(spec, id),
            "architecture": architecture(id, &eps),
            "endpoints": list,
        }
    }))
}

/// `GET /p/{slug}/v1/models`: the OpenAI list shape.
pub fn provider_models(spec: &FleetSpec, p: &Provider) -> Value {
    let data: Vec<Value> = p
        .models
        .iter()
        .map(|e| json!({ "id": e.id, "object": "model", "created": created(spec, &e.id), "owned_by": p.slug }))
        .collect();
    json!({ "object": "list", "data": data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_token_strings_are_exact() {
        assert_eq!(per_token(0.15), "0.00000015");
        assert_eq!(per_token(0.6), "0.0000006");
        assert_eq!(per_token(3.0), "0.000003");
        assert_eq!(per_token(15.0), "0.000015");
        assert_eq!(per_token(1.25), "0.00000125");
        assert_eq!(per_token(0.0), "0");
        assert_eq!(per_token(1000.0), "0.001");
        assert_eq!(per_token(2_500_000.0), "2.5");
        assert_eq!(per_token(0.0001), "0.0000000001");
        assert_eq!(per_token(-1.0), "0");
        for p in [0.1, 0.15, 0.3, 2.5, 16.5, 0.27, 1.1] {
            let back: f64 = per_token(p).parse().unwrap();
            assert!((back * 1e6 - p).abs() < 1e-12, "{p}");
        }
    }

    #[test]
    fn derived_names() {
        let spec = FleetSpec::from_toml(
            "[[providers]]\nname='A'\nslug='a'\n[[providers.models]]\nid='meta-llama/llama-3.3-70b-instruct:free'\nprompt_price=0\ncompletion_price=0\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            model_name(&spec, "meta-llama/llama-3.3-70b-instruct:free"),
            "Meta: Llama 3.3 70B Instruct (free)"
        );
        assert_eq!(
            model_name(&spec, "openai/gpt-4o-mini"),
            "OpenAI: GPT 4o Mini"
        );
    }

    #[test]
    fn builtin_models_listing_shape() {
        let spec = FleetSpec::builtin();
        let v = models(&spec);
        let data = v["data"].as_array().unwrap();
        assert_eq!(data.len(), spec.model_ids().len());
        let sonnet = data
            .iter()
            .find(|m| m["id"] == "anthropic/claude-sonnet-4.5")
            .unwrap();
        assert_eq!(
            sonnet["canonical_slug"],
            "anthropic/claude-4.5-sonnet-20250929"
        );
        assert_eq!(sonnet["context_length"], 1_000_000);
        assert_eq!(sonnet["pricing"]["prompt"], "0.000003");
        assert_eq!(sonnet["architecture"]["modality"], "text+image+file->text");
        assert!(data.iter().all(|m| !m.is_null()));
        assert!(endpoints(&spec, "nope/nope").is_none());
        let by_canonical = endpoints(&spec, "anthropic/claude-4.5-sonnet-20250929").unwrap();
        assert_eq!(by_canonical["data"]["id"], "anthropic/claude-sonnet-4.5");
    }
}
