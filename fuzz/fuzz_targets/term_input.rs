//! Terminal input: any bytes in any reads, then a quiet moment, leave nothing held.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard::term_input::{Parser, coalesce};

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let mut p = Parser::new(4096);
    let mut held = false;
    for c in body.chunks(step as usize % 32 + 1) {
        let mut out = Vec::new();
        p.feed(c, &mut out);
        held = coalesce(out, held).1;
    }
    let mut out = Vec::new();
    p.flush(&mut out);
    assert!(!p.pending());
});
