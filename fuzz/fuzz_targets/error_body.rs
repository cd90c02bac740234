//! The error-body decoder: any body and status give an error with a message, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard::wire::error::{ApiError, parse_retry_after};

fuzz_target!(|data: &[u8]| {
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let status = 400 + u16::from(s) % 200;
    let e = ApiError::from_body(status, body, None);
    let _ = e.effective_status();
    let _ = e.hint();
    if let Ok(v) = std::str::from_utf8(body) {
        let _ = parse_retry_after(v);
    }
});
