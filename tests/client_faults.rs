//! The client against scripted loopback servers that misbehave in exact, byte-level ways:
//! cut streams, errors before the stream with Retry-After, HTML error bodies, malformed events,
//! stalls, refused connections. Every received token must survive, and nothing truncated may
//! count as a success.

use std::time::Duration;
use switchyard::client::{ChatError, Endpoint, HttpClient, ServerKind, Timeouts};
use switchyard::wire::chunk::StreamEvent;
use switchyard::wire::request::{ChatRequest, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one connection: reads the request head and body, then writes `parts` in order,
/// pausing `gap` between them, then closes (or stalls forever when `stall_after` is set).
async fn serve_once(parts: Vec<Vec<u8>>, gap: Duration, stall_after: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        // Read until the end of the headers plus Content-Length bytes of body.
        loop {
            let n = sock.read(&mut tmp).await.unwrap();
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&tmp[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if buf.len() >= pos + 4 + len {
                    break;
                }
            }
        }
        for p in parts {
            if sock.write_all(&p).await.is_err() {
                return;
            }
            let _ = sock.flush().await;
            tokio::time::sleep(gap).await;
        }
        if stall_after {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    format!("http://{addr}/v1")
}

fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n".to_vec()
}

fn chunk(content: &str) -> Vec<u8> {
    let c = serde_json::json!({
        "id": "gen-1", "provider": "Scripted", "model": "test/model",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": null}]
    });
    format!("data: {c}\n\n").into_bytes()
}

fn endpoint(base_url: String) -> Endpoint {
    Endpoint {
        base_url,
        key: None,
        kind: ServerKind::OpenAi,
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: Some("test/model".into()),
        messages: vec![Message::user("hi")],
        ..Default::default()
    }
}

async fn run(parts: Vec<Vec<u8>>, stall: bool, timeouts: Timeouts) -> switchyard::client::Answer {
    let url = serve_once(parts, Duration::from_millis(1), stall).await;
    let client = HttpClient::new().unwrap();
    client
        .stream_chat(&endpoint(url), &request(), timeouts, |_| {})
        .await
}

#[tokio::test]
async fn stream_cut_mid_answer_keeps_tokens_and_is_not_success() {
    let o = run(
        vec![
            sse_head(),
            b": OPENROUTER PROCESSING\n\n".to_vec(),
            chunk("Hello"),
            chunk(" wor"),
        ],
        false,
        Timeouts::default(),
    )
    .await;
    assert_eq!(o.text, "Hello wor");
    assert!(
        matches!(o.result, Err(ChatError::Truncated(_))),
        "{:?}",
        o.result
    );
    assert_eq!(o.served.provider.as_deref(), Some("Scripted"));
}

#[tokio::test]
async fn cut_inside_an_event_and_inside_a_utf8_character() {
    let mut c = chunk("naïve 🦀");
    let whole = c.clone();
    c.truncate(whole.len() - 8);
    let o = run(
        vec![sse_head(), chunk("ok "), c],
        false,
        Timeouts::default(),
    )
    .await;
    assert_eq!(o.text, "ok ");
    assert!(matches!(o.result, Err(ChatError::Truncated(_))));
}

#[tokio::test]
async fn complete_stream_succeeds_with_usage() {
    let fin = br#"data: {"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cost":0.25}}

data: [DONE]

"#;
    let o = run(
        vec![sse_head(), chunk("a"), chunk("b"), fin.to_vec()],
        false,
        Timeouts::default(),
    )
    .await;
    assert_eq!(o.result, Ok("stop".into()));
    assert_eq!(o.text, "ab");
    assert_eq!(o.usage.unwrap().cost, Some(0.25));
    assert!(o.timings.ttft.is_some());
}

#[tokio::test]
async fn status_429_keeps_retry_after_and_metadata() {
    let body = r#"{"error":{"code":429,"message":"Provider returned error","metadata":{"provider_name":"Google","raw":"rate-limited upstream"}},"user_id":"user_x"}"#;
    let resp = format!(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 17\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let o = run(vec![resp.into_bytes()], false, Timeouts::default()).await;
    match o.result {
        Err(ChatError::Api(e)) => {
            assert_eq!(e.status, Some(429));
            assert_eq!(e.retry_after, Some(Duration::from_secs(17)));
            assert_eq!(e.provider_name.as_deref(), Some("Google"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn status_401_and_html_502() {
    let body = r#"{"error":{"code":401,"message":"No auth credentials found"}}"#;
    let resp = format!(
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let o = run(vec![resp.into_bytes()], false, Timeouts::default()).await;
    let shown = o.result.clone().unwrap_err().to_string();
    assert!(
        shown.contains("401") && shown.contains("API key"),
        "{shown}"
    );

    let html = "<html><body>Bad Gateway</body></html>";
    let resp = format!(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    let o = run(vec![resp.into_bytes()], false, Timeouts::default()).await;
    match o.result {
        Err(ChatError::Api(e)) => {
            assert_eq!(e.status, Some(502));
            assert!(e.message.contains("Bad Gateway"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn malformed_event_is_skipped_and_the_answer_completes() {
    let fin = b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    let mut events = Vec::new();
    let url = serve_once(
        vec![
            sse_head(),
            chunk("x"),
            b"data: {oops\n\n".to_vec(),
            chunk("y"),
            fin.to_vec(),
        ],
        Duration::from_millis(1),
        false,
    )
    .await;
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(&endpoint(url), &request(), Timeouts::default(), |evs| {
            events.extend_from_slice(evs)
        })
        .await;
    assert_eq!(o.result, Ok("stop".into()));
    assert_eq!(o.text, "xy");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, switchyard::wire::chunk::StreamEvent::Malformed(_)))
    );
}

#[tokio::test]
async fn stall_times_out_and_keeps_tokens() {
    let t = Timeouts {
        headers: Duration::from_secs(30),
        stall: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let o = run(vec![sse_head(), chunk("partial")], true, t).await;
    assert_eq!(o.text, "partial");
    assert!(
        matches!(o.result, Err(ChatError::Timeout(_))),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    // Bind then drop to get a port that (almost certainly) has no listener.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(
            &endpoint(format!("http://127.0.0.1:{port}/v1")),
            &request(),
            Timeouts::default(),
            |_| {},
        )
        .await;
    assert!(
        matches!(o.result, Err(ChatError::Connect(_))),
        "{:?}",
        o.result
    );
    assert!(o.result.unwrap_err().to_string().contains("cannot reach"));
}

#[tokio::test]
async fn error_chunk_inside_a_200_stream_fails_with_partial_text() {
    let err = br#"data: {"error":{"code":400,"message":"Token limit reached"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}

data: [DONE]

"#;
    let o = run(
        vec![sse_head(), chunk("so far"), err.to_vec()],
        false,
        Timeouts::default(),
    )
    .await;
    assert_eq!(o.text, "so far");
    match o.result {
        Err(ChatError::Api(e)) => assert_eq!(e.message, "Token limit reached"),
        other => panic!("{other:?}"),
    }
}

/// One HTTP/1.1 chunk of a `Transfer-Encoding: chunked` body.
fn http_chunk(data: &[u8]) -> Vec<u8> {
    let mut v = format!("{:x}\r\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\r\n");
    v
}

#[tokio::test]
async fn batched_reads_take_every_buffered_frame_of_a_chunked_body_at_once() {
    // A chunked body arrives as many small frames. After the first token the client reads in
    // batches; one batch must take every frame already buffered, not one frame per period
    // (which would turn 500 tokens into 500 periods).
    let mut head =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    head.extend(http_chunk(&chunk("first ")));
    let mut rest = Vec::new();
    for i in 0..500 {
        rest.extend(http_chunk(&chunk(&format!("t{i} "))));
    }
    rest.extend(http_chunk(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    ));
    rest.extend_from_slice(b"0\r\n\r\n");
    let url = serve_once(vec![head, rest], Duration::from_millis(50), false).await;
    let t = Timeouts {
        batch: Duration::from_millis(200),
        ..Timeouts::default()
    };
    let mut callbacks = 0;
    let (client, ep, req) = (HttpClient::new().unwrap(), endpoint(url), request());
    let run = client.stream_chat(&ep, &req, t, |_| callbacks += 1);
    let o = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("batched reads must not take one period per frame");
    assert_eq!(o.result, Ok("stop".into()), "{:?}", o.result);
    assert!(o.text.starts_with("first t0 t1 ") && o.text.ends_with("t499 "));
    assert_eq!(o.timings.chunks, 501);
    assert!(
        callbacks <= 6,
        "{callbacks} deliveries for two writes of the server"
    );
}

#[tokio::test]
async fn a_model_that_is_reasoning_is_not_a_silent_route() {
    // Reasoning streams for ~2.1 s before the first answer token; the first-token limit is
    // 2 s. The limit is about silence, so the answer completes.
    let reasoning = |t: &str| {
        let c = serde_json::json!({
            "id": "gen-1", "model": "test/model", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"reasoning": t}, "finish_reason": null}]
        });
        format!("data: {c}\n\n").into_bytes()
    };
    let mut parts = vec![sse_head()];
    for i in 0..6 {
        parts.push(reasoning(&format!("step {i}. ")));
    }
    parts.push(chunk("The answer."));
    parts.push(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
            .to_vec(),
    );
    let url = serve_once(parts, Duration::from_millis(300), false).await;
    let t = Timeouts {
        first_token: Some(Duration::from_secs(2)),
        ..Timeouts::default()
    };
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(&endpoint(url), &request(), t, |_| {})
        .await;
    assert_eq!(o.result, Ok("stop".into()), "{:?}", o.result);
    assert_eq!(o.text, "The answer.");
    // Silence is still caught: nothing at all within the limit is a timeout.
    let url = serve_once(vec![sse_head()], Duration::from_millis(1), true).await;
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(&endpoint(url), &request(), t, |_| {})
        .await;
    assert!(
        matches!(&o.result, Err(ChatError::Timeout(m)) if m.contains("first token")),
        "{:?}",
        o.result
    );
}

fn head(ctype: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn a_whole_json_answer_where_a_stream_was_asked_for_is_a_complete_answer() {
    let body = serde_json::json!({
        "id": "c-1", "object": "chat.completion", "model": "test/model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Quicksort picks a pivot."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}
    });
    let mut seen = Vec::new();
    let url = serve_once(
        vec![head("application/json"), body.to_string().into_bytes()],
        Duration::from_millis(1),
        false,
    )
    .await;
    let o = HttpClient::new()
        .unwrap()
        .stream_chat(&endpoint(url), &request(), Timeouts::default(), |evs| {
            seen.extend(evs.iter().cloned())
        })
        .await;
    assert_eq!(o.result, Ok("stop".to_string()), "{:?}", o.result);
    assert_eq!(o.text, "Quicksort picks a pivot.");
    assert_eq!(o.usage.as_ref().map(|u| u.completion_tokens), Some(6));
    assert!(
        seen.iter()
            .any(|e| matches!(e, StreamEvent::Content(c) if c.contains("pivot")))
    );
}

#[tokio::test]
async fn a_200_that_is_not_an_event_stream_says_what_arrived() {
    let cases: [(Vec<u8>, Vec<u8>, &str); 4] = [
        (
            head("text/html"),
            b"<!DOCTYPE html><html><title>nginx</title>".to_vec(),
            "an HTML page",
        ),
        (head("text/event-stream"), Vec::new(), "an empty body"),
        (
            head("application/json"),
            b"not json at all \x1b]0;x\x07".to_vec(),
            "not an event stream",
        ),
        (
            head("application/octet-stream"),
            vec![0xde, 0xad, 0xbe, 0xef, b'\n', 0x00, 0x01],
            "not an event stream",
        ),
    ];
    for (h, body, says) in cases {
        let o = run(vec![h, body], false, Timeouts::default()).await;
        let msg = o.result.clone().unwrap_err().to_string();
        assert!(msg.contains(says), "{says}: {msg}");
        assert!(!msg.contains('\x1b'), "shown safely: {msg:?}");
    }
}

async fn run_with(parts: Vec<Vec<u8>>, every: Duration, t: Timeouts) -> switchyard::client::Answer {
    let url = serve_once(parts, every, false).await;
    HttpClient::new()
        .unwrap()
        .stream_chat(&endpoint(url), &request(), t, |_| {})
        .await
}

#[tokio::test]
async fn an_event_that_never_ends_is_stopped_at_its_cap() {
    let mut parts = vec![sse_head(), b"data: ".to_vec()];
    parts.extend((0..40).map(|_| vec![b'x'; 64 * 1024]));
    let t = Timeouts {
        max_event_bytes: 1024 * 1024,
        ..Timeouts::default()
    };
    let o = run_with(parts, Duration::from_millis(1), t).await;
    let msg = o.result.unwrap_err().to_string();
    assert!(msg.contains("one event passed 1 MB"), "{msg}");
}

#[tokio::test]
async fn an_answer_over_its_cap_is_stopped_keeping_what_arrived() {
    let mut parts = vec![sse_head()];
    parts.extend((0..20).map(|_| chunk(&"y".repeat(500))));
    let t = Timeouts {
        max_answer_bytes: 2000,
        ..Timeouts::default()
    };
    let o = run_with(parts, Duration::from_millis(1), t).await;
    let msg = o.result.unwrap_err().to_string();
    assert!(msg.contains("the answer passed"), "{msg}");
    assert!(
        o.text.len() > 2000 && o.text.len() < 10_000,
        "{}",
        o.text.len()
    );
}

#[tokio::test]
async fn keep_alives_forever_after_the_first_token_are_no_progress() {
    let mut parts = vec![sse_head(), chunk("Hi")];
    // 400 keep-alives 20 ms apart: 8 s of bytes and no text.
    parts.extend((0..400).map(|_| b": keep-alive\n\ndata: {}\n\n".to_vec()));
    let t = Timeouts {
        no_progress: Duration::from_millis(500),
        ..Timeouts::default()
    };
    let o = run_with(parts, Duration::from_millis(20), t).await;
    assert_eq!(o.text, "Hi");
    let msg = o.result.unwrap_err().to_string();
    assert!(msg.contains("no new text for 500ms"), "{msg}");
}

#[tokio::test]
async fn a_trickle_that_never_finishes_is_bounded_by_the_total_limit() {
    let mut parts = vec![sse_head()];
    parts.extend((0..200).map(|i| chunk(&format!("t{i} "))));
    let t = Timeouts {
        total: Duration::from_millis(600),
        ..Timeouts::default()
    };
    let o = run_with(parts, Duration::from_millis(20), t).await;
    let msg = o.result.unwrap_err().to_string();
    assert!(msg.contains("took longer than 600ms"), "{msg}");
    assert!(o.text.starts_with("t0 "), "what arrived is kept");
}
