//! The chaos soak, shared by the short test (`tests/chaos_soak.rs`) and the long bench
//! (`benches/chaos.rs`): the simulated fleet under a seeded random fault schedule, routed by
//! Switchyard's own router through the one stream runtime, eight requests at a time (eight
//! panes). Each round steps the fleet clock to the next stretch of the schedule, so a soak
//! covers minutes of faults in seconds of waiting.

#![allow(dead_code)]

use clap::Parser;
use std::time::Duration;
use switchyard::runtime::{JobEvent, JobOptions, Runtime};
use tokio::sync::mpsc;

/// Four models, three providers each, fast enough that a round is quick.
pub const FLEET: &str = r#"
seed = 5
time_scale = 1.0
#PROVIDERS
"#;

fn fleet_toml() -> String {
    let mut s = String::new();
    for (p, slug) in [("Alpha", "alpha"), ("Beta", "beta"), ("Gamma", "gamma")] {
        s.push_str(&format!(
            "[[providers]]\nname = \"{p}\"\nslug = \"{slug}\"\n"
        ));
        for m in MODELS {
            s.push_str(&format!(
                "[[providers.models]]\nid = \"{m}\"\nprompt_price = 1.0\ncompletion_price = 2.0\n\
                 ttft_ms = {{ mean = 20 }}\ntokens_per_sec = {{ mean = 3000 }}\nanswer_tokens = 120\n"
            ));
        }
    }
    FLEET.replace("#PROVIDERS", &s)
}

/// The soak's models.
pub const MODELS: [&str; 4] = ["chaos/a", "chaos/b", "chaos/c", "chaos/d"];
/// Short timeouts: a stalled or hung endpoint is left within a second.
const CONFIG: &str = r#"
[routing]
first_token_timeout_s = 1
stall_timeout_s = 1
headers_timeout_s = 1
retry_after_cap_s = 1
backoff_base_ms = 20
max_attempts = 6
"#;

/// What a soak saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests that ended.
    pub ended: usize,
    /// Of them, answered in full.
    pub answered: usize,
    /// Attempts beyond the first of each request: the faults were felt.
    pub retries: usize,
    /// Successes whose text was not the whole answer (must stay 0).
    pub truncated: Vec<String>,
    /// File descriptors open before and after.
    pub fds: (usize, usize),
    /// Tokio tasks alive before and after.
    pub tasks: (usize, usize),
    /// Resident memory after the second round and after the last, in MB.
    pub rss_mb: (f64, f64),
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// A soak harness: the fleet, its source and runtime.
pub struct Soak {
    dir: std::path::PathBuf,
    source: switchyard::source::Source,
    runtime: Option<Runtime>,
    spec: switchyard::fleet::FleetSpec,
    next_id: u64,
    /// Fleet seconds per round.
    pub step_s: f64,
    round: u32,
    pub report: Report,
}

impl Soak {
    /// Starts the fleet with the schedule of `seed` over `rounds` rounds.
    pub async fn start(seed: u64, rounds: u32) -> Soak {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-chaos-{}-{seed}-{}",
            std::process::id(),
            rounds
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fleet = dir.join("fleet.toml");
        std::fs::write(&fleet, fleet_toml()).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(&config, CONFIG).unwrap();
        // SAFETY of the environment: the state directory is this soak's own.
        unsafe { std::env::set_var("SWITCHYARD_STATE_DIR", dir.join("state")) };
        let cli = switchyard::cli::Cli::parse_from([
            "switchyard",
            "--config",
            config.to_str().unwrap(),
            "--fleet",
            fleet.to_str().unwrap(),
            "--route-locally",
        ]);
        let cfg = switchyard::source::load_config(&cli.source).unwrap();
        let named: Vec<String> = MODELS.iter().map(|m| m.to_string()).collect();
        let fds0 = open_fds();
        let source = switchyard::source::resolve(&cli.source, &cfg, &named)
            .await
            .unwrap();
        let spec = switchyard::fleet::FleetSpec::from_toml(&fleet_toml(), "soak").unwrap();
        let step_s = 5.0;
        let handle = source.fleet.as_ref().expect("the simulated fleet");
        for f in switchyard::fleet::chaos::schedule(
            seed,
            &["alpha", "beta", "gamma"],
            step_s * rounds as f64,
        ) {
            handle.inject(f).unwrap();
        }
        let runtime = Runtime::new(&source).unwrap();
        let tasks0 = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        Soak {
            dir,
            source,
            runtime: Some(runtime),
            spec,
            next_id: 0,
            step_s,
            round: 0,
            report: Report {
                fds: (fds0, 0),
                tasks: (tasks0, 0),
                ..Report::default()
            },
        }
    }

    /// One round: the fleet clock moves to the round's stretch of the schedule, eight requests
    /// run at once, and every one must end within `limit`.
    pub async fn round(&mut self, limit: Duration) {
        let fleet = self.source.fleet.as_ref().unwrap();
        let target = Duration::from_secs_f64(self.step_s * self.round as f64);
        if let Some(ahead) = target.checked_sub(fleet.clock()) {
            fleet.advance_clock(ahead);
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let rt = self.runtime.as_mut().unwrap();
        let mut prompts = Vec::new();
        for pane in 0..8 {
            let model = MODELS[pane % MODELS.len()];
            let prompt = format!("soak round {} pane {pane}", self.round);
            self.next_id += 1;
            let id = self.next_id;
            let tx = tx.clone();
            let req = switchyard::settings::build(model, &Default::default(), [], &prompt);
            let mut attempts = 0usize;
            rt.spawn(
                id,
                req,
                JobOptions {
                    screen: true,
                    ..Default::default()
                },
                move |ev| match ev {
                    JobEvent::Attempt { .. } => attempts += 1,
                    JobEvent::Ended(a) => {
                        let _ = tx.send((id, a, attempts.saturating_sub(1)));
                    }
                    _ => {}
                },
            );
            prompts.push((id, model, prompt));
        }
        drop(tx);
        let mut ended = 0;
        let waited = tokio::time::timeout(limit, async {
            while let Some((id, answer, retries)) = rx.recv().await {
                ended += 1;
                self.report.retries += retries;
                let (_, model, prompt) = prompts.iter().find(|p| p.0 == id).unwrap();
                if answer.result.as_deref() == Ok("stop") {
                    self.report.answered += 1;
                    let want = self.spec.answer("alpha", model, prompt).unwrap();
                    if answer.text != want {
                        self.report.truncated.push(format!(
                            "round {} {model}: {} of {} bytes",
                            self.round,
                            answer.text.len(),
                            want.len()
                        ));
                    }
                }
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "round {}: {} of 8 requests ended within {limit:?}",
            self.round,
            ended
        );
        self.report.ended += ended;
        self.round += 1;
        if self.round == 2 {
            self.report.rss_mb.0 = rss_mb();
        }
    }

    /// Stops the runtime and waits for every connection to close; fills in the report.
    pub async fn finish(mut self) -> Report {
        self.report.rss_mb.1 = rss_mb();
        if let Some(mut rt) = self.runtime.take() {
            rt.cancel_all();
        }
        let fleet = self.source.fleet.as_ref().unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(30), fleet.wait_idle()).await;
        // Closed connections and finished tasks are reaped asynchronously: wait until the
        // counts come back (or a generous limit passes; the caller then sees the numbers).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let tasks = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            self.report.tasks.1 = tasks;
            self.report.fds.1 = open_fds();
            if (tasks <= self.report.tasks.0 && self.report.fds.1 <= self.report.fds.0 + 16)
                || tokio::time::Instant::now() > deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.report
    }
}
