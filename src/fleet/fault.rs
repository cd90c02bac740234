//! Per-endpoint faults: what can go wrong (outage, 5xx burst, 429, latency, stall, cut, malformed
//! event, missing `[DONE]`, reset, hang, schema-breaking JSON), when (a window on the fleet clock) and how often
//! (a probability drawn from the fleet's seeded RNG).
//!
//! Faults come from the spec (`[[providers.models.faults]]`) or are injected at run time
//! (`POST /control/faults`, [`crate::fleet::FleetHandle::inject`]).

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Every fault kind's name, as written in TOML and JSON.
pub const KINDS: [&str; 12] = [
    "outage",
    "errors",
    "rate_limit",
    "latency",
    "stall",
    "cut",
    "malformed",
    "no_done",
    "reset",
    "hang",
    "content_policy",
    "break_schema",
];

/// Largest `extra_ttft_ms`, like the spec's `ttft_ms` bound.
const MAX_EXTRA_TTFT_MS: f64 = 600_000.0;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Every request fails with 503 before the first byte.
    Outage,
    /// Requests fail with this 5xx status before the first byte.
    Errors {
        /// 500..=599 (default 502).
        status: u16,
    },
    /// Requests are rejected with 429 and `Retry-After`.
    RateLimit {
        /// `Retry-After` seconds; `None` uses the endpoint's `retry_after_secs`.
        retry_after_secs: Option<u64>,
    },
    /// The first token comes this much later (simulated milliseconds).
    Latency {
        /// Added to the sampled time to first token.
        extra_ttft_ms: f64,
    },
    /// After this many content tokens the stream goes silent and the connection stays open.
    Stall {
        /// Content tokens sent before the stall.
        after_tokens: u64,
    },
    /// After this many content tokens the connection closes: no finish chunk, no `[DONE]`.
    Cut {
        /// Content tokens sent before the cut.
        after_tokens: u64,
    },
    /// After this many content tokens one `data:` event that is not JSON is sent, then the
    /// stream continues normally.
    Malformed {
        /// Content tokens sent before the bad event.
        after_tokens: u64,
    },
    /// Everything normal except that `data: [DONE]` is never sent.
    NoDone,
    /// The TCP connection is reset before any response byte.
    Reset,
    /// The request is read and never answered.
    Hang,
    /// The request is refused by moderation: 400 `content_policy_violation`, never failed over
    /// (another provider would refuse the same prompt).
    ContentPolicy,
    /// A structured-output answer that breaks its schema (a required field of the wrong
    /// type), so the invalid path can be seen offline.
    BreakSchema,
}

impl FaultKind {
    /// Whether it ends the request before the first response byte (the first such fault to
    /// hit a request decides it).
    pub fn fails_before(&self) -> bool {
        matches!(
            self,
            FaultKind::Outage
                | FaultKind::Errors { .. }
                | FaultKind::RateLimit { .. }
                | FaultKind::Reset
                | FaultKind::Hang
                | FaultKind::ContentPolicy
        )
    }

    /// The kind's name as written in TOML and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Outage => "outage",
            FaultKind::Errors { .. } => "errors",
            FaultKind::RateLimit { .. } => "rate_limit",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Stall { .. } => "stall",
            FaultKind::Cut { .. } => "cut",
            FaultKind::Malformed { .. } => "malformed",
            FaultKind::NoDone => "no_done",
            FaultKind::Reset => "reset",
            FaultKind::Hang => "hang",
            FaultKind::ContentPolicy => "content_policy",
            FaultKind::BreakSchema => "break_schema",
        }
    }
}

/// One scheduled fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// Start, in seconds since the fleet started (`None` = from the start).
    pub from_s: Option<f64>,
    /// End (exclusive), in seconds since the fleet started (`None` = forever).
    pub until_s: Option<f64>,
    /// Chance (0..1) that a request inside the window is hit.
    pub probability: f64,
    /// Hits at most this many requests, then stays quiet (`None` = no limit): "one 500" is
    /// `times = 1`.
    pub times: Option<u64>,
}

impl Fault {
    /// An always-on fault of this kind.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            from_s: None,
            until_s: None,
            probability: 1.0,
            times: None,
        }
    }

    /// Whether the window contains `now_s` (from inclusive, until exclusive).
    pub fn active_at(&self, now_s: f64) -> bool {
        self.from_s.is_none_or(|f| now_s >= f) && self.until_s.is_none_or(|u| now_s < u)
    }

    /// Range checks shared by the spec, the control route and the Rust API.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        for (field, v) in [("from_s", self.from_s), ("until_s", self.until_s)] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err((field, format!("must be a number of seconds ≥ 0, got {v}")));
            }
        }
        if let (Some(f), Some(u)) = (self.from_s, self.until_s)
            && u < f
        {
            return Err(("until_s", format!("until_s ({u}) is before from_s ({f})")));
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err((
                "probability",
                format!("must be between 0 and 1, got {}", self.probability),
            ));
        }
        match self.kind {
            FaultKind::Errors { status } if !(500..=599).contains(&status) => {
                Err(("status", format!("must be a 5xx status, got {status}")))
            }
            FaultKind::Latency { extra_ttft_ms }
                if !(extra_ttft_ms.is_finite()
                    && (0.0..=MAX_EXTRA_TTFT_MS).contains(&extra_ttft_ms)) =>
            {
                Err((
                    "extra_ttft_ms",
                    format!("must be between 0 and {MAX_EXTRA_TTFT_MS}, got {extra_ttft_ms}"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The fault as JSON, in the same shape as it is written.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "kind": self.kind.name() });
        match self.kind {
            FaultKind::Errors { status } => v["status"] = json!(status),
            FaultKind::RateLimit { retry_after_secs } => {
                v["retry_after_secs"] = json!(retry_after_secs)
            }
            FaultKind::Latency { extra_ttft_ms } => v["extra_ttft_ms"] = json!(extra_ttft_ms),
            FaultKind::Stall { after_tokens }
            | FaultKind::Cut { after_tokens }
            | FaultKind::Malformed { after_tokens } => v["after_tokens"] = json!(after_tokens),
            FaultKind::Outage
            | FaultKind::NoDone
            | FaultKind::Reset
            | FaultKind::Hang
            | FaultKind::ContentPolicy
            | FaultKind::BreakSchema => {}
        }
        v["from_s"] = json!(self.from_s);
        v["until_s"] = json!(self.until_s);
        v["probability"] = json!(self.probability);
        v["times"] = json!(self.times);
        v
    }
}

/// A fault added at run time to one provider (one model, or all of its models).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Provider slug.
    pub provider: String,
    /// Model id (or canonical slug); `None` = every model of the provider.
    pub model: Option<String>,
    /// The fault; `from_s: None` starts it now.
    pub fault: Fault,
    /// How long it lasts from its start, in seconds (`None` = until `until_s`, or forever).
    pub duration_s: Option<f64>,
}

impl FaultSpec {
    /// An always-on fault on every model of `provider`, starting now.
    pub fn new(provider: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            provider: provider.into(),
            model: None,
            fault: Fault::new(kind),
            duration_s: None,
        }
    }

    /// Limits the fault to one model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Ends the fault `secs` seconds after it starts.
    pub fn for_secs(mut self, secs: f64) -> Self {
        self.duration_s = Some(secs);
        self
    }

    /// Hits at most `n` requests.
    pub fn times(mut self, n: u64) -> Self {
        self.fault.times = Some(n);
        self
    }

    /// Hits each request with chance `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.fault.probability = p;
        self
    }

    /// Parses the control route's body: `{"provider", "model"?, "kind", …fault fields,
    /// "duration_s"?}`. Errors name the field.
    pub(crate) fn from_json(body: &[u8]) -> Result<FaultSpec, (String, String)> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ("body".to_string(), format!("not valid JSON: {e}")))?;
        let Value::Object(mut map) = v else {
            return Err(("body".into(), "must be a JSON object".into()));
        };
        let provider = match map.remove("provider") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(("provider".into(), "must be a string".into())),
            None => return Err(("provider".into(), "is required".into())),
        };
        let model = match map.remove("model") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(("model".into(), "must be a string".into())),
        };
        let duration_s = match map.remove("duration_s") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .ok_or_else(|| ("duration_s".to_string(), "must be a number".to_string()))?,
            ),
        };
        let fields: FaultFields = serde_json::from_value(Value::Object(Map::from_iter(map)))
            .map_err(|e| ("fault".to_string(), e.to_string()))?;
        let fault = fields.build().map_err(|(f, m)| (f.to_string(), m))?;
        Ok(FaultSpec {
            provider,
            model,
            fault,
            duration_s,
        })
    }
}

/// The fields of one fault as written (TOML table or JSON object), before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultFields {
    pub kind: Option<String>,
    pub status: Option<u16>,
    pub retry_after_secs: Option<u64>,
    pub extra_ttft_ms: Option<f64>,
    pub after_tokens: Option<u64>,
    pub from_s: Option<f64>,
    pub until_s: Option<f64>,
    pub probability: Option<f64>,
    pub times: Option<u64>,
}

impl FaultFields {
    /// Validates the fields; the error names the offending field.
    pub(crate) fn build(&self) -> Result<Fault, (&'static str, String)> {
        let Some(name) = self.kind.as_deref() else {
            return Err(("kind", format!("is required (one of {})", KINDS.join(", "))));
        };
        // Kind-specific fields: (field, present, the kinds it belongs to).
        let specific: [(&'static str, bool, &[&str]); 4] = [
            ("status", self.status.is_some(), &["errors"]),
            (
                "retry_after_secs",
                self.retry_after_secs.is_some(),
                &["rate_limit"],
            ),
            ("extra_ttft_ms", self.extra_ttft_ms.is_some(), &["latency"]),
            (
                "after_tokens",
                self.after_tokens.is_some(),
                &["stall", "cut", "malformed"],
            ),
        ];
        if KINDS.contains(&name) {
            for (field, present, kinds) in specific {
                if present && !kinds.contains(&name) {
                    return Err((
                        field,
                        format!(
                            "does not apply to kind `{name}` (only to {})",
                            kinds.join(", ")
                        ),
                    ));
                }
            }
        }
        let after = |kind: &str| {
            self.after_tokens.ok_or((
                "after_tokens",
                format!("is required for kind `{kind}` (content tokens sent before the fault)"),
            ))
        };
        let kind = match name {
            "outage" => FaultKind::Outage,
            "errors" => FaultKind::Errors {
                status: self.status.unwrap_or(502),
            },
            "rate_limit" => FaultKind::RateLimit {
                retry_after_secs: self.retry_after_secs,
            },
            "latency" => FaultKind::Latency {
                extra_ttft_ms: self.extra_ttft_ms.ok_or((
                    "extra_ttft_ms",
                    "is required for kind `latency`".to_string(),
                ))?,
            },
            "stall" => FaultKind::Stall {
                after_tokens: after(name)?,
            },
            "cut" => FaultKind::Cut {
                after_tokens: after(name)?,
            },
            "malformed" => FaultKind::Malformed {
                after_tokens: after(name)?,
            },
            "no_done" => FaultKind::NoDone,
            "reset" => FaultKind::Reset,
            "hang" => FaultKind::Hang,
            "content_policy" => FaultKind::ContentPolicy,
            "break_schema" => FaultKind::BreakSchema,
            other => {
                return Err((
                    "kind",
                    format!(
                        "unknown fault kind `{other}` (expected one of {})",
                        KINDS.join(", ")
                    ),
                ));
            }
        };
        let fault = Fault {
            kind,
            from_s: self.from_s,
            until_s: self.until_s,
            probability: self.probability.unwrap_or(1.0),
            times: self.times,
        };
        fault.check()?;
        Ok(fault)
    }
}

/// What the faults hitting one request do before the first response byte.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Before {
    /// Reset the connection.
    Reset,
    /// Never answer.
    Hang,
    /// Refuse the prompt (moderation).
    Refuse,
    /// Fail with this status, upstream message and `Retry-After`.
    Fail {
        status: u16,
        raw: String,
        retry_after: Option<u64>,
    },
}

/// What the faults hitting one request do once it is being answered.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct During {
    pub extra_ttft_ms: f64,
    pub stall_after: Option<u64>,
    pub cut_after: Option<u64>,
    pub malformed_after: Option<u64>,
    pub no_done: bool,
    pub break_schema: bool,
}

/// The combined effect of every fault that hit one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Effects {
    /// The first pre-first-byte fault that fired, if any.
    pub before: Option<Before>,
    /// The rest.
    pub during: During,
}

impl Effects {
    /// Adds a fault that fired; `retry_after_default` is the endpoint's `retry_after_secs`.
    pub(crate) fn add(&mut self, kind: FaultKind, retry_after_default: u64, model: &str) {
        let min = |cur: Option<u64>, n: u64| Some(cur.map_or(n, |c| c.min(n)));
        let before = match kind {
            FaultKind::Outage => Some(Before::Fail {
                status: 503,
                raw: "Service Unavailable: the provider is down (simulated outage)".into(),
                retry_after: None,
            }),
            FaultKind::Errors { status } => Some(Before::Fail {
                status,
                raw: match status {
                    502 => "upstream connect error or disconnect/reset before headers. reset reason: connection termination".into(),
                    503 => "The model is overloaded. Please try again later.".into(),
                    s => format!("Internal server error (simulated {s})"),
                },
                retry_after: None,
            }),
            FaultKind::RateLimit { retry_after_secs } => Some(Before::Fail {
                status: 429,
                raw: format!(
                    "{model} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits."
                ),
                retry_after: Some(retry_after_secs.unwrap_or(retry_after_default)),
            }),
            FaultKind::Reset => Some(Before::Reset),
            FaultKind::Hang => Some(Before::Hang),
            FaultKind::ContentPolicy => Some(Before::Refuse),
            FaultKind::Latency { extra_ttft_ms } => {
                self.during.extra_ttft_ms += extra_ttft_ms;
                None
            }
            FaultKind::Stall { after_tokens } => {
                self.during.stall_after = min(self.during.stall_after, after_tokens);
                None
            }
            FaultKind::Cut { after_tokens } => {
                self.during.cut_after = min(self.during.cut_after, after_tokens);
                None
            }
            FaultKind::Malformed { after_tokens } => {
                self.during.malformed_after = min(self.during.malformed_after, after_tokens);
                None
            }
            FaultKind::NoDone => {
                self.during.no_done = true;
                None
            }
            FaultKind::BreakSchema => {
                self.during.break_schema = true;
                None
            }
        };
        if self.before.is_none() {
            self.before = before;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(v: Value) -> Result<Fault, (&'static str, String)> {
        serde_json::from_value::<FaultFields>(v).unwrap().build()
    }

    #[test]
    fn fields_are_checked_per_kind() {
        assert_eq!(
            build(json!({"kind": "errors"})).unwrap().kind,
            FaultKind::Errors { status: 502 }
        );
        assert_eq!(build(json!({"kind": "boom"})).unwrap_err().0, "kind");
        assert_eq!(build(json!({"kind": "cut"})).unwrap_err().0, "after_tokens");
        assert_eq!(
            build(json!({"kind": "outage", "after_tokens": 3}))
                .unwrap_err()
                .0,
            "after_tokens"
        );
        assert_eq!(
            build(json!({"kind": "errors", "status": 404}))
                .unwrap_err()
                .0,
            "status"
        );
        assert_eq!(
            build(json!({"kind": "outage", "from_s": -1}))
                .unwrap_err()
                .0,
            "from_s"
        );
        assert_eq!(
            build(json!({"kind": "outage", "from_s": 5, "until_s": 2}))
                .unwrap_err()
                .0,
            "until_s"
        );
        assert_eq!(
            build(json!({"kind": "outage", "probability": 1.5}))
                .unwrap_err()
                .0,
            "probability"
        );
        assert_eq!(
            build(json!({"kind": "latency"})).unwrap_err().0,
            "extra_ttft_ms"
        );
    }

    #[test]
    fn window_is_half_open() {
        let f = Fault {
            from_s: Some(10.0),
            until_s: Some(20.0),
            ..Fault::new(FaultKind::Outage)
        };
        assert!(!f.active_at(9.999));
        assert!(f.active_at(10.0));
        assert!(f.active_at(19.999));
        assert!(!f.active_at(20.0));
        assert!(Fault::new(FaultKind::Reset).active_at(1e9));
    }

    #[test]
    fn control_body_parses_and_names_bad_fields() {
        let s = FaultSpec::from_json(
            br#"{"provider":"a","kind":"cut","after_tokens":3,"duration_s":2}"#,
        )
        .unwrap();
        assert_eq!(s.fault.kind, FaultKind::Cut { after_tokens: 3 });
        assert_eq!(s.duration_s, Some(2.0));
        assert!(s.model.is_none());
        assert_eq!(
            FaultSpec::from_json(br#"{"kind":"cut"}"#).unwrap_err().0,
            "provider"
        );
        let e =
            FaultSpec::from_json(br#"{"provider":"a","kind":"outage","colour":1}"#).unwrap_err();
        assert!(e.1.contains("colour"), "{e:?}");
    }
}
