//! The account's side of the API: `GET /key` (limit, usage, free tier) and `GET /generation?id=`
//! (what one answer cost, as the gateway recorded it). Decoded leniently: only what Switchyard
//! reads is typed, and a missing field is unknown, never zero.

use super::lenient::lenient_f64;
use serde::Deserialize;

/// `GET /key`'s `data`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KeyInfo {
    /// The key's label (a masked form of it).
    #[serde(default)]
    pub label: Option<String>,
    /// Credit limit in USD; none: unlimited.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub limit: Option<f64>,
    /// What is left of the limit.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub limit_remaining: Option<f64>,
    /// Credits used, USD.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub usage: Option<f64>,
    /// Credits used today (UTC), USD.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub usage_daily: Option<f64>,
    /// The account never bought credits: 50 `:free` requests a day.
    #[serde(default)]
    pub is_free_tier: Option<bool>,
}

/// `{data: KeyInfo}`.
#[derive(Debug, Deserialize)]
pub struct KeyResponse {
    /// The key.
    pub data: KeyInfo,
}

/// `GET /generation`'s `data`: the fields a bake-off reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Generation {
    /// Its id.
    #[serde(default)]
    pub id: String,
    /// What it cost, USD.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub total_cost: Option<f64>,
    /// Prompt tokens (normalized).
    #[serde(default)]
    pub tokens_prompt: Option<u64>,
    /// Completion tokens (normalized).
    #[serde(default)]
    pub tokens_completion: Option<u64>,
    /// The provider that served.
    #[serde(default)]
    pub provider_name: Option<String>,
}

/// `{data: Generation}`.
#[derive(Debug, Deserialize)]
pub struct GenerationResponse {
    /// The generation.
    pub data: Generation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_generation_decode_with_unknowns_left_unknown() {
        let k: KeyResponse = serde_json::from_str(
            r#"{"data":{"label":"sk-or-v1-abc...","limit":null,"usage":"0.25","is_free_tier":false,"rate_limit":{"requests":-1}}}"#,
        )
        .unwrap();
        assert_eq!(k.data.usage, Some(0.25));
        assert_eq!(k.data.limit, None);
        assert_eq!(k.data.is_free_tier, Some(false));
        let g: GenerationResponse = serde_json::from_str(
            r#"{"data":{"id":"gen-1","total_cost":0.0012,"tokens_prompt":10}}"#,
        )
        .unwrap();
        assert_eq!(g.data.total_cost, Some(0.0012));
        assert_eq!(g.data.tokens_completion, None);
    }
}
