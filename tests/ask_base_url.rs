//! The 16 failure scenarios of failoverbench (ROUTING.md §10) as a user meets them: one
//! OpenAI-compatible server (the fleet's standalone `switchyard sim`, reached through one
//! provider's `/p/solo/v1` with `--base-url`, not `--route-locally`) whose primary model
//! fails, and the real binary run once per call:
//! `switchyard ask --json --base-url URL -m m/primary --fallback m/backup "…"`.
//! Timing keys come from the config file so silent routes are detected in seconds.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One provider serving the primary and the backup model. `#FAULTS` becomes faults on the
/// primary; `#CTX` its context length.
const FLEET: &str = r#"
seed = 5
[[providers]]
name = "Solo"
slug = "solo"
[[providers.models]]
id = "m/primary"
prompt_price = 0.1
completion_price = 0.1
context_length = #CTX
answer_tokens = 120
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 4000 }
#FAULTS

[[providers.models]]
id = "m/backup"
prompt_price = 1.0
completion_price = 1.0
context_length = 100000
answer_tokens = 120
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 4000 }
"#;

/// Short limits so a silent route or a stall shows in two seconds, not ten or sixty.
const CONFIG: &str = r#"
[routing]
first_token_timeout_s = 2
stall_timeout_s = 2
breaker_open_s = 2
breaker_open_cap_s = 2
"#;

/// `switchyard sim` in its own process, killed when dropped.
struct Sim {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    fn start(faults: &str) -> Sim {
        Self::start_with(faults, 100_000)
    }

    fn start_with(faults: &str, ctx: u64) -> Sim {
        let dir = common::fresh_state_dir();
        std::fs::create_dir_all(dir.join("cfg/switchyard")).unwrap();
        std::fs::write(dir.join("cfg/switchyard/config.toml"), CONFIG).unwrap();
        let fleet = dir.join("fleet.toml");
        std::fs::write(
            &fleet,
            FLEET
                .replace("#FAULTS", faults)
                .replace("#CTX", &ctx.to_string()),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("--fleet")
            .arg(&fleet)
            .args(["sim", "--port", "0"])
            .env_remove("OPENROUTER_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let api = first
            .split_whitespace()
            .last()
            .expect("a banner")
            .to_string();
        let addr = api.trim_end_matches("/api/v1").to_string();
        Sim { child, addr, dir }
    }

    /// The primary's server as a plain OpenAI-compatible base URL.
    fn base_url(&self) -> String {
        format!("{}/p/solo/v1", self.addr)
    }

    /// The binary with no key, the test's config and a state directory of this fleet's own.
    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        c.env_remove("OPENROUTER_API_KEY")
            .env("XDG_CONFIG_HOME", self.dir.join("cfg"))
            .env("SWITCHYARD_STATE_DIR", self.dir.join("state"));
        c
    }

    /// One `ask` process, as a user types it.
    fn ask(&self, extra: &[&str]) -> Output {
        self.cmd()
            .args(["ask", "--json", "--base-url", &self.base_url()])
            .args(["-m", "m/primary", "--fallback", "m/backup"])
            .args(extra)
            .arg("Explain quicksort")
            .output()
            .unwrap()
    }
}

/// What one call printed and did.
struct Call {
    events: Vec<serde_json::Value>,
    stderr: String,
    ok: bool,
    took: Duration,
}

impl Call {
    fn of(sim: &Sim, extra: &[&str]) -> Call {
        let t = Instant::now();
        let out = sim.ask(extra);
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let events = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        Call {
            events,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            ok: out.status.success(),
            took,
        }
    }

    fn kinds(&self, kind: &str) -> Vec<&serde_json::Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    /// The models of the attempts, in order.
    fn attempts(&self) -> Vec<String> {
        self.kinds("attempt")
            .iter()
            .map(|e| e["served_model"].as_str().unwrap().to_string())
            .collect()
    }

    /// The `done` event, asserting the call succeeded with a whole answer.
    fn done(&self) -> &serde_json::Value {
        assert!(self.ok, "exit status: {}\n{:#?}", self.stderr, self.events);
        let done = self.kinds("done");
        assert_eq!(done.len(), 1, "{:#?}", self.events);
        let d = done[0];
        let text = d["text"].as_str().unwrap();
        assert!(text.len() > 200, "a whole answer: {text}");
        assert_eq!(
            d["complete"],
            serde_json::Value::Null,
            "done is never marked incomplete"
        );
        assert_eq!(d["finish_reason"], "stop");
        d
    }

    /// Which model answered, per the `done` event.
    fn answered_by(&self) -> String {
        self.done()["served_model"].as_str().unwrap().to_string()
    }
}

fn fault(kind: &str, extra: &str) -> String {
    format!("[[providers.models.faults]]\nkind = \"{kind}\"\n{extra}")
}

#[test]
fn s01_429_with_retry_after_fails_over_without_a_tight_loop() {
    let sim = Sim::start(&fault("rate_limit", "retry_after_secs = 2\ntimes = 1"));
    let c = Call::of(&sim, &[]);
    c.done();
    // With a fallback there, a 429 moves on at once rather than waiting 2 s.
    assert_eq!(c.attempts(), ["m/primary", "m/backup"]);
    assert!(c.answered_by().starts_with("m/backup"));
}

#[test]
fn s01_without_a_fallback_the_retry_after_is_honoured() {
    let sim = Sim::start(&fault("rate_limit", "retry_after_secs = 2\ntimes = 1"));
    let t = Instant::now();
    let out = {
        let mut c = sim.cmd();
        c.args(["ask", "--json", "--base-url", &sim.base_url()])
            .args(["-m", "m/primary", "hi"]);
        c.output().unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t.elapsed() >= Duration::from_millis(1800),
        "waited for Retry-After"
    );
    let retry = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["type"] == "retry")
        .expect("a retry event");
    assert_eq!(retry["wait_ms"], 2000);
}

#[test]
fn s02_persistent_429_without_a_header_backs_off_then_fails_over() {
    let sim = Sim::start(&fault("rate_limit", "retry_after_secs = 0"));
    let c = Call::of(&sim, &[]);
    c.done();
    let on_primary = c.attempts().iter().filter(|m| *m == "m/primary").count();
    assert!((1..=4).contains(&on_primary), "{:?}", c.attempts());
    assert!(c.answered_by().starts_with("m/backup"));
}

#[test]
fn s03_a_single_500_is_retried_once_on_the_primary() {
    let sim = Sim::start(&fault("errors", "status = 500\ntimes = 1"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/primary"]);
    assert!(c.answered_by().starts_with("m/primary"));
    assert_eq!(c.kinds("retry").len(), 1);
}

#[test]
fn s04_persistent_503_fails_over_to_the_fallback() {
    let sim = Sim::start(&fault("outage", ""));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/primary", "m/backup"]);
    assert!(c.answered_by().starts_with("m/backup"));
}

#[test]
fn s05_a_reset_before_the_headers_is_retried_or_failed_over() {
    let sim = Sim::start(&fault("reset", "times = 1"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/primary"]);
}

#[test]
fn s06_no_response_fails_over_at_the_first_token_limit_and_is_not_retried() {
    let sim = Sim::start(&fault("hang", ""));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/backup"]);
    assert!(c.took < Duration::from_secs(30), "bounded: {:?}", c.took);
}

#[test]
fn s07_a_first_token_after_20_s_fails_over() {
    let sim = Sim::start(&fault("latency", "extra_ttft_ms = 20000"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/backup"]);
    assert!(c.took < Duration::from_secs(15), "{:?}", c.took);
}

#[test]
fn s08_a_cut_stream_restarts_and_is_never_a_truncated_success() {
    let sim = Sim::start(&fault("cut", "after_tokens = 40"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.kinds("restart").len(), 1, "{:#?}", c.events);
    assert!(c.answered_by().starts_with("m/backup"));
}

#[test]
fn s09_a_stall_is_detected_within_the_stall_limit() {
    let sim = Sim::start(&fault("stall", "after_tokens = 20"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.kinds("restart").len(), 1);
    assert!(c.took < Duration::from_secs(20), "{:?}", c.took);
}

#[test]
fn s10_a_malformed_event_is_skipped() {
    let sim = Sim::start(&fault("malformed", "after_tokens = 10"));
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary"]);
    assert!(!c.kinds("warning").is_empty(), "the skip is told");
}

#[test]
fn s11_a_stream_without_done_is_never_complete_and_the_fallback_answers() {
    let sim = Sim::start(&fault("no_done", ""));
    let c = Call::of(&sim, &[]);
    c.done();
    assert!(c.answered_by().starts_with("m/backup"));
    assert!(c.done()["usage"]["completion_tokens"].as_u64().unwrap() > 0);
}

#[test]
fn s12_context_length_goes_to_the_fallback_model_without_a_same_model_retry() {
    let sim = Sim::start_with("", 2);
    let c = Call::of(&sim, &[]);
    c.done();
    assert_eq!(c.attempts(), ["m/primary", "m/backup"]);
}

#[test]
fn s13_a_content_policy_refusal_is_not_failed_over() {
    let sim = Sim::start(&fault("content_policy", ""));
    let c = Call::of(&sim, &[]);
    assert!(!c.ok);
    assert_eq!(c.attempts(), ["m/primary"]);
    let err = c.kinds("error");
    assert_eq!(err.len(), 1);
    assert_eq!(err[0]["status"], 400);
    assert!(c.kinds("done").is_empty());
}

#[test]
fn s14_a_cut_with_a_fallback_that_refuses_prefills_restarts_cleanly() {
    let sim = Sim::start(&fault("cut", "after_tokens = 40"));
    let c = Call::of(&sim, &["--mid-stream", "continue"]);
    c.done();
    // The backup does not accept an assistant prefill, so `continue` falls back to a restart.
    assert_eq!(c.kinds("continue").len(), 0);
    assert_eq!(c.kinds("restart").len(), 1);
}

#[test]
fn s15_a_primary_down_for_a_while_is_skipped_while_down_and_used_again_after() {
    let sim = Sim::start("");
    // The outage starts now, on the fleet's clock, and lasts 10 s (a minute, shortened; the
    // breaker's times are shortened to match in CONFIG).
    let body = r#"{"provider":"solo","model":"m/primary","kind":"outage","duration_s":10}"#;
    post(&sim.addr, "/control/faults", body);
    let t0 = Instant::now();
    let mut skipped = false;
    let mut back_at = None;
    while t0.elapsed() < Duration::from_secs(60) {
        let c = Call::of(&sim, &[]);
        c.done();
        let a = c.attempts();
        if t0.elapsed() < Duration::from_secs(9)
            && a.first().map(String::as_str) == Some("m/backup")
        {
            // The breaker is open (and saved between processes): the primary is not tried first.
            skipped = true;
        }
        if t0.elapsed() > Duration::from_secs(10) && c.answered_by().starts_with("m/primary") {
            back_at = Some(t0.elapsed());
            break;
        }
    }
    assert!(
        skipped,
        "the breaker kept calls off the primary while it was down"
    );
    let back = back_at.expect("the primary answered again after its recovery");
    // Back well within the 30 s the defaults promise (here the breaker is open 2 s at most).
    assert!(back < Duration::from_secs(10 + 20), "back after {back:?}");
}

#[test]
fn s16_a_failed_over_answer_names_the_fallback_and_has_usage() {
    let sim = Sim::start(&fault("outage", ""));
    let c = Call::of(&sim, &[]);
    let d = c.done();
    assert!(d["served_model"].as_str().unwrap().starts_with("m/backup"));
    assert_eq!(
        d["provider"],
        "127.0.0.1:".to_string() + sim.addr.rsplit(':').next().unwrap()
    );
    assert!(d["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    // Failover notes are told on stderr for a person, on stdout as events for a program.
    assert!(!c.kinds("failover").is_empty());
}

/// A bare HTTP/1.1 POST to the fleet's control API.
fn post(addr: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let hostport = addr.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(hostport).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 2"), "{out}");
}

#[test]
fn concurrent_requests_that_fail_together_do_not_retry_in_lockstep() {
    let sim = Sim::start(&fault("errors", "status = 500\ntimes = 2"));
    let out = sim
        .cmd()
        .args(["ask", "--json", "--base-url", &sim.base_url()])
        .args(["-m", "m/primary", "-m", "m/primary", "hi"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let waits: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "retry")
        .map(|e| e["wait_us"].as_u64().unwrap())
        .collect();
    assert_eq!(waits.len(), 2, "each request retried once: {waits:?}");
    // Each request draws its own jitter (equal draws from one seed were the bug).
    assert_ne!(waits[0], waits[1], "{waits:?}");
}

#[test]
fn a_fallback_behind_a_model_the_server_does_not_know_answers() {
    let sim = Sim::start("");
    let run = |models: &[&str]| {
        let mut c = sim.cmd();
        c.args(["ask", "--base-url", &sim.base_url()])
            .args(models)
            .arg("hi");
        c.output().unwrap()
    };
    let out = run(&["-m", "m/nope", "--fallback", "m/backup"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("failed over"), "{err}");
    // Alone, the unknown model is a clear error naming the URL tried, and is not retried.
    let out = run(&["-m", "m/nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("retrying"), "{err}");
    assert!(err.contains("/p/solo/v1/chat/completions"), "{err}");
}

#[test]
fn the_sim_banner_names_the_base_url_and_the_fleet_answers_at_v1() {
    let sim = Sim::start("");
    // The banner's last lines are drained by the harness; ask the advertised path directly.
    let out = sim
        .cmd()
        .args(["ask", "--base-url", &format!("{}/v1", sim.addr)])
        .args(["-m", "m/backup", "hi"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["sim", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: Vec<String> = lines
        .by_ref()
        .take_while(|l| l.as_ref().is_ok_and(|l| !l.starts_with("Ctrl+C")))
        .map(Result::unwrap)
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        banner
            .iter()
            .any(|l| l.contains("--base-url http://127.0.0.1:") && l.ends_with("/v1")),
        "{banner:?}"
    );
}

#[test]
fn refusals_say_what_to_do() {
    let sy = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .env_remove("OPENROUTER_API_KEY")
            .env("XDG_CONFIG_HOME", common::fresh_state_dir())
            .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
            .args(args)
            .output()
            .unwrap()
    };
    let err = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let o = sy(&["ask", "--sort", "fastest", "-m", "a/b", "hi"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("price, throughput, latency"),
        "{}",
        err(&o)
    );
    // Nothing listening: said in words.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/v1");
    let o = sy(&["ask", "--base-url", &url, "-m", "a/b", "hi"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains(&format!("nothing is listening on 127.0.0.1:{port}")),
        "{}",
        err(&o)
    );
    // A ninth pane is refused, not dropped.
    let mut args = vec!["ask"];
    for _ in 0..9 {
        args.extend(["-m", "a/b"]);
    }
    args.push("hi");
    let o = sy(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("at most 8"), "{}", err(&o));
}
