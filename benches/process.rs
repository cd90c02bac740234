//! Whole-process measurements of the real release binary in a pseudo-terminal, talking to the
//! simulated fleet run as a separate `switchyard sim` process (so the fleet's own work is not
//! counted):
//!
//! 1. `pace`: one pane receives a ≥4000-token markdown answer with many code blocks, one token
//!    every 2 ms. Reports whether the UI kept pace (wall time vs. the stream's own duration) and
//!    the CPU the TUI process spent, from its `/proc/<pid>/stat`.
//! 2. `burst`: 8 panes each receive ≥4000 tokens as fast as the fleet can send them; reports
//!    tokens/s handled and TUI CPU per 1000 tokens.
//! 3. `memory`: 8 panes each receive a ~1 MB answer at full speed; reports the TUI's peak RSS
//!    (`VmHWM`).
//!
//! Run: `cargo bench --bench process` (Linux only; prints a table).

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

fn fleet_toml(models: &[&str], tps: f64, ttft: f64, tokens: u64) -> String {
    let mut s = String::from("seed = 3\n[[providers]]\nname = \"Bench\"\nslug = \"bench\"\n");
    for m in models {
        s.push_str(&format!(
            "[[providers.models]]\nid = \"{m}\"\nprompt_price = 1.0\ncompletion_price = 2.0\ncontext_length = 20000000\nmax_completion_tokens = 10000000\nttft_ms = {{ mean = {ttft} }}\ntokens_per_sec = {{ mean = {tps}, jitter = 0 }}\nanswer_tokens = {tokens}\n"
        ));
    }
    s
}

struct Fleet {
    child: Child,
    base: String,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_fleet(dir: &std::path::Path, toml: &str) -> Fleet {
    let path = dir.join("fleet.toml");
    std::fs::write(&path, toml).unwrap();
    let mut child = Command::new(BIN)
        .args(["--fleet", path.to_str().unwrap(), "sim"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    let base = line.split_whitespace().last().unwrap().to_string();
    // Keep draining so the fleet never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    Fleet { child, base }
}

struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    queried: Arc<std::sync::atomic::AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    pid: u32,
}

fn spawn_tui(args: &[String], dir: &std::path::Path) -> Tui {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    for a in args {
        cmd.arg(a);
    }
    cmd.env("XDG_CONFIG_HOME", dir.join("cfg"));
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("OPENROUTER_API_KEY");
    let child = pty.slave.spawn_command(cmd).unwrap();
    let pid = child.process_id().unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = pty.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        50.try_into().unwrap(),
        200.try_into().unwrap(),
        0,
    )));
    let p2 = parser.clone();
    let queried = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let q2 = queried.clone();
    let master = pty.master;
    std::thread::spawn(move || {
        let _keep = master;
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if buf[..n].windows(3).any(|w| w == b"\x1b[c") {
                q2.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            p2.lock().unwrap().process(&buf[..n]);
        }
    });
    Tui {
        parser,
        queried,
        writer,
        child,
        pid,
    }
}

impl Tui {
    fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            if self
                .queried
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                // Answer crossterm's terminal query as a real terminal would.
                self.send("\x1b[?1;2c");
            }
            let s = self.parser.lock().unwrap().screen().contents();
            if pred(&s) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }
    /// User + system CPU seconds of the TUI process so far.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the comm field.
        let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
        ticks / 100.0
    }
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .unwrap()
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kb / 1024.0
    }
    fn quit(mut self) {
        self.send("\x11");
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(30), "did not quit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn pace(dir: &std::path::Path) {
    let fleet = start_fleet(dir, &fleet_toml(&["bench/pace"], 500.0, 10.0, 4000));
    let args: Vec<String> = ["--base-url", &fleet.base, "-m", "bench/pace"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut tui = spawn_tui(&args, dir);
    tui.wait_for("the pane", |s| s.contains("ready"));
    tui.send("Explain quicksort with code");
    let cpu0 = tui.cpu();
    let t0 = Instant::now();
    tui.send("\r");
    tui.wait_for("the answer to finish", |s| s.contains("✓ done"));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = tui.cpu() - cpu0;
    let screen = tui.parser.lock().unwrap().screen().contents();
    let toks = screen
        .split(" tok ")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap_or("?")
        .to_string();
    let total_cpu = tui.cpu();
    tui.quit();
    println!(
        "pace: {toks} tokens at 2 ms/token (stream ≈ {:.1} s): wall {wall:.2} s, TUI CPU during stream {cpu:.2} s, whole process {total_cpu:.2} s",
        4000.0 * 0.002
    );
}

/// A full-speed fleet of 8 models answering at least `answer_tokens` each, and the workbench
/// with one ready pane per model.
fn eight_panes(dir: &std::path::Path, tag: &str, answer_tokens: u64) -> (Fleet, Tui) {
    let models: Vec<String> = (0..8).map(|i| format!("bench/{tag}-{i}")).collect();
    let refs: Vec<&str> = models.iter().map(|s| s.as_str()).collect();
    let fleet = start_fleet(dir, &fleet_toml(&refs, 100_000.0, 0.0, answer_tokens));
    let mut args: Vec<String> = vec!["--base-url".into(), fleet.base.clone()];
    for m in &models {
        args.push("-m".into());
        args.push(m.clone());
    }
    let mut tui = spawn_tui(&args, dir);
    tui.wait_for("8 panes", |s| s.matches("ready").count() == 8);
    (fleet, tui)
}

fn burst(dir: &std::path::Path) {
    let (_fleet, mut tui) = eight_panes(dir, "burst", 4000);
    tui.send("Explain quicksort with code");
    let cpu0 = tui.cpu();
    let t0 = Instant::now();
    tui.send("\r");
    tui.wait_for("all 8 answers", |s| s.matches("✓ done").count() == 8);
    let wall = t0.elapsed().as_secs_f64();
    let cpu = tui.cpu() - cpu0;
    tui.quit();
    // Each answer is at least 4000 tokens; count them as 4000 (a lower bound).
    let tokens = 8.0 * 4000.0;
    println!(
        "burst: 8 panes × ≥4000 tokens at full speed: {:.0} tokens/s handled, {:.1} ms CPU per 1000 tokens (wall {wall:.2} s, CPU {cpu:.2} s)",
        tokens / wall,
        cpu * 1000.0 / (tokens / 1000.0)
    );
}

fn memory(dir: &std::path::Path) {
    // ~1 MB of text is about 200 000 tokens of this fleet's prose.
    let (_fleet, mut tui) = eight_panes(dir, "mem", 200_000);
    tui.send("Explain quicksort with code");
    let t0 = Instant::now();
    tui.send("\r");
    tui.wait_for("all 8 answers", |s| s.matches("✓ done").count() == 8);
    let wall = t0.elapsed().as_secs_f64();
    let rss = tui.peak_rss_mb();
    let cpu = tui.cpu();
    tui.quit();
    println!(
        "memory: 8 panes × ~1 MB answers: peak RSS {rss:.1} MB, wall {wall:.1} s, TUI CPU {cpu:.2} s"
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` lists benches; nothing to list here.
        return;
    }
    let dir = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if only.is_empty() || only.iter().any(|a| a == "pace") {
        pace(&dir);
    }
    if only.is_empty() || only.iter().any(|a| a == "burst") {
        burst(&dir);
    }
    if only.is_empty() || only.iter().any(|a| a == "memory") {
        memory(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
