//! End-to-end: the real binary in a pseudo-terminal on the simulated fleet. Type a prompt, see
//! three panes fill, cancel one, quit, and check the terminal was restored. Every wait is for
//! something on screen, with a generous timeout, never for a fixed time.

mod common;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(90);

struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Bytes not yet looked at for terminal queries (cleared as they are answered).
    raw: Arc<Mutex<Vec<u8>>>,
    /// Every byte the program wrote, never cleared.
    all: Arc<Mutex<Vec<u8>>>,
    /// The program's side of the terminal closed and everything it wrote has been read.
    eof: Arc<std::sync::atomic::AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// What this terminal answers when asked its background (OSC 11), if anything.
    background: Option<&'static str>,
    _dir: TempDir,
}

/// A temporary directory removed on drop (HOME and XDG dirs point here: no user config leaks in).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("switchyard-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tui {
    fn spawn(tag: &str, args: &[&str], files: &[(&str, &str)]) -> Tui {
        Tui::spawn_in(TempDir::new(tag), args, files)
    }

    /// Runs the binary again in a home an earlier run used (its state directory kept).
    fn spawn_in(dir: TempDir, args: &[&str], files: &[(&str, &str)]) -> Tui {
        Tui::spawn_program(dir, env!("CARGO_BIN_EXE_switchyard"), args, files)
    }

    /// Runs `program` in the terminal, in `dir` as its home.
    fn spawn_program(dir: TempDir, program: &str, args: &[&str], files: &[(&str, &str)]) -> Tui {
        Tui::spawn_env(dir, program, args, files, &[])
    }

    /// `spawn_program` with extra environment variables.
    fn spawn_env(
        dir: TempDir,
        program: &str,
        args: &[&str],
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Tui {
        for (name, body) in files {
            let path = dir.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 150,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        for a in args {
            cmd.arg(a.replace("{dir}", dir.0.to_str().unwrap()));
        }
        cmd.cwd(&dir.0);
        cmd.env("HOME", &dir.0);
        cmd.env("XDG_CONFIG_HOME", dir.0.join("config"));
        cmd.env("XDG_STATE_HOME", dir.0.join("state"));
        cmd.env("SWITCHYARD_STATE_DIR", dir.0.join("state"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("OPENROUTER_API_KEY");
        cmd.env_remove("DISPLAY");
        cmd.env_remove("WAYLAND_DISPLAY");
        cmd.env_remove("TMUX");
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("COLORTERM");
        cmd.env_remove("COLORFGBG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            40.try_into().unwrap(),
            150.try_into().unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let all = Arc::new(Mutex::new(Vec::new()));
        let eof = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p2, r2, a2, e2) = (parser.clone(), raw.clone(), all.clone(), eof.clone());
        // The master must stay open while the child runs; the reader thread keeps it alive.
        let master = pty.master;
        std::thread::spawn(move || {
            let _keep = master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        p2.lock().unwrap().process(&buf[..n]);
                        r2.lock().unwrap().extend_from_slice(&buf[..n]);
                        a2.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
            }
            e2.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Tui {
            parser,
            raw,
            all,
            eof,
            writer,
            child,
            background: None,
            _dir: dir,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until `pred` holds for the screen text; panics with the screen on timeout.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            self.answer_queries();
            let s = self.screen();
            if pred(&s) {
                return;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the app exited ({status:?}) while waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Answers the terminal queries crossterm sends at start (a real terminal would).
    fn answer_queries(&mut self) {
        let pending = {
            let mut raw = self.raw.lock().unwrap();
            let s = String::from_utf8_lossy(&raw).to_string();
            raw.clear();
            s
        };
        if pending.contains("\x1b[?u") || pending.contains("\x1b[c") {
            // "No keyboard enhancement; a VT102": crossterm stops waiting at once.
            self.send("\x1b[?1;2c");
        }
        if pending.contains("\x1b]11;?")
            && let Some(bg) = self.background
        {
            self.send(&format!("\x1b]11;{bg}\x1b\\"));
        }
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                // What it wrote last may still be in flight: read it all before anyone looks.
                let read_all = Instant::now();
                while !self.eof.load(std::sync::atomic::Ordering::SeqCst)
                    && read_all.elapsed() < Duration::from_secs(10)
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return st;
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("the app did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

fn count(s: &str, needle: &str) -> usize {
    s.matches(needle).count()
}

/// A fleet where the first model is slow enough to be cancelled mid-stream on any machine.
const FLEET: &str = r#"
seed = 7
[[providers]]
name = "Tortoise"
slug = "tortoise"
[[providers.models]]
id = "test/slow"
prompt_price = 1.0
completion_price = 2.0
ttft_ms = { mean = 50 }
tokens_per_sec = { mean = 3 }

[[providers]]
name = "Hare"
slug = "hare"
[[providers.models]]
id = "test/fast-a"
prompt_price = 0.5
completion_price = 1.5
ttft_ms = { mean = 50 }
tokens_per_sec = { mean = 400 }
[[providers.models]]
id = "test/fast-b"
prompt_price = 0.2
completion_price = 0.4
ttft_ms = { mean = 80 }
tokens_per_sec = { mean = 300 }
"#;

#[test]
fn type_prompt_three_panes_stream_cancel_one_and_quit() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/slow",
        "-m",
        "test/fast-a",
        "-m",
        "test/fast-b",
    ];
    let mut t = Tui::spawn("main", &args, &[("fleet.toml", FLEET)]);
    t.wait_for("three ready panes", |s| {
        count(s, "ready") == 3 && s.contains("simulated fleet")
    });
    t.send("Explain quicksort briefly");
    t.wait_for("the typed prompt in the composer", |s| {
        s.contains("Explain quicksort briefly")
    });
    t.send("\r");
    t.wait_for("all panes to start", |s| {
        count(s, "Explain quicksort briefly") >= 3
    });
    // The focused (first) pane is cancelled as soon as it streams.
    t.wait_for("the slow pane streaming", |s| s.contains("streaming"));
    t.send("\x1b");
    t.wait_for("one cancelled and two finished panes", |s| {
        count(s, "⊘ cancelled") >= 1 && count(s, "✓ done") == 2
    });
    let screen = t.screen();
    // Narrow headers keep whole figures: time to first token before tokens/s.
    assert!(screen.contains("ttft"), "headers show speed:\n{screen}");
    // Ctrl+Q quits.
    t.send("\x11");
    let status = t.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    let p = t.parser.lock().unwrap();
    let screen = p.screen();
    assert!(!screen.alternate_screen(), "left the alternate screen");
    assert_eq!(
        screen.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "mouse released"
    );
    assert!(!screen.bracketed_paste(), "bracketed paste off");
    assert!(!screen.hide_cursor(), "cursor visible again");
}

#[test]
fn empty_prompt_and_bad_model_are_reported_in_place() {
    let mut t = Tui::spawn(
        "errors",
        &["--sim", "-m", "no-such/model", "-m", "openai/gpt-4o-mini"],
        &[],
    );
    t.wait_for("two ready panes", |s| count(s, "ready") == 2);
    t.send("\r");
    t.wait_for("the empty-prompt notice", |s| s.contains("prompt is empty"));
    t.send("hello there");
    t.send("\r");
    t.wait_for(
        "an error for the unknown model and an answer for the known one",
        |s| s.contains("✗ failed") && s.contains("✓ done"),
    );
    let s = t.screen();
    assert!(s.contains("400"), "the status is shown:\n{s}");
    assert!(
        s.contains("› hello there"),
        "the prompt stays in the failed pane:\n{s}"
    );
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn bad_config_is_reported_with_file_line_and_field() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--config", "/nonexistent-dir/none.toml", "models"])
        .env_remove("OPENROUTER_API_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let dir = TempDir::new("badcfg");
    let path = dir.0.join("c.toml");
    std::fs::write(
        &path,
        "panes = [\"a/b\"]\n[[providers]]\nname = \"x\"\nkind = \"ollama\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&path)
        .args(["ask", "hi"])
        .env_remove("OPENROUTER_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("c.toml") && err.contains("line 4") && err.contains("kind"),
        "{err}"
    );
}

#[test]
fn local_router_serves_through_a_healthy_provider_and_f6_shows_health() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "-m",
        "m/chat",
    ];
    let mut t = Tui::spawn(
        "routed",
        &args,
        &[("fleet.toml", common::DOWN_AND_UP_FLEET)],
    );
    t.wait_for("a ready pane with the local router", |s| {
        s.contains("ready") && s.contains("local router")
    });
    t.send("hello\r");
    t.wait_for("the answer, served by the healthy provider", |s| {
        s.contains("✓ done") && s.contains("Uptown")
    });
    let s = t.screen();
    // Weighted 1/price² the far cheaper, failing endpoint is usually tried first; when it was,
    // the pane says so.
    if s.contains("attempt 2") {
        assert!(s.contains("failed over before the first token"), "{s}");
    }
    t.send("\x1bw"); // Alt+W
    t.wait_for("the why view with the plan and the attempts", |s| {
        s.contains("Why: routing") && s.contains("candidates") && s.contains("attempt 1")
    });
    t.send("x"); // any key closes it
    t.wait_for("the why view to close", |s| !s.contains("Why: routing"));
    t.send("\x1b[17~"); // F6
    t.wait_for("the health panel listing both endpoints", |s| {
        s.contains("Endpoint health") && s.contains("Downtown") && s.contains("Uptown")
    });
    // Knock the healthy provider down from the panel: the next answer has nowhere to go.
    t.send("\x1b[B"); // Down: select Uptown
    t.send("o");
    t.wait_for("the injection notice", |s| {
        s.contains("injected outage on Uptown")
    });
    t.send("q"); // close the panel
    t.wait_for("the panel to close", |s| !s.contains("Endpoint health"));
    t.send("again\r");
    t.wait_for("the request to fail with every endpoint down", |s| {
        s.contains("✗ failed")
    });
    t.send("\x1b[17~");
    t.wait_for("the panel again", |s| s.contains("Endpoint health"));
    t.send("c");
    t.wait_for("the faults cleared", |s| {
        s.contains("cleared 1 injected fault")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn without_the_local_router_f6_shows_health_observed_from_the_gateway() {
    // The fleet's aggregator routes (like OpenRouter); the panel records who answered.
    let args = ["--fleet", "{dir}/fleet.toml", "-m", "m/chat"];
    let mut t = Tui::spawn(
        "observed",
        &args,
        &[("fleet.toml", common::DOWN_AND_UP_FLEET)],
    );
    t.wait_for("a ready pane", |s| s.contains("ready"));
    t.send("hello\r");
    t.wait_for("the answer from the healthy provider", |s| {
        s.contains("✓ done") && s.contains("Uptown")
    });
    t.send("\x1b[17~"); // F6
    t.wait_for("the observed health panel with a sample for Uptown", |s| {
        s.contains("observed from the gateway")
            && s.lines()
                .any(|l| l.contains("Uptown") && l.contains("healthy"))
    });
    t.send("q");
    t.wait_for("the panel to close", |s| !s.contains("Endpoint health"));
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn mid_stream_continue_keeps_the_partial_answer_and_finishes_it_elsewhere() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "--mid-stream",
        "continue",
        "--sort",
        "price",
        "-m",
        "m/chat",
    ];
    // Cutter cuts after 25 tokens; Strict refuses prefills; Prefiller continues the text.
    let mut t = Tui::spawn("continue", &args, &[("fleet.toml", common::CONTINUING)]);
    t.wait_for("a ready pane", |s| s.contains("ready"));
    t.send("Explain quicksort\r");
    t.wait_for("a whole answer continued by the second provider", |s| {
        s.contains("✓ done") && s.contains("Prefiller")
    });
    // The routing note sits in its turn between the prompt and the answer it led to.
    t.send("\x1b[1;5H"); // Ctrl+Home: the top of the transcript
    t.wait_for("the note above the answer", |s| {
        let at = |needle: &str| s.lines().position(|l| l.contains(needle));
        matches!(
            (at("› Explain quicksort"), at("the next provider continues"), at("What matters most")),
            (Some(p), Some(n), Some(a)) if p < n && n < a
        )
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

/// One OpenAI-compatible server (a fleet provider's own route) whose primary model is down:
/// the workbench routes it with Switchyard's router, like any `--base-url` server.
const SOLO_DOWN: &str = r#"
seed = 3
[[providers]]
name = "Solo"
slug = "solo"
[[providers.models]]
id = "m/primary"
prompt_price = 0.1
completion_price = 0.1
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 3000 }
[[providers.models.faults]]
kind = "outage"
[[providers.models]]
id = "m/backup"
prompt_price = 1
completion_price = 1
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 3000 }
"#;

#[test]
fn a_base_url_server_is_routed_with_fallbacks_health_and_why() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fleet = rt.block_on(async {
        let spec = switchyard::fleet::FleetSpec::from_toml(SOLO_DOWN, "solo").unwrap();
        switchyard::fleet::start(spec, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    });
    let url = fleet.provider_base_url("solo").unwrap();
    let args = [
        "--base-url",
        &url,
        "-m",
        "m/primary",
        "--fallback",
        "m/backup",
    ];
    let mut t = Tui::spawn("baseurl", &args, &[]);
    t.wait_for("a ready pane", |s| s.contains("ready"));
    t.send("Explain quicksort\r");
    // The header names the fallback model that answered.
    t.wait_for("an answer from the fallback", |s| {
        s.contains("✓ done") && s.contains("↪ m/backup")
    });
    // The failover is told in its turn, right under the prompt and above the answer.
    t.send("\x1b[1;5H"); // Ctrl+Home
    t.wait_for("the failover note under the prompt", |s| {
        let at = |needle: &str| s.lines().position(|l| l.contains(needle));
        matches!(
            (at("› Explain quicksort"), at("↪ failed over")),
            (Some(p), Some(n)) if p < n && n <= p + 8
        )
    });
    t.send("\x1b[17~"); // F6
    t.wait_for("both endpoints on F6", |s| {
        s.contains("Endpoint health (local router)")
            && s.lines()
                .any(|l| l.contains("m/primary") && !l.contains("healthy"))
            && s.lines()
                .any(|l| l.contains("m/backup") && l.contains("healthy"))
    });
    t.send("\x1b"); // close
    t.wait_for("F6 closed", |s| !s.contains("Endpoint health"));
    t.send("\x1bw"); // Alt+W
    t.wait_for("the why view", |s| {
        s.contains("✗ attempt 1") && s.contains("503 from") && s.contains("answered")
    });
    t.send("\x1b");
    t.wait_for("the why view closed", |s| !s.contains("Why: routing"));
    t.send("\x11");
    assert!(t.wait_exit().success());
    drop(fleet);
}

/// The cheaper provider cuts its stream after 20 tokens; the other answers whole.
const CUT_THEN_WHOLE: &str = r#"
seed = 9
[[providers]]
name = "Cutter"
slug = "cutter"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.1
answer_tokens = 60
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 2000 }
[[providers.models.faults]]
kind = "cut"
after_tokens = 20

[[providers]]
name = "Whole"
slug = "whole"
[[providers.models]]
id = "m/chat"
prompt_price = 1
completion_price = 1
answer_tokens = 60
ttft_ms = { mean = 1 }
tokens_per_sec = { mean = 2000 }
"#;

#[test]
fn plain_ask_on_a_terminal_ends_with_only_the_answer_that_completed() {
    let dir = std::env::temp_dir().join(format!("switchyard-ask-tty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fleet = dir.join("fleet.toml");
    std::fs::write(&fleet, CUT_THEN_WHOLE).unwrap();
    let flags = [
        "--route-locally",
        "--sort",
        "price",
        "ask",
        "-m",
        "m/chat",
        "Explain quicksort",
    ];
    // What each provider sends, from the same deterministic fleet through --json.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("SWITCHYARD_STATE_DIR", dir.join("state-json"))
        .env("XDG_CONFIG_HOME", dir.join("cfg"))
        .arg("--fleet")
        .arg(&fleet)
        .args(flags)
        .arg("--json")
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let restart = events
        .iter()
        .position(|e| e["type"] == "restart")
        .expect("a restart");
    let cut: String = events[..restart]
        .iter()
        .filter(|e| e["type"] == "delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    let whole = events.iter().find(|e| e["type"] == "done").unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!cut.is_empty());
    // Now as a person runs it, stdout a terminal.
    let fleet_arg = fleet.to_str().unwrap().to_string();
    let mut args = vec!["--fleet", fleet_arg.as_str()];
    args.extend(flags);
    let mut t = Tui::spawn("asktty", &args, &[]);
    assert!(t.wait_exit().success());
    let screen = t.screen();
    let first_line = |s: &str| {
        s.lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect::<String>()
    };
    let (cut_start, whole_start) = (first_line(&cut), first_line(&whole));
    let shown = |needle: &str| screen.matches(needle).count();
    if cut_start == whole_start {
        assert_eq!(shown(&whole_start), 1, "the cut text was erased:\n{screen}");
    } else {
        assert_eq!(shown(&cut_start), 0, "the cut text was erased:\n{screen}");
        assert_eq!(shown(&whole_start), 1, "{screen}");
    }
    assert!(
        screen.contains("restarted"),
        "stderr says it restarted:\n{screen}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server whose answer carries every class of terminal sequence: window title, clipboard
/// (OSC 52), clear screen, hidden cursor, 8-bit CSI.
fn hostile_server() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            let Some((line, _)) = common::read_request(&s) else {
                continue;
            };
            if line.starts_with("GET") {
                common::reply(&mut s, "404 Not Found", "text/plain", "none");
                continue;
            }
            let evil = r#"Hi \u001b]0;pwned title\u0007there \u001b]52;c;aGVsbG8=\u001b\\ \u001b[2J\u001b[?25l \u009b31mred"#;
            let sse = format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{evil}\"}},\"finish_reason\":null}}]}}\n\ndata: {{\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
            );
            common::reply(&mut s, "200 OK", "text/event-stream", &sse);
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn answer_text_cannot_drive_the_terminal_of_plain_ask_or_the_workbench() {
    let url = hostile_server();
    let sequences: [&[u8]; 5] = [
        b"\x1b]0;pwned",
        b"\x1b]52;",
        b"\x1b[2J",
        b"\x1b[?25l",
        "\u{9b}31m".as_bytes(),
    ];
    // Plain ask on a terminal.
    let mut t = Tui::spawn(
        "hostile-ask",
        &["--base-url", &url, "ask", "-m", "x/y", "hi"],
        &[],
    );
    assert!(t.wait_exit().success());
    let raw = t.all.lock().unwrap().clone();
    for seq in sequences {
        assert!(
            !raw.windows(seq.len()).any(|w| w == seq),
            "{:?} reached the terminal: {:?}",
            String::from_utf8_lossy(seq),
            String::from_utf8_lossy(&raw)
        );
    }
    assert!(
        t.screen().contains("␛]0;pwned title"),
        "shown, inert:\n{}",
        t.screen()
    );
    // --json stays exact (JSON escapes them).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .env("XDG_CONFIG_HOME", common::fresh_state_dir())
        .args(["--base-url", &url, "ask", "--json", "-m", "x/y", "hi"])
        .output()
        .unwrap();
    let done = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["type"] == "done")
        .unwrap();
    assert!(
        done["text"]
            .as_str()
            .unwrap()
            .contains("\x1b]0;pwned title\x07")
    );
    // The workbench.
    let mut t = Tui::spawn("hostile-tui", &["--base-url", &url, "-m", "x/y"], &[]);
    t.wait_for("a ready pane", |s| s.contains("ready"));
    let before = t.all.lock().unwrap().len();
    t.send("hi\r");
    t.wait_for("the answer", |s| {
        s.contains("✓ done") && s.contains("pwned title")
    });
    let raw = t.all.lock().unwrap()[before..].to_vec();
    // The workbench hides and moves its own cursor and may clear, so only what is the
    // server's own is looked for in its bytes; the rest must show on screen, inert.
    assert!(t.screen().contains("␛[2J␛[?25l"), "{}", t.screen());
    let servers: [&[u8]; 3] = [
        b"\x1b]0;pwned",
        b"\x1b]52;c;aGVsbG8=",
        "\u{9b}31m".as_bytes(),
    ];
    for seq in servers {
        assert!(
            !raw.windows(seq.len()).any(|w| w == seq),
            "{:?} reached the terminal from the workbench",
            String::from_utf8_lossy(seq)
        );
    }
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn every_quitting_signal_restores_the_terminal_and_saves_health() {
    for sig in ["INT", "QUIT", "TERM", "HUP"] {
        let tag = format!("signal-{sig}");
        let mut t = Tui::spawn(
            &tag,
            &["--fleet", "{dir}/fleet.toml", "-m", "m/chat"],
            &[("fleet.toml", common::DOWN_AND_UP_FLEET)],
        );
        t.wait_for("a ready pane", |s| s.contains("ready"));
        let pid = t.child.process_id().expect("a pid");
        let sent = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let status = t.wait_exit();
        assert!(status.success(), "SIG{sig}: exit status {status:?}");
        assert_restored(&t, &format!("SIG{sig}"));
        let saved = std::fs::read_dir(t._dir.0.join("state"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with("health-"))
            })
            .unwrap_or(false);
        assert!(saved, "SIG{sig}: this run's health was saved");
    }
}

/// The terminal is as the program found it: main screen, cursor shown, no mouse reporting.
fn assert_restored(t: &Tui, what: &str) {
    let p = t.parser.lock().unwrap();
    let screen = p.screen();
    assert!(
        !screen.alternate_screen(),
        "{what}: left the alternate screen"
    );
    assert_eq!(
        screen.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "{what}: mouse released"
    );
    assert!(!screen.hide_cursor(), "{what}: cursor visible");
}

/// Peak resident memory of a process in MB, from /proc.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status");
    kb / 1024.0
}

#[test]
fn unfinished_escape_sequences_never_hold_the_keyboard() {
    // Alt+[ then ? left crossterm waiting for a final byte; Alt+[ 2 0 0 ~ for a paste's end.
    for (tag, typed) in [("alt-bracket", "\x1b[?"), ("paste-opening", "\x1b[200~")] {
        let mut t = Tui::spawn(
            tag,
            &["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"],
            &[("fleet.toml", FLEET)],
        );
        t.wait_for("a ready pane", |s| s.contains("ready"));
        t.send(typed);
        t.send("\x11");
        let status = t.wait_exit();
        assert!(status.success(), "{tag}: Ctrl+Q quit ({status:?})");
        assert_restored(&t, tag);
    }
}

/// About 1 MB of numbered lines with CR line ends, as a terminal sends a paste.
fn big_paste() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 1_000_000 {
        s.push_str(&format!(
            "line {i:05} of a pasted document that is long enough\r"
        ));
        i += 1;
    }
    s.push_str("END-OF-PASTE");
    s
}

#[test]
fn a_megabyte_paste_with_or_without_brackets_is_one_edit_and_keys_still_work() {
    for (tag, bracketed) in [("paste-bracketed", true), ("paste-unbracketed", false)] {
        let mut t = Tui::spawn(
            tag,
            &["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"],
            &[("fleet.toml", FLEET)],
        );
        t.wait_for("a ready pane", |s| s.contains("ready"));
        let body = big_paste();
        let pid = t.child.process_id().expect("a pid");
        if bracketed {
            t.send("\x1b[200~");
        }
        // Written in pieces as a terminal would; a key per event took minutes before.
        for piece in body.as_bytes().chunks(4096) {
            t.writer.write_all(piece).unwrap();
        }
        if bracketed {
            t.send("\x1b[201~");
        }
        t.writer.flush().unwrap();
        t.wait_for("the end of the paste in the composer", |s| {
            s.contains("END-OF-PASTE")
        });
        t.send("xyz");
        t.wait_for("typing after the paste", |s| s.contains("END-OF-PASTExyz"));
        let screen = t.screen();
        assert!(
            !screen.contains("line 00000"),
            "{tag}: nothing was sent (the composer shows only the paste's end):\n{screen}"
        );
        let peak = peak_rss_mb(pid);
        assert!(peak < 250.0, "{tag}: peak memory {peak:.0} MB");
        t.send("\x11");
        let status = t.wait_exit();
        assert!(status.success(), "{tag}: Ctrl+Q quit ({status:?})");
        assert_restored(&t, tag);
    }
}

/// One model at three providers: the cheapest keeps prompts, one retains nothing.
const PRIVACY_FLEET: &str = r#"
seed = 3
[[providers]]
name = "Cheapo"
slug = "cheapo"
collects_data = true
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.2
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }

[[providers]]
name = "Middling"
slug = "middling"
[[providers.models]]
id = "m/chat"
prompt_price = 0.5
completion_price = 1.0
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }

[[providers]]
name = "Vault"
slug = "vault"
zdr = true
[[providers.models]]
id = "m/chat"
prompt_price = 2.0
completion_price = 4.0
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }
"#;

#[test]
fn panels_steer_the_route_zdr_then_sort_by_price_and_the_answer_comes_from_the_preview() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "-m",
        "m/chat",
    ];
    let mut t = Tui::spawn("panels", &args, &[("fleet.toml", PRIVACY_FLEET)]);
    t.wait_for("a ready pane with the local router", |s| {
        s.contains("ready") && s.contains("local router")
    });
    // F3, ↓ to zero data retention, Space: the preview keeps only Vault.
    t.send("\x1bOR");
    t.wait_for("the privacy panel", |s| s.contains("Privacy — this pane"));
    t.send("\x1b[B ");
    t.wait_for("the preview with only the zero-retention endpoint", |s| {
        s.contains("1. Vault") && s.contains("✗ Cheapo") && s.contains("✗ Middling")
    });
    t.send("\r");
    t.wait_for("the settings applied, and the pane's badge", |s| {
        s.contains("privacy settings applied to m/chat") && s.contains("[zdr]")
    });
    t.send("hello\r");
    t.wait_for("the answer, from the only zero-retention endpoint", |s| {
        s.contains("✓ done") && s.contains("Vault ·")
    });
    // Back off zdr, then F2: sort by price makes Cheapo the one choice.
    t.send("\x1bOR\x1b[B \r");
    t.wait_for("zdr off", |s| s.contains("privacy settings applied"));
    t.send("\x1bOQ");
    t.wait_for("the routing panel", |s| s.contains("Routing — this pane"));
    t.send("\x1b[C"); // sort: price
    t.wait_for("the preview sorted by price, Cheapo first", |s| {
        s.contains("‹ price ›") && s.contains("1. Cheapo")
    });
    t.send("\r");
    t.wait_for("routing applied", |s| {
        s.contains("routing settings applied to m/chat")
    });
    t.send("again\r");
    t.wait_for("the next answer from Cheapo", |s| {
        s.matches("✓ done").count() >= 1 && s.contains("Cheapo ·")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
    // Applied settings are kept for the next run.
    let saved = std::fs::read_to_string(t._dir.0.join("state/panels.json")).unwrap();
    assert!(saved.contains("\"sort\": \"price\""), "{saved}");
}

#[test]
fn panel_settings_saved_by_an_earlier_run_come_back() {
    // What an earlier run's F3 left in the state directory: zero retention for m/chat.
    let saved = r#"{"models": {"m/chat": {"provider": {"zdr": true}}}}"#;
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "-m",
        "m/chat",
    ];
    let mut t = Tui::spawn(
        "panels-saved",
        &args,
        &[("fleet.toml", PRIVACY_FLEET), ("state/panels.json", saved)],
    );
    t.wait_for("the pane with its restored badge", |s| {
        s.contains("ready") && s.contains("[zdr]")
    });
    t.send("hello\r");
    t.wait_for("the answer from the zero-retention endpoint", |s| {
        s.contains("✓ done") && s.contains("Vault ·")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

/// `m/json`: a strict endpoint listing structured outputs and a cheaper one listing nothing;
/// `m/broken`: an endpoint whose structured answers break their schema.
const SCHEMA_FLEET: &str = r#"
seed = 5
[[providers]]
name = "Strict"
slug = "strict"
[[providers.models]]
id = "m/json"
prompt_price = 2
completion_price = 2
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }
supported_parameters = ["max_tokens", "response_format", "structured_outputs"]

[[providers]]
name = "Loose"
slug = "loose"
[[providers.models]]
id = "m/json"
prompt_price = 0.01
completion_price = 0.01
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }
supported_parameters = ["max_tokens"]

[[providers]]
name = "Breaker"
slug = "breaker"
[[providers.models]]
id = "m/broken"
prompt_price = 1
completion_price = 1
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }
supported_parameters = ["max_tokens", "response_format", "structured_outputs"]
[[providers.models.faults]]
kind = "break_schema"
"#;

#[test]
fn structured_output_panel_refuses_a_bad_schema_then_replies_are_marked_valid_or_invalid() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "-m",
        "m/json",
        "-m",
        "m/broken",
    ];
    let mut t = Tui::spawn("schema", &args, &[("fleet.toml", SCHEMA_FLEET)]);
    t.wait_for("two ready panes", |s| s.matches("ready").count() >= 2);
    // F4, turn it on: the endpoint that does not list structured outputs leaves the route.
    t.send("\x1bOS");
    t.wait_for("the structured-output panel", |s| {
        s.contains("Structured output — this pane") && s.contains("✓ valid JSON schema")
    });
    t.send(" ");
    t.wait_for("Loose excluded by require_parameters", |s| {
        s.contains("1. Strict") && s.contains("✗ Loose")
    });
    // Tab to the schema and break it: the error is shown at its line, and nothing applies.
    t.send("\t\t\t\t\t\tx");
    t.wait_for("the syntax error at line 1", |s| {
        s.contains("✗ line 1, column 1") && s.contains("✗  1 x{")
    });
    t.send("\x13");
    t.wait_for("not applied", |s| {
        s.contains("not applied: fix the fields marked ✗")
    });
    t.send("\x1b");
    t.wait_for("closed without applying", |s| {
        s.contains("panel closed; nothing changed") && !s.contains("[json]")
    });
    // Again, on, for every pane, saved as `mood`; Ctrl+S applies from any field.
    t.send("\x1bOS");
    t.wait_for("the panel again, as the pane has it", |s| {
        s.contains("Structured output — this pane") && s.contains("[ ] off")
    });
    t.send(" \x14\t\t\t\t\tmood\x13");
    t.wait_for("applied to every pane with badges", |s| {
        s.contains("applied to every pane") || s.contains("schema saved")
    });
    t.wait_for("both badges", |s| s.matches("[json]").count() == 2);
    t.send("I love it\r");
    t.wait_for("one reply valid, one invalid with its path", |s| {
        s.contains("✓ valid: the reply matches the schema")
            && s.contains("✗ invalid: the reply does not match the schema")
            && s.contains("/sentiment: 42 is not of type \"string\"")
    });
    let s = t.screen();
    assert!(
        s.contains("Strict ·"),
        "the valid reply came from Strict:\n{s}"
    );
    t.send("\x11");
    assert!(t.wait_exit().success());
    let saved = t._dir.0.join("config/switchyard/schemas/mood.json");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(switchyard::schema::check_text(&text).is_ok(), "{text}");
}

/// One model from a US provider and a pricier one in the EU.
const EU_FLEET: &str = r#"
seed = 3
[[providers]]
name = "Prairie"
slug = "prairie"
region = "us"
[[providers.models]]
id = "m/chat"
prompt_price = 0.1
completion_price = 0.2
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }

[[providers]]
name = "Danube"
slug = "danube"
region = "eu"
[[providers.models]]
id = "m/chat"
prompt_price = 2.0
completion_price = 4.0
ttft_ms = { mean = 20 }
tokens_per_sec = { mean = 2000 }
"#;

#[test]
fn eu_processing_on_in_the_privacy_panel_routes_only_to_eu_endpoints() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "--route-locally",
        "-m",
        "m/chat",
    ];
    let mut t = Tui::spawn("eu", &args, &[("fleet.toml", EU_FLEET)]);
    t.wait_for("a ready pane", |s| {
        s.contains("ready") && s.contains("local router")
    });
    // F3, ↓↓↓ to EU processing, Space: the preview keeps only the EU endpoint.
    t.send("\x1bOR");
    t.wait_for("the privacy panel", |s| s.contains("Privacy — this pane"));
    t.send("\x1b[B\x1b[B\x1b[B ");
    t.wait_for("only Danube left", |s| {
        s.contains("1. Danube") && s.contains("✗ Prairie")
    });
    t.send("\r");
    t.wait_for("the [eu] badge", |s| s.contains("[eu]"));
    t.send("hello\r");
    t.wait_for("the answer from the EU endpoint", |s| {
        s.contains("✓ done") && s.contains("Danube ·") && !s.contains("Prairie ·")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn ctrl_c_stops_streams_clears_the_draft_and_only_a_second_one_quits_an_idle_screen() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/slow",
        "-m",
        "test/slow",
    ];
    let mut t = Tui::spawn("ctrl-c", &args, &[("fleet.toml", FLEET)]);
    t.wait_for("two ready panes", |s| count(s, "ready") == 2);
    t.send("tell me a story");
    t.wait_for("the prompt typed", |s| s.contains("tell me a story"));
    t.send("\r");
    t.wait_for("both streaming", |s| count(s, "streaming") == 2);
    // Ctrl+C: the focused pane stops, and the status bar says what another does.
    t.send("\x03");
    t.wait_for("one stopped", |s| {
        count(s, "test/slow ⊘ cancelled") == 1
            && s.contains("Ctrl+C again stops the other 1 · stopped test/slow")
    });
    t.send("\x03");
    t.wait_for("both stopped", |s| count(s, "test/slow ⊘ cancelled") == 2);
    // With nothing streaming, Ctrl+C clears a draft; undo (Ctrl+_) brings it back.
    t.send("half a thought");
    t.wait_for("the draft", |s| s.contains("half a thought"));
    t.send("\x03");
    t.wait_for("the draft cleared", |s| {
        !s.contains("half a thought") && s.contains("prompt cleared")
    });
    t.send("\x1f");
    t.wait_for("the draft back", |s| s.contains("half a thought"));
    t.send("\x15"); // Ctrl+U: the composer empty again.
    t.wait_for("empty composer", |s| !s.contains("half a thought"));
    // Idle and empty: the first Ctrl+C only says; the second quits.
    t.send("\x03");
    t.wait_for("the warning", |s| {
        s.contains("Ctrl+C again quits · Ctrl+Q quits at once")
    });
    t.send("\x03");
    assert!(t.wait_exit().success());
}

/// The text each stored answer holds now (finished text plus the batches streamed so far),
/// read the way another process would, with the writer still running.
fn stored_answers(db: &std::path::Path) -> Vec<String> {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return Vec::new();
    };
    let Ok(mut st) = c.prepare(
        "SELECT content || coalesce((SELECT group_concat(text, '') FROM
           (SELECT text FROM chunks WHERE message_id = m.id ORDER BY seq)), '') FROM messages m ORDER BY id",
    ) else {
        return Vec::new();
    };
    st.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[test]
fn kill_9_during_three_streams_loses_at_most_the_last_batch_and_the_restart_shows_them_incomplete()
{
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/slow",
        "-m",
        "test/slow",
        "-m",
        "test/slow",
    ];
    let mut t = Tui::spawn("kill9", &args, &[("fleet.toml", FLEET)]);
    t.wait_for("three ready panes", |s| count(s, "ready") == 3);
    t.send("tell me a story");
    t.wait_for("the prompt typed", |s| s.contains("tell me a story"));
    t.send("\r");
    t.wait_for("three streaming", |s| count(s, "streaming") == 3);
    // Streamed batches reach the database while the streams run.
    let db = t._dir.0.join("state/history.db");
    let start = Instant::now();
    let before = loop {
        let got = stored_answers(&db);
        if got.len() == 3 && got.iter().all(|a| a.split_whitespace().count() >= 3) {
            break got;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "batches never reached {}: {got:?}",
            db.display()
        );
        std::thread::sleep(Duration::from_millis(25));
    };
    let pid = t.child.process_id().unwrap() as i32;
    // SAFETY: a plain signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let _ = t.wait_exit();
    let Tui { _dir: dir, .. } = t;

    // The next start recovers them: the prompt and every batch, marked incomplete.
    let mut args_c = args.to_vec();
    args_c.push("-c");
    let mut t = Tui::spawn_in(dir, &args_c, &[]);
    t.wait_for(
        "the conversation back, three answers marked incomplete",
        |s| {
            count(s, "tell me a story") == 3
                && count(s, "✗ failed") == 3
                && s.contains("3 answer(s) cut off last time are kept, marked incomplete")
        },
    );
    let after = stored_answers(&t._dir.0.join("state/history.db"));
    assert_eq!(after.len(), 3);
    for (b, a) in before.iter().zip(&after) {
        assert!(
            a.starts_with(b.as_str()),
            "kept {a:?}, had {b:?} before the kill"
        );
    }
    // And the next prompt continues the same conversation.
    t.send("\x11");
    assert!(t.wait_exit().success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["history", "show"])
        .env("HOME", &t._dir.0)
        .env("SWITCHYARD_STATE_DIR", t._dir.0.join("state"))
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{md}");
    assert_eq!(
        count(
            &md,
            "incomplete: Switchyard stopped before this answer finished"
        ),
        3,
        "{md}"
    );
    assert!(md.contains("> tell me a story"), "{md}");
}

#[test]
fn f7_finds_an_earlier_conversation_by_a_word_of_its_answer_and_reopens_it() {
    let args = ["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"];
    let mut t = Tui::spawn("f7", &args, &[("fleet.toml", FLEET)]);
    t.wait_for("a ready pane", |s| count(s, "ready") == 1);
    t.send("what is a pivot");
    t.wait_for("the prompt typed", |s| s.contains("what is a pivot"));
    t.send("\r");
    t.wait_for("the answer done", |s| s.contains("✓ done"));
    // A word of the answer as the fleet wrote it (deterministic for its seed).
    let screen = t.screen();
    let word = screen
        .lines()
        .skip_while(|l| !l.contains("what is a pivot"))
        .skip(1)
        .flat_map(|l| l.split(|c: char| !c.is_alphabetic()))
        .find(|w| w.len() >= 7)
        .expect("a long word in the answer")
        .to_string();
    // A new conversation, then F7 finds the first by that word.
    t.send("\x0c");
    t.wait_for("a new conversation", |s| {
        s.contains("new conversation") && !s.contains("what is a pivot")
    });
    t.send("\x1b[18~"); // F7
    t.wait_for("the list", |s| {
        s.contains("1 conversation(s), latest first") && s.contains("what is a pivot")
    });
    t.send(&word.to_lowercase());
    t.wait_for("a hit for the word", |s| {
        s.contains("hit(s), latest first") && s.contains("turn 1 · test/fast-a")
    });
    t.send("\r");
    t.wait_for("the conversation reopened", |s| {
        s.contains("opened “what is a pivot”")
            && s.contains("what is a pivot")
            && !s.contains("History")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

#[test]
fn no_history_writes_nothing_and_says_so() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/fast-a",
        "--no-history",
    ];
    let mut t = Tui::spawn("nohist", &args, &[("fleet.toml", FLEET)]);
    t.wait_for("a ready pane and the badge", |s| {
        count(s, "ready") == 1 && s.contains("no history")
    });
    t.send("secret plans\r");
    t.wait_for("the answer done", |s| s.contains("✓ done"));
    t.send("\x1b[18~");
    t.wait_for("F7 says why", |s| s.contains("history is off for this run"));
    t.send("\x11");
    assert!(t.wait_exit().success());
    assert!(!t._dir.0.join("state/history.db").exists());
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_brings_the_screen_back() {
    // A real interactive shell with job control on the terminal, as a user has.
    let home = TempDir::new("suspend");
    std::fs::write(home.0.join("fleet.toml"), FLEET).unwrap();
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let mut t = Tui::spawn_program(home, "bash", &["--norc", "--noprofile", "-i"], &[]);
    t.send("PS1='sh$ '\r");
    t.wait_for("the shell's prompt", |s| s.contains("sh$ "));
    t.send(&format!(
        "{bin} --fleet fleet.toml -m test/fast-a --no-history\r"
    ));
    t.wait_for("the workbench", |s| count(s, "ready") == 1);
    t.send("half a prompt");
    t.wait_for("the draft", |s| s.contains("half a prompt"));
    t.send("\x1a");
    t.wait_for("the shell, the job stopped", |s| {
        s.contains("Stopped") && !s.contains("half a prompt")
    });
    t.send("fg\r");
    t.wait_for("the workbench redrawn with the draft", |s| {
        count(s, "ready") == 1 && s.contains("half a prompt")
    });
    t.send("\x11");
    t.wait_for("the shell again", |s| {
        s.contains("sh$ ") && !s.contains("ready")
    });
    t.send("exit\r");
    let _ = t.wait_exit();
}

#[test]
fn a_full_history_says_so_once_and_the_answer_streams_on() {
    // A cap below what the database already holds: every write that needs a new page fails,
    // as on a full disk.
    let fleet = r#"
seed = 7
[[providers]]
name = "Hare"
slug = "hare"
[[providers.models]]
id = "test/long"
prompt_price = 0.5
completion_price = 1.5
ttft_ms = { mean = 50 }
tokens_per_sec = { mean = 2000 }
answer_tokens = 4000
"#;
    let config = "[history]\nmax_mb = 0.001\n";
    let args = ["--fleet", "{dir}/fleet.toml", "-m", "test/long"];
    let mut t = Tui::spawn(
        "fulldisk",
        &args,
        &[
            ("fleet.toml", fleet),
            ("config/switchyard/config.toml", config),
        ],
    );
    t.wait_for("a ready pane", |s| count(s, "ready") == 1);
    t.send("write at length\r");
    t.wait_for("the answer whole and the warning", |s| {
        s.contains("✓ done") && s.contains("history not saved: the disk is full")
    });
    // The workbench goes on: another prompt streams too.
    t.send("again\r");
    t.wait_for("a second answer", |s| {
        s.contains("\"again") && s.contains("✓ done")
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

const VISION_FLEET: &str = r#"
seed = 3
[[providers]]
name = "Eye"
slug = "eye"
[[providers.models]]
id = "test/vis-a"
prompt_price = 0.5
completion_price = 1
input_modalities = ["text", "image", "file"]
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 2000 }
[[providers.models]]
id = "test/vis-b"
prompt_price = 0.2
completion_price = 0.4
input_modalities = ["text", "image", "file"]
ttft_ms = { mean = 5 }
tokens_per_sec = { mean = 2000 }
"#;

#[test]
fn an_image_typed_in_f5_and_a_pdf_dropped_on_the_prompt_reach_every_pane() {
    use switchyard::attach::fixtures;
    let dir = TempDir::new("attach");
    std::fs::write(dir.0.join("cat.png"), fixtures::png(320, 200)).unwrap();
    std::fs::write(
        dir.0.join("report.pdf"),
        fixtures::pdf(&["Quarterly report\nRevenue grew", "Costs fell"]),
    )
    .unwrap();
    let pdf_path = dir.0.join("report.pdf").display().to_string();
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/vis-a",
        "-m",
        "test/vis-b",
    ];
    let mut t = Tui::spawn_in(dir, &args, &[("fleet.toml", VISION_FLEET)]);
    t.wait_for("two ready panes", |s| count(s, "ready") == 2);
    t.send("\x1b[15~"); // F5
    t.wait_for("the panel", |s| {
        s.contains("Attachments for the next prompt")
    });
    t.send("~/ca\t");
    t.wait_for("the path completed", |s| {
        s.contains("path or URL › ~/cat.png")
    });
    t.send("\r");
    t.wait_for("the image listed", |s| {
        s.contains("1. cat.png  PNG 320×200")
    });
    t.send("\x1b");
    t.wait_for("the panel closed", |s| {
        !s.contains("Attachments for the next prompt")
    });
    // A file dropped on the prompt (a terminal pastes its path) is attached, not typed.
    t.send(&format!("\x1b[200~{pdf_path}\x1b[201~"));
    t.wait_for("the PDF attached", |s| s.contains("2 attached"));
    t.send("what do these show?");
    t.wait_for("the prompt typed", |s| s.contains("what do these show?"));
    t.send("\r");
    t.wait_for("both answers", |s| count(s, "✓ done") == 2);
    // Each pane from its top (Ctrl+Home), the focus moved with Tab: the fleet's opening lines
    // acknowledge both files.
    t.send("\x1b[1;5H\t\x1b[1;5H");
    t.wait_for("both panes acknowledge both files", |s| {
        count(s, "Received 2 attachments") == 2
            && count(s, "image (PNG): 320×200") == 2
            && count(s, "PDF report.pdf: 2 pages") == 2
    });
    // The prompt's chips are in each pane, and nothing stays attached for the next prompt.
    let s = t.screen();
    assert_eq!(count(&s, "▪ cat.png · PNG 320×200"), 2, "{s}");
    assert!(!s.contains("2 attached"), "{s}");
    // The next prompt sends both again: memory let go of them once history had them, so they
    // are read back from history, and the fleet sees the same files.
    t.send("and now?\r");
    t.wait_for("both second answers", |s| count(s, "✓ done") == 2);
    t.wait_for("the files came again from history to both panes", |s| {
        count(s, "Received 2 attachments again, from earlier turns") == 2
            && count(s, "image (PNG): 320×200") == 2
    });
    t.send("\x11");
    assert!(t.wait_exit().success());
}

const BAKEOFF_FLEET: &str = r#"
seed = 12
[[providers]]
name = "Hare"
slug = "hare"
[[providers.models]]
id = "test/a"
prompt_price = 0.5
completion_price = 1.5
ttft_ms = { mean = 30 }
tokens_per_sec = { mean = 800 }
answer_tokens = 60
[[providers.models]]
id = "test/b"
prompt_price = 0.2
completion_price = 0.4
ttft_ms = { mean = 60 }
tokens_per_sec = { mean = 600 }
answer_tokens = 60
[[providers.models]]
id = "test/c"
prompt_price = 1
completion_price = 3
ttft_ms = { mean = 90 }
tokens_per_sec = { mean = 500 }
answer_tokens = 60
"#;

#[test]
fn a_bakeoff_of_five_prompts_on_three_models_in_f10_saves_what_history_recorded() {
    let args = [
        "--fleet",
        "{dir}/fleet.toml",
        "-m",
        "test/a",
        "-m",
        "test/b",
        "-m",
        "test/c",
    ];
    let mut t = Tui::spawn("bakeoff", &args, &[("fleet.toml", BAKEOFF_FLEET)]);
    t.wait_for("three ready panes", |s| count(s, "ready") == 3);
    // Five prompts sent at once: each pane answers them in order (a lane per model).
    for i in 1..=5 {
        t.send(&format!("case {i}: name a colour"));
        t.wait_for("the prompt typed", |s| {
            s.contains(&format!("case {i}: name a colour"))
        });
        t.send("\r");
        t.wait_for("the composer empty again", |s| s.contains("Type a prompt"));
    }
    t.send("\x1b[21~"); // F10
    t.wait_for("every case answered by every model", |s| {
        s.contains("Bake-off · 5 prompts × 3 models") && count(s, "   5    0 ") == 3
    });
    // The highlighted case is the last; vote the second model's answer.
    t.send("\x1b[C");
    t.send("\r");
    t.wait_for("the vote", |s| s.contains("case 5: test/b voted best"));
    t.send("\x13"); // Ctrl+S
    t.wait_for("save as", |s| s.contains("save as › bakeoff.md"));
    t.send(&"\x7f".repeat(10));
    t.send("r.json");
    t.wait_for("the path typed", |s| s.contains("save as › r.json"));
    t.send("\r");
    t.wait_for("saved", |s| s.contains("report saved to r.json"));
    t.send("\x11");
    assert!(t.wait_exit().success());

    let dir = &t._dir.0;
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    // What history recorded of each answer as it ended (the done events' usage and cost).
    let c = rusqlite::Connection::open_with_flags(
        dir.join("state/history.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    for total in r["totals"].as_array().unwrap() {
        let model = total["model"].as_str().unwrap();
        let (n, cost, tokens): (i64, f64, i64) = c
            .query_row(
                "SELECT count(*), sum(cost), sum(prompt_tokens + completion_tokens) FROM messages WHERE model_asked = ?1 AND state = 'complete'",
                [model],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(n, 5, "{model}");
        assert_eq!(total["answered"], 5, "{model}");
        assert!(
            (total["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
            "{model}: {total}"
        );
        assert_eq!(total["tokens"].as_i64(), Some(tokens), "{model}");
        assert_eq!(total["votes"], u32::from(model == "test/b"), "{model}");
    }
}

/// The SGR parameters that set a colour (not the ones that reset to the terminal's own).
fn colour_escapes(bytes: &[u8]) -> Vec<String> {
    let s = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut rest = s.as_ref();
    while let Some(i) = rest.find("\x1b[") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            let params = &rest[..end];
            for p in params.split([';', ':']) {
                let n: u32 = p.parse().unwrap_or(0);
                match n {
                    30..=37 | 40..=47 | 90..=97 | 100..=107 => found.push(params.to_string()),
                    38 | 48 | 58 => {
                        found.push(params.to_string());
                        break;
                    }
                    _ => {}
                }
            }
        }
        rest = &rest[end..];
    }
    found
}

#[test]
fn no_color_draws_a_streamed_answer_and_every_theme_without_one_colour_escape() {
    let mut t = Tui::spawn_env(
        TempDir::new("nocolor"),
        env!("CARGO_BIN_EXE_switchyard"),
        &["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"],
        &[("fleet.toml", FLEET)],
        &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
    );
    t.wait_for("the composer", |s| s.contains("Type a prompt"));
    t.send("Show me some rust code\r");
    t.wait_for("a finished answer", |s| s.contains("✓ done"));
    // Every theme, each drawn once.
    for _ in 0..4 {
        t.send("\x1b[24~");
        t.wait_for("the theme notice", |s| s.contains("theme: "));
    }
    t.send("\x11");
    t.wait_exit();
    let all = t.all.lock().unwrap().clone();
    let found = colour_escapes(&all);
    assert!(
        found.is_empty(),
        "colour escapes with NO_COLOR: {:?}",
        &found[..found.len().min(10)]
    );
    // The same run with colour has them: the scan can fail.
    let mut t = Tui::spawn(
        "colour",
        &["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"],
        &[("fleet.toml", FLEET)],
    );
    t.wait_for("the composer", |s| s.contains("Type a prompt"));
    t.send("\x11");
    t.wait_exit();
    assert!(!colour_escapes(&t.all.lock().unwrap()).is_empty());
}

#[test]
fn auto_follows_a_light_terminal_and_f12_moves_to_the_next_theme() {
    use switchyard::theme::{ColorDepth, ThemeSet};
    let set = ThemeSet::builtin();
    let accent = |name: &str| match set
        .get(name)
        .unwrap()
        .at_depth(ColorDepth::Ansi256)
        .ui
        .accent
        .fg
    {
        Some(ratatui::style::Color::Indexed(i)) => vt100::Color::Idx(i),
        other => panic!("{other:?}"),
    };
    let mut t = Tui::spawn_env(
        TempDir::new("lightbg"),
        env!("CARGO_BIN_EXE_switchyard"),
        &["--fleet", "{dir}/fleet.toml", "-m", "test/fast-a"],
        &[("fleet.toml", FLEET)],
        &[],
    );
    t.background = Some("rgb:ffff/ffff/f0f0");
    t.wait_for("the composer", |s| s.contains("Type a prompt"));
    // The composer's top-left corner is drawn in the theme's accent.
    let corner = |t: &Tui| {
        let p = t.parser.lock().unwrap();
        let screen = p.screen();
        let (rows, _) = screen.size();
        (0..rows.get())
            .find(|&r| screen.contents_between(r, 0, r, 12).contains("Prompt"))
            .and_then(|r| screen.cell(r, 0).map(|c| c.fgcolor()))
    };
    let start = Instant::now();
    while corner(&t) != Some(accent("light")) {
        t.answer_queries();
        assert!(
            start.elapsed() < TIMEOUT,
            "not light: {:?} vs {:?}\n{}",
            corner(&t),
            accent("light"),
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    t.send("\x1b[24~");
    t.wait_for("the next theme", |s| s.contains("theme: high-contrast"));
    let start = Instant::now();
    while corner(&t) != Some(accent("high-contrast")) {
        assert!(
            start.elapsed() < TIMEOUT,
            "not high-contrast: {:?}",
            corner(&t)
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    t.send("\x11");
    t.wait_exit();
}

#[test]
fn a_remapped_key_and_a_vim_sequence_work_and_the_help_shows_the_keys_in_force() {
    let config = "[keys]\npreset = \"vim\"\n[keys.workbench]\nzoom = \"f11\"\n";
    let mut t = Tui::spawn(
        "remap",
        &[
            "--fleet",
            "{dir}/fleet.toml",
            "-m",
            "test/fast-a",
            "-m",
            "test/fast-b",
        ],
        &[
            ("fleet.toml", FLEET),
            ("config/switchyard/config.toml", config),
        ],
    );
    t.wait_for("two ready panes", |s| count(s, "ready") == 2);
    // F1 reads the active table: zoom is on F11 now, and the window commands are listed.
    t.send("\x1bOP");
    t.wait_for("the help", |s| s.contains("zoom the focused pane"));
    let help = t.screen();
    let zoom_row = help
        .lines()
        .find(|l| l.contains("zoom the focused pane"))
        .unwrap();
    assert!(
        zoom_row.contains("F11") && !zoom_row.contains("Ctrl+G"),
        "{zoom_row}"
    );
    let focus_row = help.lines().find(|l| l.contains("focus next")).unwrap();
    assert!(focus_row.contains("Ctrl+W l"), "{focus_row}");
    t.send("\x1b");
    t.wait_for("the help closed", |s| !s.contains("zoom the focused pane"));
    // Ctrl+W waits for its next key, then `l` moves the focus to the second pane.
    t.send("\x17");
    t.wait_for("the sequence pending", |s| s.contains("Ctrl+W …"));
    t.send("l");
    t.wait_for("the sequence done", |s| !s.contains("Ctrl+W …"));
    // F11 zooms the focused pane: only the second pane is drawn.
    t.send("\x1b[23~");
    t.wait_for("the second pane alone", |s| {
        s.contains("test/fast-b") && !s.contains("test/fast-a")
    });
    // The old key does nothing now, and the composer never received the `l`.
    let s = t.screen();
    assert!(
        !s.lines().any(|l| l.trim_start().starts_with("│ l ")),
        "{s}"
    );
    t.send("\x11");
    t.wait_exit();
}
