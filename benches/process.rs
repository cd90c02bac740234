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
//! 5. `bakeoff`: `switchyard bakeoff` of 50 cases × 4 models on the built-in fleet (its delays
//!    scaled by 0.05 so a run takes seconds), concurrency 4; reports the wall time against the
//!    slowest lane (the sum of one model's answer times: what that model alone takes one case
//!    at a time) and the whole process's CPU (the embedded fleet included), from `getrusage`.
//!
//! Run: `cargo bench --bench process` (Linux only; prints a table). History is on, in the run's
//! own state directory; `HISTORY=off` runs the same with `--no-history`.

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

impl Fleet {
    /// The fleet as an OpenAI-compatible server, as its banner advertises (`…/v1`).
    fn openai_base(&self) -> String {
        self.base.replace("/api/v1", "/v1")
    }
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
    // HISTORY=off measures the same run without history (it is on by default, as for users).
    if std::env::var("HISTORY").as_deref() == Ok("off") {
        cmd.arg("--no-history");
    }
    cmd.env("XDG_CONFIG_HOME", dir.join("cfg"));
    cmd.env("SWITCHYARD_STATE_DIR", dir.join("state"));
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
    /// Peak resident memory so far, MB.
    fn peak_rss_mb(&self) -> f64 {
        self.status_mb("VmHWM:")
    }
    /// Resident memory now, MB.
    fn rss_mb(&self) -> f64 {
        self.status_mb("VmRSS:")
    }
    /// A `kB` field of `/proc/<pid>/status`, in MB.
    fn status_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
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

/// Runs per figure: `RUNS=5 cargo bench --bench process -- pace` (default 1).
fn runs() -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// Min, median and max of a series, for the summary line.
fn spread(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

/// Completion tokens the fleet sends for `prompt` to each model, counted by asking it once
/// more through `switchyard ask --json` (the fleet's answers are deterministic).
fn count_tokens(fleet: &Fleet, models: &[String], prompt: &str, dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for m in models {
        let out = Command::new(BIN)
            .args([
                "ask",
                "--json",
                "--base-url",
                &fleet.openai_base(),
                "-m",
                m,
                prompt,
            ])
            .env("XDG_CONFIG_HOME", dir.join("cfg"))
            .env("SWITCHYARD_STATE_DIR", dir.join("state-count"))
            .env_remove("OPENROUTER_API_KEY")
            .output()
            .unwrap();
        let done = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["type"] == "done")
            .unwrap_or_else(|| panic!("no answer from {m}"));
        total += done["usage"]["completion_tokens"].as_u64().unwrap();
    }
    total
}

/// The widths of the panes in the top row of the screen (the set-up the figure comes from).
fn layout(screen: &str) -> String {
    let rows = screen
        .lines()
        .filter(|l| l.contains('┏') || l.contains('╭'))
        .count();
    let first = screen.lines().next().unwrap_or("");
    let starts: Vec<usize> = first
        .chars()
        .enumerate()
        .filter(|(_, c)| *c == '┏' || *c == '╭')
        .map(|(i, _)| i)
        .collect();
    let width = first.chars().count();
    let widths: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(k, &a)| (starts.get(k + 1).copied().unwrap_or(width) - a).to_string())
        .collect();
    format!(
        "top row pane widths [{}], {rows} rows of boxes",
        widths.join(", ")
    )
}

const PROMPT: &str = "Explain quicksort with code";

fn pace(dir: &std::path::Path) {
    let fleet = start_fleet(dir, &fleet_toml(&["bench/pace"], 500.0, 10.0, 4000));
    let models = vec!["bench/pace".to_string()];
    let tokens = count_tokens(&fleet, &models, PROMPT, dir);
    let stream_s = tokens as f64 * 0.002;
    let (mut cpus, mut walls) = (Vec::new(), Vec::new());
    for run in 1..=runs() {
        // The source is `switchyard sim` reached as an ordinary OpenAI-compatible server
        // (Switchyard's router), or with SOURCE=gateway as a config provider that routes
        // itself (kind `openrouter`), for comparison.
        let args: Vec<String> = if std::env::var("SOURCE").as_deref() == Ok("gateway") {
            std::fs::create_dir_all(dir.join("cfg/switchyard")).unwrap();
            std::fs::write(
                dir.join("cfg/switchyard/config.toml"),
                format!(
                    "[[providers]]\nname = \"sim\"\nkind = \"openrouter\"\nbase_url = \"{}\"\n",
                    fleet.base
                ),
            )
            .unwrap();
            ["--provider", "sim", "-m", "bench/pace"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            ["--base-url", &fleet.openai_base(), "-m", "bench/pace"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        // PANEL=schema: the request carries a JSON schema (validated when the answer ends) and
        // the structured-output panel stays open beside the pane while it streams.
        let panel = std::env::var("PANEL").as_deref() == Ok("schema");
        let mut args = args;
        if panel {
            let schema = dir.join("sentiment.json");
            std::fs::write(&schema, switchyard::schema::TEMPLATES[0].2).unwrap();
            args.extend([
                "--schema".to_string(),
                schema.to_str().unwrap().to_string(),
                "--no-require-parameters".to_string(),
            ]);
        }
        let mut tui = spawn_tui(&args, dir);
        tui.wait_for("the pane", |s| s.contains("ready"));
        tui.send(PROMPT);
        let t0 = Instant::now();
        tui.send("\r");
        if panel {
            // Once the prompt is sent (an Enter followed at once by more keys would be a
            // pasted newline), open the panel.
            tui.wait_for("the request", |s| {
                s.contains("waiting") || s.contains("streaming")
            });
            tui.send("\x1bOS");
            tui.wait_for("the schema panel", |s| s.contains("Structured output"));
        }
        tui.wait_for("the answer to finish", |s| s.contains("✓ done"));
        if panel {
            // The prose answer is checked against the schema when it ends.
            tui.wait_for("the verdict", |s| s.contains("✗ invalid"));
        }
        let wall = t0.elapsed().as_secs_f64();
        let total_cpu = tui.cpu();
        tui.quit();
        println!(
            "pace run {run}: {tokens} tokens at 2 ms/token (stream ≈ {stream_s:.2} s): wall {wall:.2} s, whole TUI process CPU {total_cpu:.2} s"
        );
        cpus.push(total_cpu);
        walls.push(wall);
    }
    let (lo, med, hi) = spread(&mut cpus);
    let (wlo, _, whi) = spread(&mut walls);
    println!(
        "pace: {} run(s): CPU {lo:.2}–{hi:.2} s, median {med:.2} s; wall {wlo:.2}–{whi:.2} s for a {stream_s:.2} s stream",
        cpus.len()
    );
}

/// A full-speed fleet of 8 models answering at least `answer_tokens` each, and the workbench
/// with one ready pane per model.
fn eight_panes(dir: &std::path::Path, fleet: &Fleet, models: &[String]) -> Tui {
    let mut args: Vec<String> = vec!["--base-url".into(), fleet.openai_base()];
    for m in models {
        args.push("-m".into());
        args.push(m.clone());
    }
    let mut tui = spawn_tui(&args, dir);
    tui.wait_for("8 panes", |s| s.matches("ready").count() == 8);
    tui
}

fn eight_models(tag: &str) -> Vec<String> {
    (0..8).map(|i| format!("bench/{tag}-{i}")).collect()
}

fn burst(dir: &std::path::Path) {
    let models = eight_models("burst");
    let refs: Vec<&str> = models.iter().map(|s| s.as_str()).collect();
    let fleet = start_fleet(dir, &fleet_toml(&refs, 100_000.0, 0.0, 4000));
    let tokens = count_tokens(&fleet, &models, PROMPT, dir) as f64;
    let (mut rates, mut per_k) = (Vec::new(), Vec::new());
    for run in 1..=runs() {
        let mut tui = eight_panes(dir, &fleet, &models);
        tui.send(PROMPT);
        let cpu0 = tui.cpu();
        let t0 = Instant::now();
        tui.send("\r");
        tui.wait_for("all 8 answers", |s| s.matches("✓ done").count() == 8);
        let wall = t0.elapsed().as_secs_f64();
        let cpu = tui.cpu() - cpu0;
        let screen = tui.parser.lock().unwrap().screen().contents();
        tui.quit();
        println!(
            "burst run {run}: {tokens:.0} tokens (counted) over 8 panes at full speed: {:.0} tokens/s handled, {:.1} ms CPU per 1000 tokens (wall {wall:.2} s, CPU {cpu:.2} s); {}",
            tokens / wall,
            cpu * 1000.0 / (tokens / 1000.0),
            layout(&screen)
        );
        rates.push(tokens / wall);
        per_k.push(cpu * 1000.0 / (tokens / 1000.0));
    }
    let (lo, med, hi) = spread(&mut rates);
    let (clo, cmed, chi) = spread(&mut per_k);
    println!(
        "burst: {} run(s): {lo:.0}–{hi:.0} tokens/s (median {med:.0}); {clo:.1}–{chi:.1} ms CPU per 1000 tokens (median {cmed:.1})",
        rates.len()
    );
}

fn memory(dir: &std::path::Path) {
    // ~1 MB of text is about 200 000 tokens of this fleet's prose.
    let models = eight_models("mem");
    let refs: Vec<&str> = models.iter().map(|s| s.as_str()).collect();
    let fleet = start_fleet(dir, &fleet_toml(&refs, 100_000.0, 0.0, 200_000));
    let mut peaks = Vec::new();
    for run in 1..=runs() {
        let mut tui = eight_panes(dir, &fleet, &models);
        tui.send(PROMPT);
        let t0 = Instant::now();
        tui.send("\r");
        tui.wait_for("all 8 answers", |s| s.matches("✓ done").count() == 8);
        let wall = t0.elapsed().as_secs_f64();
        let rss = tui.peak_rss_mb();
        let cpu = tui.cpu();
        let screen = tui.parser.lock().unwrap().screen().contents();
        tui.quit();
        println!(
            "memory run {run}: 8 panes × ~1 MB answers: peak RSS {rss:.1} MB, wall {wall:.1} s, TUI CPU {cpu:.2} s; {}",
            layout(&screen)
        );
        peaks.push(rss);
    }
    let (lo, med, hi) = spread(&mut peaks);
    println!(
        "memory: {} run(s): peak RSS {lo:.1}–{hi:.1} MB (median {med:.1})",
        peaks.len()
    );
}

/// A 20 MB PDF and a 4000×3000 photo dropped on the prompt of two panes, previewed in F5, then
/// sent: resident memory before, the peak while they are read, decoded and previewed, and what
/// stays once both answers are in.
fn attach_memory(dir: &std::path::Path) {
    use switchyard::attach::fixtures;
    let models = ["bench/eye-0".to_string(), "bench/eye-1".to_string()];
    let refs: Vec<&str> = models.iter().map(|s| s.as_str()).collect();
    // Short answers: the acknowledgement stays on screen to be waited for.
    let toml = fleet_toml(&refs, 5000.0, 5.0, 30).replace(
        "answer_tokens",
        "input_modalities = [\"text\", \"image\", \"file\"]\nanswer_tokens",
    );
    let fleet = start_fleet(dir, &toml);
    let pages: Vec<String> = (0..40).map(|i| format!("Page {i}: figures")).collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let pdf = dir.join("big.pdf");
    std::fs::write(&pdf, fixtures::heavy_pdf(&pages, 20 << 20)).unwrap();
    let photo = dir.join("photo.jpg");
    std::fs::write(&photo, fixtures::jpeg(4000, 3000)).unwrap();
    let mut rows = Vec::new();
    for run in 1..=runs() {
        let mut args: Vec<String> = vec!["--base-url".into(), fleet.openai_base()];
        for m in &models {
            args.push("-m".into());
            args.push(m.clone());
        }
        let mut tui = spawn_tui(&args, dir);
        tui.wait_for("2 panes", |s| s.matches("ready").count() == 2);
        let before = tui.rss_mb();
        // One plain round trip first: what streaming itself pages in (code, connections,
        // history's pages) is not what the attachments leave behind.
        tui.send("hello\r");
        tui.wait_for("the plain answers", |s| s.matches("✓ done").count() == 2);
        let warm = (tui.rss_mb(), tui.status_mb("RssAnon:"), tui.peak_rss_mb());
        let t0 = Instant::now();
        tui.send(&format!("\x1b[200~{}\x1b[201~", pdf.display()));
        tui.wait_for("the PDF attached", |s| s.contains(" 1 attached "));
        tui.send(&format!("\x1b[200~{}\x1b[201~", photo.display()));
        tui.wait_for("the photo attached", |s| s.contains(" 2 attached "));
        let read = t0.elapsed().as_secs_f64();
        tui.send("\x1b[15~");
        tui.wait_for("the panel", |s| {
            s.contains("Attachments for the next prompt")
        });
        tui.send("\x1b[B");
        tui.wait_for("the photo's preview", |s| {
            s.contains("┌ photo.jpg · JPEG 2048×1536")
        });
        let peak = tui.peak_rss_mb();
        let attached = tui.rss_mb();
        tui.send("\x1b");
        tui.wait_for("the panel closed", |s| {
            !s.contains("Attachments for the next prompt")
        });
        tui.send("summarise both");
        tui.send("\r");
        tui.wait_for("both answers", |s| {
            s.matches("Received 2 attachments").count() == 2 && s.matches("✓ done").count() == 2
        });
        let after = (tui.rss_mb(), tui.status_mb("RssAnon:"));
        tui.quit();
        println!(
            "attach run {run}: RSS at start {before:.1} MB, after a plain prompt {:.1} MB ({:.1} MB anonymous, peak so far {:.1} MB); both read in {read:.2} s; peak {peak:.1} MB, with both attached {attached:.1} MB; after the send and both answers {:.1} MB ({:.1} MB anonymous)",
            warm.0, warm.1, warm.2, after.0, after.1
        );
        rows.push([
            before, warm.0, warm.1, peak, attached, after.0, after.1, warm.2,
        ]);
    }
    let med = |i: usize| {
        let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
        spread(&mut v).1
    };
    println!(
        "attach: {} run(s), medians: at start {:.1} MB, after a plain prompt {:.1} MB ({:.1} anonymous, peak so far {:.1} MB), peak {:.1} MB, attached {:.1} MB, after the send {:.1} MB ({:.1} anonymous): {:+.0} % of the plain prompt's RSS, {:+.0} % of the peak before attaching",
        rows.len(),
        med(0),
        med(1),
        med(2),
        med(7),
        med(3),
        med(4),
        med(5),
        med(6),
        100.0 * (med(5) - med(1)) / med(1),
        100.0 * (med(5) - med(7)) / med(7)
    );
}

/// CPU seconds (user + system) of every waited-for child so far.
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn bakeoff(dir: &std::path::Path) {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let builtin =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fleet.toml"))
            .unwrap()
            .replace("time_scale = 1.0", "time_scale = 0.05");
    let fleet = dir.join("bakeoff-fleet.toml");
    std::fs::write(&fleet, builtin).unwrap();
    let cases = dir.join("cases.jsonl");
    let text: String = (1..=50)
        .map(|i| format!("{{\"id\":\"c{i}\",\"prompt\":\"Case {i}: explain idea number {i}\"}}\n"))
        .collect();
    std::fs::write(&cases, text).unwrap();
    let models = [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
        "deepseek/deepseek-chat-v3.1",
        "meta-llama/llama-3.3-70b-instruct",
    ];
    let mut rows = Vec::new();
    for run in 0..runs {
        let state = dir.join(format!("bakeoff-state-{run}"));
        let report = dir.join(format!("bakeoff-{run}.json"));
        let mut cmd = Command::new(BIN);
        cmd.env_remove("OPENROUTER_API_KEY")
            .env("SWITCHYARD_STATE_DIR", &state)
            .env("XDG_CONFIG_HOME", dir.join("no-config"))
            .args(["--fleet", fleet.to_str().unwrap(), "bakeoff", "--cases"])
            .arg(&cases)
            .args(["--concurrency", "4", "--report"])
            .arg(&report);
        for m in models {
            cmd.args(["-m", m]);
        }
        let cpu0 = children_cpu();
        let t0 = Instant::now();
        let out = cmd.output().unwrap();
        let wall = t0.elapsed().as_secs_f64();
        let cpu = children_cpu() - cpu0;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let lane = |m: &str| -> f64 {
            r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|row| row["model"] == m)
                .map(|row| row["total_ms"].as_f64().unwrap())
                .sum::<f64>()
                / 1000.0
        };
        let slowest = models.iter().map(|m| lane(m)).fold(0.0, f64::max);
        let answered = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["finish"] == "complete")
            .count();
        println!(
            "bakeoff run {run}: 50 cases × 4 models, concurrency 4: wall {wall:.2} s, slowest lane {slowest:.2} s ({:.0} %), {answered}/200 complete, CPU {cpu:.2} s",
            100.0 * wall / slowest
        );
        rows.push((wall, slowest, cpu));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = rows[rows.len() / 2];
    println!(
        "bakeoff median of {runs}: wall {:.2} s against the slowest lane's {:.2} s, CPU {:.2} s",
        m.0, m.1, m.2
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
    if only.is_empty() || only.iter().any(|a| a == "attach") {
        attach_memory(&dir);
    }
    if only.is_empty() || only.iter().any(|a| a == "bakeoff") {
        bakeoff(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
