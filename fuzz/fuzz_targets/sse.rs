//! The SSE parser: any bytes in any reads give the same items as one read, and never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard::sse::SseParser;

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let step = step as usize % 64 + 1;
    let mut whole = Vec::new();
    SseParser::new().feed(body, &mut whole);
    let mut parser = SseParser::new();
    let mut pieces = Vec::new();
    for c in body.chunks(step) {
        parser.feed(c, &mut pieces);
    }
    assert_eq!(whole, pieces, "reads of {step} bytes");
});
