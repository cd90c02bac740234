//! Fixtures shared by the integration tests.

// Each test binary includes this module and uses only some of it.
#![allow(dead_code)]

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
pub fn fresh_state_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let p = std::env::temp_dir().join(format!("switchyard-state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// A cheap endpoint that cuts, one that refuses prefills, and a pricier one that continues them.
pub const CONTINUING: &str = r#"
seed = 9
time_scale = 0.0
[[providers]]
name = "Cutter"
slug = "cutter"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.1
[[providers.models.faults]]
kind = "cut"
after_tokens = 25

[[providers]]
name = "Strict"
slug = "strict"
[[providers.models]]
id = "m/chat"
prompt_price = 0.5
completion_price = 0.5

[[providers]]
name = "Prefiller"
slug = "prefiller"
[[providers.models]]
id = "m/chat"
prompt_price = 1.0
completion_price = 1.0
assistant_prefill = true
"#;

/// A fleet from `toml` on loopback, its per-provider endpoints as a registry, and a routing
/// actor over them.
pub struct RoutedFleet {
    /// The running fleet (dropping it stops the server).
    pub fleet: switchyard::fleet::FleetHandle,
    /// Its endpoints.
    pub registry: switchyard::routing::EndpointRegistry,
    /// The actor.
    pub router: switchyard::routing::actor::RouterHandle,
}

/// Starts a [`RoutedFleet`].
pub async fn routed_fleet(
    toml: &str,
    health: switchyard::routing::HealthConfig,
    seed: u64,
) -> RoutedFleet {
    let spec = switchyard::fleet::FleetSpec::from_toml(toml, "test fleet")
        .unwrap_or_else(|e| panic!("{e}"));
    let fleet = switchyard::fleet::start(spec, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the fleet starts");
    let registry = fleet.registry();
    let router = switchyard::routing::actor::spawn(registry.clone(), health, seed);
    RoutedFleet {
        fleet,
        registry,
        router,
    }
}

/// Reads one HTTP/1.1 request from a test server's connection: its request line and body.
pub fn read_request(s: &std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use std::io::{BufRead, Read};
    let mut r = std::io::BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some((line, body))
}

/// Writes a whole response and closes the connection.
pub fn reply(s: &mut std::net::TcpStream, status: &str, content_type: &str, body: &str) {
    use std::io::Write;
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A config directory (for `XDG_CONFIG_HOME`) holding `switchyard/config.toml` with `toml`.
pub fn config_home(toml: &str) -> std::path::PathBuf {
    let home = fresh_state_dir();
    std::fs::create_dir_all(home.join("switchyard")).unwrap();
    std::fs::write(home.join("switchyard/config.toml"), toml).unwrap();
    home
}
