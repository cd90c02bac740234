//! A server that takes one stream at a time, as llama-cpp-python does by default: a second
//! request interrupts the running stream (the connection closes without a finish). Two
//! answers asked at once must both complete, never ping-pong, with the user told why.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Chat requests the server has seen, and how many streams it interrupted.
#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    interrupted: AtomicUsize,
}

fn interrupting_server() -> (String, Arc<Stats>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let stats = Arc::new(Stats::default());
    let running: Arc<Mutex<Option<Arc<AtomicBool>>>> = Arc::default();
    let st = stats.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(s) = conn else { continue };
            let (st, running) = (st.clone(), running.clone());
            std::thread::spawn(move || serve(s, &st, &running));
        }
    });
    (format!("http://{addr}/v1"), stats)
}

fn serve(mut s: std::net::TcpStream, st: &Stats, running: &Mutex<Option<Arc<AtomicBool>>>) {
    let Some((line, _)) = common::read_request(&s) else {
        return;
    };
    if line.starts_with("GET /v1/models") {
        let list = r#"{"object":"list","data":[{"id":"local/llama","object":"model"}]}"#;
        return common::reply(&mut s, "200 OK", "application/json", list);
    }
    st.requests.fetch_add(1, Ordering::SeqCst);
    // A new request interrupts whatever is streaming.
    let mine = Arc::new(AtomicBool::new(false));
    if let Some(prev) = running.lock().unwrap().replace(mine.clone()) {
        prev.store(true, Ordering::SeqCst);
    }
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    );
    for i in 0..30 {
        if mine.load(Ordering::SeqCst) {
            st.interrupted.fetch_add(1, Ordering::SeqCst);
            return; // closed mid-answer: no finish, no [DONE]
        }
        let c = format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}},\"finish_reason\":null}}]}}\n\n"
        );
        if s.write_all(c.as_bytes()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = s.write_all(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    );
}

fn events(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_server_that_interrupts_is_recognised_and_both_answers_complete() {
    let (url, stats) = interrupting_server();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", common::fresh_state_dir())
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .args(["ask", "--json", "--base-url", &url])
        .args(["-m", "local/llama", "-m", "local/llama", "hi"])
        .output()
        .unwrap();
    let ev = events(&out);
    assert!(
        out.status.success(),
        "{}\n{ev:#?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: Vec<_> = ev.iter().filter(|e| e["type"] == "done").collect();
    assert_eq!(done.len(), 2);
    for d in done {
        assert!(d["text"].as_str().unwrap().contains("w29"), "{d}");
    }
    assert!(
        ev.iter().any(|e| e["type"] == "notice"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("one stream at a time")),
        "{ev:#?}"
    );
    // One interruption to learn from, then one at a time: no ping-pong.
    assert_eq!(stats.interrupted.load(Ordering::SeqCst), 1);
    assert_eq!(stats.requests.load(Ordering::SeqCst), 3);
}

#[test]
fn max_concurrent_queues_the_second_request_instead_of_sending_it() {
    let (url, stats) = interrupting_server();
    let home = common::config_home(&format!(
        "[[providers]]\nname = \"llama\"\nkind = \"openai\"\nbase_url = \"{url}\"\nmax_concurrent = 1\n"
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", &home)
        .env("SWITCHYARD_STATE_DIR", common::fresh_state_dir())
        .args(["ask", "--provider", "llama"])
        .args(["-m", "local/llama", "-m", "local/llama", "hi"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("queued behind 1 request to llama"), "{err}");
    assert_eq!(stats.interrupted.load(Ordering::SeqCst), 0, "{err}");
    assert_eq!(stats.requests.load(Ordering::SeqCst), 2);
}
