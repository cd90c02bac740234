//! Routing preferences from command-line flags, turned into OpenRouter's `provider` object.
//!
//! The flags are assembled as JSON and decoded by the wire type itself, so enum spellings
//! (sorts, quantizations, data policy) are checked in one place; percentile and price lists
//! are parsed here so a typo gets a message naming the flag.

use crate::wire::request::ProviderPreferences;
use clap::Args;
use serde_json::{Map, Value, json};

/// `provider` preferences as flags (OpenRouter semantics; also used by the local router).
#[derive(Debug, Clone, Default, Args)]
pub struct RoutingArgs {
    /// Sort endpoints: price, throughput or latency (turns off load balancing).
    #[arg(long, global = true, value_name = "BY", value_parser = ["price", "throughput", "latency"])]
    pub sort: Option<String>,
    /// With --sort: group by model (`model`, default) or sort all models together (`none`).
    #[arg(long, global = true, value_name = "model|none", value_parser = ["model", "none"])]
    pub partition: Option<String>,
    /// Preferred maximum time to first token in seconds: `3` (p50) or `p90=3,p99=6`. Demotes, never excludes.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub max_latency: Option<String>,
    /// Preferred minimum tokens/s: `50` (p50) or `p50=50,p90=20`. Demotes, never excludes.
    #[arg(long, global = true, value_name = "TOKENS_PER_SEC")]
    pub min_throughput: Option<String>,
    /// Hard price cap in USD per million tokens: `prompt=1,completion=2` (also request, image).
    #[arg(long, global = true, value_name = "KEY=USD,...")]
    pub max_price: Option<String>,
    /// Providers to try first, in order (comma-separated slugs).
    #[arg(long, global = true, value_delimiter = ',', value_name = "SLUGS")]
    pub order: Vec<String>,
    /// Only these providers (comma-separated slugs).
    #[arg(long, global = true, value_delimiter = ',', value_name = "SLUGS")]
    pub only: Vec<String>,
    /// Never these providers (comma-separated slugs).
    #[arg(long, global = true, value_delimiter = ',', value_name = "SLUGS")]
    pub ignore: Vec<String>,
    /// Use only the ordered providers; fail rather than fall back.
    #[arg(long, global = true)]
    pub no_fallbacks: bool,
    /// Only endpoints that support every parameter in the request.
    #[arg(long, global = true)]
    pub require_parameters: bool,
    /// Allowed quantizations (comma-separated, e.g. fp8,bf16).
    #[arg(long, global = true, value_delimiter = ',', value_name = "LEVELS")]
    pub quantizations: Vec<String>,
    /// `deny` excludes providers that store or train on prompts.
    #[arg(long, global = true, value_name = "allow|deny", value_parser = ["allow", "deny"])]
    pub data_collection: Option<String>,
    /// Only zero-data-retention endpoints.
    #[arg(long, global = true)]
    pub zdr: bool,
    /// Only models whose authors allow distilling their output (`enforce_distillable_text`).
    #[arg(long, global = true)]
    pub distillable: bool,
}

fn percentiles(flag: &str, v: &str) -> Result<Value, String> {
    if let Ok(n) = v.trim().parse::<f64>() {
        return finite(flag, n).map(|n| json!(n));
    }
    let mut m = Map::new();
    for part in v.split(',') {
        let (k, n) = part
            .split_once('=')
            .ok_or_else(|| format!("--{flag}: expected a number or p50=N,p90=N, got {part:?}"))?;
        let k = k.trim();
        if !["p50", "p75", "p90", "p99"].contains(&k) {
            return Err(format!(
                "--{flag}: {k:?} is not a percentile (use p50, p75, p90 or p99)"
            ));
        }
        let n: f64 = n
            .trim()
            .parse()
            .map_err(|_| format!("--{flag}: {n:?} is not a number"))?;
        m.insert(k.into(), json!(finite(flag, n)?));
    }
    Ok(Value::Object(m))
}

fn finite(flag: &str, n: f64) -> Result<f64, String> {
    if n.is_finite() && n >= 0.0 {
        Ok(n)
    } else {
        Err(format!("--{flag}: {n} must be a number ≥ 0"))
    }
}

fn prices(v: &str) -> Result<Value, String> {
    let mut m = Map::new();
    for part in v.split(',') {
        let (k, n) = part.split_once('=').ok_or_else(|| {
            format!("--max-price: expected prompt=USD,completion=USD, got {part:?}")
        })?;
        let k = k.trim();
        if !["prompt", "completion", "request", "image", "audio"].contains(&k) {
            return Err(format!(
                "--max-price: unknown key {k:?} (prompt, completion, request, image, audio)"
            ));
        }
        let n: f64 = n
            .trim()
            .parse()
            .map_err(|_| format!("--max-price: {n:?} is not a number"))?;
        m.insert(k.into(), json!(finite("max-price", n)?.to_string()));
    }
    Ok(Value::Object(m))
}

impl RoutingArgs {
    /// The `provider` object these flags ask for, or `None` when no flag was given.
    pub fn preferences(&self) -> Result<Option<ProviderPreferences>, String> {
        let mut m = Map::new();
        let list = |v: &[String]| json!(v.iter().map(|s| s.trim()).collect::<Vec<_>>());
        match (&self.sort, &self.partition) {
            (Some(by), None) => {
                m.insert("sort".into(), json!(by));
            }
            (Some(by), Some(p)) => {
                m.insert("sort".into(), json!({"by": by, "partition": p}));
            }
            (None, Some(_)) => return Err("--partition needs --sort".into()),
            (None, None) => {}
        }
        if let Some(v) = &self.max_latency {
            m.insert(
                "preferred_max_latency".into(),
                percentiles("max-latency", v)?,
            );
        }
        if let Some(v) = &self.min_throughput {
            m.insert(
                "preferred_min_throughput".into(),
                percentiles("min-throughput", v)?,
            );
        }
        if let Some(v) = &self.max_price {
            m.insert("max_price".into(), prices(v)?);
        }
        for (key, v) in [
            ("order", &self.order),
            ("only", &self.only),
            ("ignore", &self.ignore),
        ] {
            if !v.is_empty() {
                m.insert(key.into(), list(v));
            }
        }
        if !self.quantizations.is_empty() {
            m.insert("quantizations".into(), list(&self.quantizations));
        }
        if self.no_fallbacks {
            m.insert("allow_fallbacks".into(), json!(false));
        }
        if self.require_parameters {
            m.insert("require_parameters".into(), json!(true));
        }
        if let Some(d) = &self.data_collection {
            m.insert("data_collection".into(), json!(d));
        }
        if self.zdr {
            m.insert("zdr".into(), json!(true));
        }
        if self.distillable {
            m.insert("enforce_distillable_text".into(), json!(true));
        }
        if m.is_empty() {
            return Ok(None);
        }
        serde_json::from_value(Value::Object(m))
            .map(Some)
            .map_err(|e| format!("routing flags: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut RoutingArgs)) -> RoutingArgs {
        let mut a = RoutingArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn no_flags_no_provider_object() {
        assert_eq!(RoutingArgs::default().preferences(), Ok(None));
    }

    #[test]
    fn flags_become_the_exact_wire_object() {
        let a = args(|a| {
            a.sort = Some("throughput".into());
            a.partition = Some("none".into());
            a.max_latency = Some("p90=3".into());
            a.min_throughput = Some("50".into());
            a.max_price = Some("prompt=1,completion=2".into());
            a.only = vec!["basalt".into(), "fjord".into()];
            a.quantizations = vec!["fp8".into()];
            a.data_collection = Some("deny".into());
            a.zdr = true;
            a.distillable = true;
            a.no_fallbacks = true;
        });
        let p = a.preferences().unwrap().unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            json!({
                "sort": {"by": "throughput", "partition": "none"},
                "preferred_max_latency": {"p90": 3.0},
                "preferred_min_throughput": 50.0,
                "max_price": {"prompt": "1", "completion": "2"},
                "only": ["basalt", "fjord"],
                "quantizations": ["fp8"],
                "data_collection": "deny",
                "zdr": true,
                "enforce_distillable_text": true,
                "allow_fallbacks": false
            })
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let e = args(|a| a.max_latency = Some("p95=3".into()))
            .preferences()
            .unwrap_err();
        assert!(e.contains("--max-latency") && e.contains("p95"), "{e}");
        let e = args(|a| a.max_price = Some("prompt=-1".into()))
            .preferences()
            .unwrap_err();
        assert!(e.contains("--max-price"), "{e}");
        let e = args(|a| a.sort = Some("speed".into()))
            .preferences()
            .unwrap_err();
        assert!(e.contains("routing flags"), "{e}");
        let e = args(|a| a.quantizations = vec!["fp7".into()])
            .preferences()
            .unwrap_err();
        assert!(e.contains("fp7"), "{e}");
        assert!(
            args(|a| a.partition = Some("none".into()))
                .preferences()
                .is_err()
        );
    }
}
