//! A hostile server, one behaviour per path, against the real `ask` binary reached as a plain
//! `--base-url` server. Each behaviour is bounded in wall time, in the CPU the process spent and in
//! its peak memory (from `getrusage` of the reaped child: this file holds one test so no other
//! child is counted), and ends with a message that says what happened. The cases run one after another in one test
//! so each child's usage is its own.
//!
//! The workbench's side (escape sequences, signals, pastes) is in `e2e_pty.rs`.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// One event made of `n` choices, each a delta of one character: only the first is asked for.
fn many_choices(n: usize) -> String {
    let mut s = String::from(r#"data: {"id":"x","object":"chat.completion.chunk","choices":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(r#"{{"index":{i},"delta":{{"content":"x"}}}}"#));
    }
    s.push_str("]}\n\n");
    s
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

/// Serves one request the way its path says.
fn serve(mut s: TcpStream) {
    let Some((line, _)) = common::read_request(&s) else {
        return;
    };
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let behaviour = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if path.ends_with("/models") {
        common::reply(
            &mut s,
            "200 OK",
            "application/json",
            r#"{"data":[{"id":"m/x"}]}"#,
        );
        return;
    }
    match behaviour {
        // Keep-alive comments as fast as the socket takes them.
        "flood" => {
            let block = ": keep-alive\n\n".repeat(4096);
            let _ = s.write_all(SSE_HEAD.as_bytes());
            while s.write_all(block.as_bytes()).is_ok() {}
        }
        // Empty events forever: bytes, but nothing to show.
        "empty-events" => {
            let block = "data: {}\n\n".repeat(4096);
            let _ = s.write_all(SSE_HEAD.as_bytes());
            while s.write_all(block.as_bytes()).is_ok() {}
        }
        // One byte every half second: never silent long enough to stall.
        "drip" => {
            let _ = s.write_all(SSE_HEAD.as_bytes());
            while s.write_all(b":").is_ok() {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        // One `data:` line that never ends.
        "endless-line" => {
            let block = vec![b'a'; 64 * 1024];
            let _ = s.write_all(SSE_HEAD.as_bytes());
            let _ = s.write_all(b"data: {\"choices\":[{\"delta\":{\"content\":\"");
            while s.write_all(&block).is_ok() {}
        }
        "many-choices" => {
            let _ = s.write_all(SSE_HEAD.as_bytes());
            let _ = s.write_all(many_choices(300_000).as_bytes());
            let _ = s.write_all(
                b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
            );
        }
        // `stream: true` ignored: one whole completion.
        "json-body" => common::reply(
            &mut s,
            "200 OK",
            "application/json",
            r#"{"id":"c1","object":"chat.completion","model":"m/x","choices":[{"index":0,"message":{"role":"assistant","content":"a whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}"#,
        ),
        "html" => common::reply(
            &mut s,
            "200 OK",
            "text/html",
            "<!doctype html><html><body>Welcome to nginx!</body></html>",
        ),
        "empty" => common::reply(&mut s, "200 OK", "text/event-stream", ""),
        "garbage" => {
            let bytes: Vec<u8> = (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = s.write_all(&bytes);
        }
        _ => common::reply(&mut s, "404 Not Found", "text/plain", "no such behaviour"),
    }
}

fn start() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    addr
}

/// CPU seconds and peak RSS (MB) of every reaped child so far.
fn children_usage() -> (f64, f64) {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(u.ru_utime) + t(u.ru_stime), u.ru_maxrss as f64 / 1024.0)
}

/// Limits small enough for a quick test; one attempt, so the bound is the stream's own.
const CONFIG: &str = r#"
[limits]
thinking_timeout_s = 3
no_progress_timeout_s = 3
max_event_mb = 12

[routing]
max_attempts = 1
"#;

struct Case {
    path: &'static str,
    ok: bool,
    says: &'static str,
    /// Wall-time bound, seconds.
    within: f64,
    /// CPU bound for the process, seconds.
    cpu: f64,
    /// Peak memory bound, MB.
    rss: f64,
}

#[test]
fn every_hostile_behaviour_ends_bounded_in_time_cpu_and_memory_with_a_message() {
    let addr = start();
    let cfg = common::config_home(CONFIG);
    let cases = [
        Case {
            path: "flood",
            ok: false,
            says: "no first token within 3s",
            within: 30.0,
            cpu: 1.5,
            rss: 120.0,
        },
        Case {
            path: "empty-events",
            ok: false,
            says: "no first token within 3s",
            within: 30.0,
            cpu: 1.5,
            rss: 120.0,
        },
        Case {
            path: "drip",
            ok: false,
            says: "no first token within 3s",
            within: 30.0,
            cpu: 1.0,
            rss: 120.0,
        },
        Case {
            path: "endless-line",
            ok: false,
            says: "one event passed 12 MB",
            within: 30.0,
            cpu: 3.0,
            rss: 150.0,
        },
        // ~10 MB in one event: only the first choice is built.
        Case {
            path: "many-choices",
            ok: true,
            says: "x",
            within: 30.0,
            cpu: 5.0,
            rss: 200.0,
        },
        Case {
            path: "json-body",
            ok: true,
            says: "a whole answer",
            within: 20.0,
            cpu: 1.0,
            rss: 120.0,
        },
        Case {
            path: "html",
            ok: false,
            says: "HTML page",
            within: 20.0,
            cpu: 1.0,
            rss: 120.0,
        },
        Case {
            path: "empty",
            ok: false,
            says: "empty",
            within: 20.0,
            cpu: 1.0,
            rss: 120.0,
        },
        Case {
            path: "garbage",
            ok: false,
            says: "not an event stream",
            within: 20.0,
            cpu: 1.0,
            rss: 120.0,
        },
    ];
    for c in &cases {
        let (cpu0, _) = children_usage();
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .env_remove("OPENROUTER_API_KEY")
            .env("XDG_CONFIG_HOME", &cfg)
            .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
            .args([
                "ask",
                "--base-url",
                &format!("{addr}/{}/v1", c.path),
                "-m",
                "m/x",
                "hi",
            ])
            .output()
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        let (cpu1, rss) = children_usage();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let what = format!(
            "{}: took {took:.1} s, CPU {:.2} s, peak {rss:.0} MB; said:\n{text}",
            c.path,
            cpu1 - cpu0
        );
        assert_eq!(out.status.success(), c.ok, "{what}");
        assert!(text.contains(c.says), "{what}");
        if c.path == "many-choices" {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "x", "{what}");
        }
        assert!(took < c.within, "{what}");
        assert!(cpu1 - cpu0 < c.cpu, "{what}");
        assert!(rss < c.rss, "{what}");
        eprintln!("{what}");
    }
}
