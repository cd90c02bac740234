//! The chunk decoder over whatever the SSE parser makes of the bytes: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard::sse::SseParser;
use switchyard::wire::chunk::StreamDecoder;

fuzz_target!(|data: &[u8]| {
    let mut items = Vec::new();
    SseParser::new().feed(data, &mut items);
    // The body as one event as well: the JSON decoder sees the raw bytes directly.
    if let Ok(s) = std::str::from_utf8(data) {
        let mut p = SseParser::new();
        p.feed(format!("data: {s}\n\n").as_bytes(), &mut items);
    }
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for i in items {
        d.decode(i, &mut out);
    }
    let _ = d.end();
    let _ = switchyard::wire::chunk::whole_completion("application/json", data);
    let _ = switchyard::wire::chunk::whole_completion("text/html", data);
});
