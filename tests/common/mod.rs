//! Fixtures shared by the integration tests.

/// Two providers of one model: a far cheaper one that always fails with a 5xx before the first
/// byte, and a healthy one. Weighted by 1/price² the failing one is usually tried first.
pub const DOWN_AND_UP_FLEET: &str = r#"
seed = 4
[[providers]]
name = "Downtown"
slug = "down"
[[providers.models]]
id = "m/chat"
prompt_price = 0.01
completion_price = 0.01
error_rate = 1.0
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 2000 }

[[providers]]
name = "Uptown"
slug = "up"
[[providers.models]]
id = "m/chat"
prompt_price = 0.3
completion_price = 0.3
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 2000 }
"#;
