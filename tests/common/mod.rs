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

/// A new, empty state directory for one run of the binary (routing health is saved there), so
/// tests never share health with each other or with the user.
#[allow(dead_code)] // not every test binary that includes this module runs the router
pub fn fresh_state_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("switchyard-state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}
