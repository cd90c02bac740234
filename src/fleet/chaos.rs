//! Seeded chaos: a random but reproducible schedule of faults for every provider of a fleet —
//! latency spikes, outage flaps, 429 bursts, 5xx runs, cuts, stalls, hangs, resets, malformed
//! events — laid out on the fleet clock, so a soak can step through it without waiting.

use super::fault::{Fault, FaultKind, FaultSpec};
use super::rng::SplitMix64;

/// Faults for `providers` over `duration_s` seconds of fleet time. The same seed always gives
/// the same schedule; windows of one provider never overlap, and there is quiet between them.
pub fn schedule(seed: u64, providers: &[&str], duration_s: f64) -> Vec<FaultSpec> {
    let mut r = SplitMix64::new(seed);
    let mut out = Vec::new();
    for p in providers {
        let mut t = r.next_f64() * 2.0;
        while t < duration_s {
            let len = 0.5 + r.next_f64() * 3.5;
            let kind = match r.below(10) {
                0 => FaultKind::Latency {
                    extra_ttft_ms: 200.0 + r.next_f64() * 1300.0,
                },
                1 => FaultKind::Outage,
                2 => FaultKind::RateLimit {
                    retry_after_secs: Some(1),
                },
                3 => FaultKind::Errors {
                    status: *r.pick(&[500, 502, 503]),
                },
                4 => FaultKind::Cut {
                    after_tokens: 1 + r.below(40) as u64,
                },
                5 => FaultKind::Stall {
                    after_tokens: 1 + r.below(40) as u64,
                },
                6 => FaultKind::Malformed {
                    after_tokens: r.below(20) as u64,
                },
                7 => FaultKind::Reset,
                8 => FaultKind::Hang,
                _ => FaultKind::NoDone,
            };
            let mut fault = Fault::new(kind);
            fault.from_s = Some(t);
            fault.until_s = Some(t + len);
            // Flaps and bursts hit some requests in their window, not all.
            fault.probability = 0.3 + r.next_f64() * 0.7;
            out.push(FaultSpec {
                provider: p.to_string(),
                model: None,
                fault,
                duration_s: None,
            });
            t += len + 1.0 + r.next_f64() * 4.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_windows_do_not_overlap() {
        let a = schedule(7, &["a", "b"], 60.0);
        assert_eq!(a, schedule(7, &["a", "b"], 60.0));
        assert_ne!(a, schedule(8, &["a", "b"], 60.0));
        for p in ["a", "b"] {
            let w: Vec<_> = a.iter().filter(|f| f.provider == p).collect();
            assert!(w.len() >= 5, "a minute holds several faults for {p}");
            for pair in w.windows(2) {
                assert!(pair[0].fault.until_s.unwrap() < pair[1].fault.from_s.unwrap());
            }
        }
        let kinds: std::collections::BTreeSet<_> = schedule(1, &["a", "b", "c"], 300.0)
            .iter()
            .map(|f| f.fault.kind.name())
            .collect();
        assert_eq!(kinds.len(), 10, "every kind turns up: {kinds:?}");
    }
}
