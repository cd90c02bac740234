//! API error bodies, decoded leniently: OpenRouter has two generations of error metadata, the
//! availability shape, and proxies in front of any server may answer with HTML or plain text.

use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// An error reported by the API, before the stream (with an HTTP status) or inside it (a chunk).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiError {
    /// The HTTP status, when the error came as a response status.
    pub status: Option<u16>,
    /// `error.code` as sent (usually equal to the status).
    pub code: Option<i64>,
    /// Human-readable message.
    pub message: String,
    /// `metadata.error_type` (current generation) or `error.error_type` (availability shape).
    pub error_type: Option<String>,
    /// `metadata.provider_name` (legacy generation) — which upstream failed.
    pub provider_name: Option<String>,
    /// `metadata.raw` (legacy generation): the upstream's own words.
    pub raw: Option<String>,
    /// `metadata.provider_code` (current generation).
    pub provider_code: Option<String>,
    /// The whole `metadata` object, kept for display and export.
    pub metadata: Option<Value>,
    /// `error.availability`, when present.
    pub availability: Option<Value>,
    /// From the `Retry-After` header (or `availability.retry_after`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// When a free promotion has ended (`availability.code = "free_variant_ended"`), the paid
    /// model to use instead: the first of `fallback_models`, else the id without `:free`.
    pub fn free_variant_ended(&self, asked: &str) -> Option<String> {
        let a = self.availability.as_ref()?;
        if a.get("code").and_then(Value::as_str) != Some("free_variant_ended") {
            return None;
        }
        a.get("fallback_models")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find_map(Value::as_str))
            .map(str::to_string)
            .or_else(|| asked.strip_suffix(":free").map(str::to_string))
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorObject,
}

/// The `error` object as it appears in bodies and in stream chunks.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ErrorObject {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    availability: Option<Value>,
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ErrorObject {
    /// Converts into an [`ApiError`], with the HTTP status when one is known.
    pub fn into_api_error(self, status: Option<u16>) -> ApiError {
        let code = self.code.as_ref().and_then(|c| match c {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        // OpenAI-compatible servers name the error with a string code (`context_length_exceeded`).
        let code_name = self.code.as_ref().and_then(|c| match c {
            Value::String(s) if s.parse::<i64>().is_err() && !s.trim().is_empty() => {
                Some(s.clone())
            }
            _ => None,
        });
        let md = self.metadata.as_ref();
        let get = |k: &str| md.and_then(|m| m.get(k)).and_then(value_str);
        let retry_after = self
            .availability
            .as_ref()
            .and_then(|a| a.get("retry_after"))
            .and_then(Value::as_f64)
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        ApiError {
            status: status.or(self.http_status),
            code,
            message: self
                .message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "(no message)".into()),
            error_type: get("error_type").or(self.error_type).or(code_name),
            provider_name: get("provider_name"),
            raw: get("raw"),
            provider_code: get("provider_code"),
            metadata: self.metadata,
            availability: self.availability,
            retry_after,
        }
    }
}

impl ApiError {
    /// Decodes an error response body; a body that is not the JSON error shape becomes the message.
    pub fn from_body(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let mut err = match serde_json::from_slice::<Envelope>(body) {
            Ok(env) => env.error.into_api_error(Some(status)),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let message = if text.is_empty() {
                    canonical_reason(status).to_string()
                } else {
                    truncate_chars(text, 500)
                };
                ApiError {
                    status: Some(status),
                    message,
                    ..Default::default()
                }
            }
        };
        if retry_after.is_some() {
            err.retry_after = retry_after;
        }
        err
    }

    /// The status to classify by: the HTTP status, else the in-body code.
    pub fn effective_status(&self) -> Option<u16> {
        self.status
            .or_else(|| self.code.and_then(|c| u16::try_from(c).ok()))
    }

    /// A short hint about what the user can do, by status.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.effective_status()? {
            401 => "check the API key (bad, disabled or expired)",
            402 => "add credits to the account or key",
            403 => "blocked by permissions, a guardrail or moderation",
            404 => "no endpoint left after filtering, or unknown model",
            408 | 524 => "the request timed out upstream; retry",
            413 => "the request is too large",
            429 => "rate limited; wait and retry",
            500..=599 => "the provider failed; retry or pick another model",
            _ => return None,
        })
    }
}

/// Parses a `Retry-After` header value (delta-seconds; HTTP dates are not worth a dependency).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Negative, NaN or absurdly large values are no Retry-After at all.
    v.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

fn canonical_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "HTTP error",
    }
}

/// Cuts a string to at most `max` characters, marking the cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((idx, _)) => format!("{}…", &s[..idx]),
        None => s.to_string(),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.effective_status() {
            Some(s) => write!(f, "{s}: {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(p) = &self.provider_name {
            write!(f, " (provider {p})")?;
        }
        if let Some(raw) = &self.raw {
            write!(f, " — {}", truncate_chars(raw, 200))?;
        }
        if let Some(t) = &self.error_type {
            write!(f, " [{t}]")?;
        }
        if let Some(ra) = self.retry_after {
            write!(f, "; retry after {}s", ra.as_secs_f64().ceil() as u64)?;
        }
        // These are about our key or account, not the provider's health: say what to fix.
        match self.effective_status() {
            Some(401) => write!(f, " — check the API key")?,
            Some(402) => write!(f, " — the account is out of credits")?,
            Some(403) if self.error_type.is_none() => {
                write!(f, " — the key may not be allowed to use this model")?
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_metadata_generation() {
        let body = br#"{"error":{"code":429,"message":"Provider returned error","metadata":{"provider_name":"Google","raw":"google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream"}},"user_id":"user_2"}"#;
        let e = ApiError::from_body(429, body, Some(Duration::from_secs(7)));
        assert_eq!(e.status, Some(429));
        assert_eq!(e.code, Some(429));
        assert_eq!(e.provider_name.as_deref(), Some("Google"));
        assert!(e.raw.as_deref().unwrap().contains("rate-limited"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        let shown = e.to_string();
        assert!(shown.contains("429") && shown.contains("Google") && shown.contains("7s"));
    }

    #[test]
    fn current_metadata_generation() {
        let body = br#"{"error":{"code":502,"message":"Upstream error","metadata":{"error_type":"provider_unavailable","provider_code":"E42"}}}"#;
        let e = ApiError::from_body(502, body, None);
        assert_eq!(e.error_type.as_deref(), Some("provider_unavailable"));
        assert_eq!(e.provider_code.as_deref(), Some("E42"));
        assert_eq!(e.provider_name, None);
    }

    #[test]
    fn absurd_retry_after_values_are_ignored_not_fatal() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 2.5 "),
            Some(Duration::from_millis(2500))
        );
        for bad in ["1e20", "-1", "NaN", "inf", "soon"] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
        let body = br#"{"error":{"message":"busy","availability":{"retry_after":1e300}}}"#;
        assert_eq!(ApiError::from_body(503, body, None).retry_after, None);
    }

    #[test]
    fn key_and_account_errors_say_what_to_fix() {
        let e = ApiError::from_body(
            401,
            br#"{"error":{"code":401,"message":"No auth credentials found"}}"#,
            None,
        );
        assert!(e.to_string().ends_with("check the API key"), "{e}");
        let e = ApiError::from_body(
            402,
            br#"{"error":{"code":402,"message":"Insufficient credits"}}"#,
            None,
        );
        assert!(e.to_string().contains("out of credits"), "{e}");
    }

    #[test]
    fn openai_string_code_names_the_error() {
        let body = br#"{"error":{"message":"This model's maximum context length is 4096 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        let e = ApiError::from_body(400, body, None);
        assert_eq!(e.code, None);
        assert_eq!(e.error_type.as_deref(), Some("context_length_exceeded"));
        // A numeric string code stays a code.
        let e = ApiError::from_body(400, br#"{"error":{"message":"x","code":"400"}}"#, None);
        assert_eq!((e.code, e.error_type), (Some(400), None));
    }

    #[test]
    fn availability_shape_without_code() {
        let body = br#"{"error":{"message":"No endpoints","error_type":"not_found","http_status":404,"availability":{"code":"no_endpoints","retryable":false,"retry_after":3}}}"#;
        let e = ApiError::from_body(404, body, None);
        assert_eq!(e.code, None);
        assert_eq!(e.error_type.as_deref(), Some("not_found"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert!(e.availability.is_some());
    }

    #[test]
    fn non_json_body_becomes_message() {
        let e = ApiError::from_body(502, b"<html>bad gateway</html>", None);
        assert_eq!(e.message, "<html>bad gateway</html>");
        let e = ApiError::from_body(503, b"", None);
        assert_eq!(e.message, "Service Unavailable");
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }
}
