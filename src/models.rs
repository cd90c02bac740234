//! `switchyard models` and `switchyard sim`: the catalog on stdout, and the fleet as a server.

use crate::cli::{ModelsArgs, SimArgs, SourceArgs};
use crate::client::HttpClient;
use crate::fleet::{self, FleetSpec};
use crate::source::Source;
use crate::wire::catalog::{format_price_per_million, fuzzy_filter};
use std::io::Write;

/// Prints the source's catalog; returns the exit code.
pub async fn list(src: &Source, args: &ModelsArgs) -> i32 {
    let client = match HttpClient::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 1;
        }
    };
    let listed = match src.local_catalog() {
        Some(m) => Ok(m),
        None => client.list_models(&src.endpoint).await,
    };
    let models = match listed {
        Ok(m) => m,
        Err(e) => {
            eprintln!("switchyard: cannot list models: {e}");
            return 1;
        }
    };
    let mut shown = match &args.query {
        Some(q) => fuzzy_filter(&models, q),
        None => models.iter().collect(),
    };
    if args.free {
        shown.retain(|m| m.is_free());
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&shown).expect("models serialize")
        );
    } else {
        for m in shown {
            let ctx = m
                .context_length
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into());
            // A catalog is server text: on a terminal its control sequences are made inert.
            let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let safe = |s: &str| {
                if tty {
                    crate::safe_text::neutralise(s).into_owned()
                } else {
                    s.to_string()
                }
            };
            let _ = writeln!(
                out,
                "{:<48} {:>18} {:>9}  {}",
                safe(&m.id),
                format_price_per_million(&m.pricing),
                ctx,
                safe(m.name.as_deref().unwrap_or(""))
            );
        }
    }
    0
}

/// The first `n` model ids of the source's catalog (for servers with no configured panes).
pub async fn first_models(src: &Source, n: usize) -> Vec<String> {
    let Ok(client) = HttpClient::new() else {
        return Vec::new();
    };
    match client.list_models(&src.endpoint).await {
        Ok(models) => models.into_iter().take(n).map(|m| m.id).collect(),
        Err(e) => {
            eprintln!("switchyard: cannot list the server's models: {e}");
            Vec::new()
        }
    }
}

/// Runs the simulated fleet until Ctrl+C; returns the exit code.
pub async fn serve_fleet(src: &SourceArgs, args: &SimArgs) -> i32 {
    let spec = match &src.fleet {
        Some(p) => match FleetSpec::load(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("switchyard: {e}");
                return 2;
            }
        },
        None => FleetSpec::builtin(),
    };
    let spec = match args.time_scale {
        Some(s) if s.is_finite() && (0.0..=1000.0).contains(&s) => spec.with_time_scale(s),
        Some(s) => {
            eprintln!("switchyard: --time-scale must be a number from 0 to 1000, got {s}");
            return 2;
        }
        None => spec,
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let handle = match fleet::start(spec, addr).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("switchyard: cannot start the fleet on {addr}: {e}");
            return 1;
        }
    };
    // A closed stdout (e.g. a parent that read only the first line) must not stop the fleet.
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "simulated fleet listening; OpenRouter-style API: {}",
        handle.base_url()
    );
    for p in handle.spec().providers.iter().map(|p| p.slug.clone()) {
        if let Some(url) = handle.provider_base_url(&p) {
            let _ = writeln!(out, "  provider {p}: {url}");
        }
    }
    let _ = writeln!(
        out,
        "Use it as an OpenAI-compatible server: switchyard --base-url http://{}/v1",
        handle.addr()
    );
    let _ = writeln!(out, "Ctrl+C stops it.");
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown();
    0
}
