//! Minimal hand-rolled HTTP/1.1: request parsing and response writing, one request per connection.
//!
//! Hand-rolled on purpose: fault injection (resets, cut streams, malformed events) needs control
//! over every byte that goes on the wire.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest accepted request body (413 above).
pub const MAX_BODY: u64 = 96 * 1024 * 1024;
/// Largest accepted request head (431 above).
const MAX_HEAD: usize = 64 * 1024;
/// How long a client may take to send its request; idle connections must not pile up.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Method, e.g. "GET".
    pub method: String,
    /// Percent-decoded path without the query string.
    pub path: String,
    /// Raw query string (after `?`), if any.
    pub query: Option<String>,
    /// Header names (lowercased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The percent-decoded value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| percent_decode(v))
        })
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed or went silent before sending a full request: nothing to answer.
    Gone,
    /// The request is malformed or unsupported: answer with this status and message.
    Reject(u16, String),
}

/// Reads one request. Answers `100 Continue` itself when the client asks for it.
pub async fn read_request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
) -> Result<Request, ReadError> {
    match tokio::time::timeout(READ_TIMEOUT, read_request_inner(stream)).await {
        Ok(r) => r,
        Err(_) => Err(ReadError::Gone),
    }
}

async fn read_request_inner<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Reject(
                431,
                "request headers are larger than 64 KiB".into(),
            ));
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(ReadError::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| ReadError::Reject(400, "request head is not valid UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Reject(
            400,
            format!("malformed request line `{request_line}`"),
        ));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Reject(
            505,
            format!("unsupported protocol `{version}` (only HTTP/1.x)"),
        ));
    }
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return Err(ReadError::Reject(
            400,
            format!("malformed request line `{request_line}`"),
        ));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            return Err(ReadError::Reject(
                400,
                format!("malformed header line `{line}`"),
            ));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (target, None),
    };
    let mut req = Request {
        method: method.to_string(),
        path: percent_decode(raw_path),
        query,
        headers,
        body: Vec::new(),
    };

    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Reject(
            411,
            "chunked request bodies are not supported; send Content-Length".into(),
        ));
    }
    let len: u64 = match req.header("content-length") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| ReadError::Reject(400, format!("invalid Content-Length `{v}`")))?,
    };
    if len > MAX_BODY {
        return Err(ReadError::Reject(
            413,
            format!(
                "request body of {len} bytes exceeds the {} MiB limit",
                MAX_BODY >> 20
            ),
        ));
    }
    let len = len as usize;
    if len > 0
        && req
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        && buf.len() == head_end + 4
    {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    }
    let mut body = buf.split_off(head_end + 4);
    if body.len() > len {
        // Pipelined extra bytes are ignored: every connection serves one request.
        body.truncate(len);
    }
    body.reserve(len - body.len());
    while body.len() < len {
        let mut chunk = vec![0u8; (len - body.len()).min(64 * 1024)];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(ReadError::Gone),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    req.body = body;
    Ok(req)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `%XX` escapes (so `%3Afree` routes like `:free`); invalid escapes are kept verbatim.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A complete (non-streamed) response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (Content-Length and Connection are added when writing).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The serialised bytes: status line, headers, blank line, body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = status_line(self.status).into_bytes();
        for (k, v) in &self.headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

/// The head of an SSE response; the body then runs until the socket closes.
pub fn sse_head(extra: &[(&str, String)]) -> Vec<u8> {
    let mut out = status_line(200);
    out.push_str(
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n",
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn status_line(status: u16) -> String {
    format!("HTTP/1.1 {status} {}\r\n", reason(status))
}

/// The standard reason phrase for `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        524 => "A Timeout Occurred",
        529 => "Site is overloaded",
        _ => "Unknown",
    }
}

/// Closes politely: shut our side, then drain what the client still sends for a moment, so
/// closing with unread bytes does not turn into a reset that eats the response.
pub async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    let _ = stream.shutdown().await;
    let drain = async {
        let mut sink = [0u8; 8192];
        let mut total = 0usize;
        while let Ok(n) = stream.read(&mut sink).await {
            total += n;
            if n == 0 || total > MAX_BODY as usize * 2 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<Request, ReadError> {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        client.write_all(raw).await.unwrap();
        drop(client.shutdown().await);
        let r = read_request(&mut server).await;
        drop(client);
        r
    }

    fn status(r: Result<Request, ReadError>) -> u16 {
        match r {
            Err(ReadError::Reject(s, _)) => s,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn parses_a_post_with_body_and_query() {
        let r = parse(b"POST /api/v1/models/a/b%3Afree/endpoints?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Thing:  v \r\n\r\nhello").await.unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/v1/models/a/b:free/endpoints");
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(r.header("x-thing"), Some("v"));
        assert_eq!(r.header("CONTENT-LENGTH"), Some("5"));
        assert_eq!(r.body, b"hello");
    }

    #[tokio::test]
    async fn rejects_bad_input_with_the_right_status() {
        assert_eq!(
            status(parse(b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n").await),
            413
        );
        assert_eq!(
            status(parse(b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n").await),
            400
        );
        assert_eq!(status(parse(b"GARBAGE\r\n\r\n").await), 400);
        assert_eq!(status(parse(b"GET / HTTP/2\r\n\r\n").await), 505);
        assert_eq!(
            status(parse(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").await),
            400
        );
        assert_eq!(
            status(parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").await),
            411
        );
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70_000));
        assert_eq!(status(parse(big.as_bytes()).await), 431);
    }

    #[tokio::test]
    async fn truncated_request_is_gone() {
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\n").await,
            Err(ReadError::Gone)
        ));
        assert!(matches!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").await,
            Err(ReadError::Gone)
        ));
    }

    #[test]
    fn percent_decoding_and_response_bytes() {
        assert_eq!(percent_decode("a%2Fb%3a%zz%"), "a/b:%zz%");
        let r = Response::json(404, &serde_json::json!({"a":1})).with_header("Retry-After", "3");
        let s = String::from_utf8(r.to_bytes()).unwrap();
        assert!(s.starts_with("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nRetry-After: 3\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}"), "{s}");
    }
}
