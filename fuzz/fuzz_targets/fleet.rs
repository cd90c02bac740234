//! The fleet parser: any text is a fleet or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = switchyard::fleet::FleetSpec::from_toml(s, "fuzz.toml");
    }
});
