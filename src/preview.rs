//! The route a request would take right now, computed by the router's own planner from live
//! health, and the exact body that would be sent: what `switchyard plan` prints and what the
//! routing panel shows beside its fields. Pure: no terminal, no network.

use crate::routing::policy::{Basis, Plan, RequestFeatures, plan};
use crate::routing::{EndpointRegistry, HealthSnapshot, SplitMix64};
use crate::wire::request::ChatRequest;
use serde_json::{Value, json};

/// A previewed route.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The plan, or why there is none.
    pub plan: Result<Plan, String>,
    /// True when a gateway decides (OpenRouter, the fleet's aggregator): the plan is Switchyard's
    /// forecast from the endpoint listing and the health observed so far.
    pub forecast: bool,
}

/// Plans `request` as the router would now (the same planner, the same rules; a load-balanced
/// draw uses `seed`).
pub fn preview(
    registry: &EndpointRegistry,
    snapshot: &HealthSnapshot,
    request: &ChatRequest,
    eu_only: bool,
    forecast: bool,
    seed: u64,
) -> Preview {
    let features = RequestFeatures {
        eu_only,
        ..RequestFeatures::from_request(request)
    };
    let prefs = request.provider.clone().unwrap_or_default();
    let models: Vec<String> = request
        .model
        .iter()
        .chain(request.models.iter().flatten())
        .cloned()
        .collect();
    let mut rng = SplitMix64::new(seed);
    let plan = plan(
        &features,
        registry,
        snapshot,
        &prefs,
        &models,
        None,
        &mut rng,
        snapshot.taken_at(),
    )
    .map_err(|e| e.to_string());
    Preview { plan, forecast }
}

/// The preview in words: a forecast label when a gateway decides, then the plan as the why
/// view words it.
pub fn lines(registry: &EndpointRegistry, p: &Preview) -> Vec<String> {
    let mut out = Vec::new();
    if p.forecast {
        out.push(
            "forecast — the gateway routes; this is what its endpoint listing and the health seen so far predict:"
                .into(),
        );
    }
    out.extend(crate::routing::exec::explain_plan(registry, &p.plan));
    out
}

/// The preview as data: the chosen endpoint or each candidate's share of a load-balanced draw,
/// the ranked order, and every excluded endpoint with its rule.
pub fn to_json(registry: &EndpointRegistry, p: &Preview, body: &Value) -> Value {
    let ep = |id| {
        let m = registry.get(id);
        json!({"provider": m.provider_name, "slug": m.provider_slug, "model": m.model})
    };
    let mut v = json!({"forecast": p.forecast, "request": body});
    match &p.plan {
        Err(e) => v["error"] = json!(e),
        Ok(plan) => {
            let shares = draw_shares(plan);
            let ranked: Vec<Value> = plan
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut x = ep(e.id);
                    if let Some(s) = shares.get(i) {
                        x["share"] = json!((*s * 1000.0).round() / 1000.0);
                    }
                    x
                })
                .collect();
            let shares: Vec<Value> = ranked
                .iter()
                .filter(|x| x.get("share").is_some())
                .cloned()
                .collect();
            v["chosen"] = if shares.len() > 1 {
                Value::Null
            } else {
                ranked.first().cloned().unwrap_or(Value::Null)
            };
            if shares.len() > 1 {
                v["shares"] = json!(shares);
            }
            v["ranked"] = json!(ranked);
            v["excluded"] = json!(
                plan.excluded
                    .iter()
                    .map(|(id, rule)| {
                        let mut x = ep(*id);
                        x["rule"] = json!(rule.id());
                        x["why"] = json!(rule.describe());
                        x
                    })
                    .collect::<Vec<_>>()
            );
        }
    }
    v
}

/// Each candidate's chance of being drawn first, for the leading entries of a price-weighted
/// draw (empty when the first choice is not drawn: sorted, ordered, alone).
pub fn draw_shares(plan: &Plan) -> Vec<f64> {
    let Some(first) = plan.entries.first() else {
        return Vec::new();
    };
    let Basis::WeightedPick { probability } = first.rank_reason.basis else {
        return Vec::new();
    };
    let p = f64::from(probability);
    let price = f64::from(first.rank_reason.price);
    if p >= 0.9995 || p <= 0.0 || price <= 0.0 {
        return Vec::new();
    }
    // The pick's weight over its chance is the whole draw's weight.
    let total = (1.0 / (price * price)) / p;
    let mut out = vec![p];
    for e in &plan.entries[1..] {
        match e.rank_reason.basis {
            Basis::ByWeight { weight }
                if e.rank_reason.tier == first.rank_reason.tier
                    && e.rank_reason.model_index == first.rank_reason.model_index =>
            {
                out.push(f64::from(weight) / total)
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{EndpointMeta, HealthTracker};
    use crate::wire::request::{DataCollection, ProviderPreferences};

    fn registry() -> EndpointRegistry {
        let mut r = EndpointRegistry::new();
        for (slug, price, collects) in [("cheap", 1.0, true), ("pricey", 4.0, false)] {
            let mut m = EndpointMeta::new(slug, "m/a").with_prices(price / 4.0, price);
            m.provider_name = slug.into();
            m.data.collects_data = collects;
            r.push(m);
        }
        r
    }

    fn request(prefs: Option<ProviderPreferences>) -> ChatRequest {
        let s = crate::settings::RequestSettings {
            provider: prefs,
            ..Default::default()
        };
        crate::settings::build("m/a", &s, [], "hi")
    }

    #[test]
    fn a_load_balanced_draw_shows_shares_and_a_hard_filter_shows_its_rule() {
        let reg = registry();
        let snap = HealthTracker::new(Default::default()).snapshot(reg.len(), Default::default());
        let p = preview(&reg, &snap, &request(None), false, false, 1);
        let v = to_json(&reg, &p, &json!({}));
        let shares = v["shares"]
            .as_array()
            .expect("two candidates share the draw");
        assert_eq!(shares.len(), 2);
        let total: f64 = shares.iter().map(|s| s["share"].as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 0.01, "{v}");
        let deny = ProviderPreferences {
            data_collection: Some(DataCollection::Deny),
            ..Default::default()
        };
        let p = preview(&reg, &snap, &request(Some(deny)), false, false, 1);
        let v = to_json(&reg, &p, &json!({}));
        assert_eq!(v["chosen"]["slug"], "pricey");
        // EU processing: neither endpoint says where it runs, so neither qualifies.
        let p = preview(&reg, &snap, &request(None), true, false, 1);
        assert!(
            p.plan.as_ref().is_err_and(|e| e.contains("EU processing")),
            "{:?}",
            p.plan
        );
        let p = preview(
            &reg,
            &snap,
            &request(Some(ProviderPreferences {
                data_collection: Some(DataCollection::Deny),
                ..Default::default()
            })),
            false,
            false,
            1,
        );
        let v = to_json(&reg, &p, &json!({}));
        assert_eq!(v["chosen"]["slug"], "pricey");
        assert_eq!(v["excluded"][0]["slug"], "cheap");
        assert!(lines(&reg, &p).iter().any(|l| l.contains("✗ cheap")));
    }
}
