//! Bounded-memory rolling windows: outcome counters in time slots, and rolling percentiles that
//! are exact while samples are few.

use std::collections::VecDeque;

/// Outcome counts in one slot or summed over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Successful attempts.
    pub successes: u32,
    /// Reliability failures (count against the endpoint).
    pub failures: u32,
    /// 429s.
    pub rate_limited: u32,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.successes += o.successes;
        self.failures += o.failures;
        self.rate_limited += o.rate_limited;
    }
}

/// `N` slots of `slot_ms` each; a slot is reused once its epoch leaves the window.
#[derive(Debug, Clone)]
pub struct CounterRing<const N: usize> {
    slot_ms: u64,
    epochs: [u64; N],
    counts: [Counts; N],
}

impl<const N: usize> CounterRing<N> {
    /// An empty ring covering `N * slot_ms`.
    pub fn new(slot_ms: u64) -> Self {
        Self {
            slot_ms,
            epochs: [u64::MAX; N],
            counts: [Counts::default(); N],
        }
    }

    /// Adds to the slot holding `now_ms`.
    pub fn record(&mut self, now_ms: u64, f: impl FnOnce(&mut Counts)) {
        let e = now_ms / self.slot_ms;
        let i = (e % N as u64) as usize;
        if self.epochs[i] != e {
            self.epochs[i] = e;
            self.counts[i] = Counts::default();
        }
        f(&mut self.counts[i]);
    }

    /// Sum of the `N` slots ending with the slot of `now_ms`.
    pub fn sum(&self, now_ms: u64) -> Counts {
        self.sum_at_epoch(now_ms / self.slot_ms)
    }

    /// Sum of the `N` slots ending with epoch `e_now`.
    pub fn sum_at_epoch(&self, e_now: u64) -> Counts {
        let mut c = Counts::default();
        for (e, n) in self.epochs.iter().zip(&self.counts) {
            if *e <= e_now && e_now - *e < N as u64 {
                c.add(n);
            }
        }
        c
    }

    /// Slot length in ms.
    pub fn slot_ms(&self) -> u64 {
        self.slot_ms
    }
}

/// Most recent samples kept exactly.
pub const RAW_CAP: usize = 128;
/// Rolling percentile window: 5 minutes.
pub const WINDOW_MS: u64 = 300_000;
const HIST_SLOT_MS: u64 = 20_000;
/// 15 slots cover the window; one more for the slot the window start falls into.
const HIST_SLOTS: usize = 16;
/// Sub-buckets per power of two (bucket width ≤ 1/8 of its lower bound).
const SUB: usize = 8;
const OCTAVES: usize = 24;
const NB: usize = 1 + OCTAVES * SUB;

/// Relative error bound of an estimate once the raw ring has overflowed (half a bucket).
pub const HIST_REL_ERROR: f64 = 1.0 / (2 * SUB) as f64;

fn bucket(v: f32) -> usize {
    if v < 1.0 {
        return 0;
    }
    let e = (v.log2().floor() as usize).min(OCTAVES - 1);
    let base = (1u32 << e) as f32;
    let sub = (((v / base - 1.0) * SUB as f32) as usize).min(SUB - 1);
    1 + e * SUB + sub
}

fn bucket_mid(b: usize) -> f32 {
    if b == 0 {
        return 0.5;
    }
    let e = (b - 1) / SUB;
    let s = (b - 1) % SUB;
    let base = (1u32 << e) as f32;
    base * (1.0 + (s as f32 + 0.5) / SUB as f32)
}

/// Evicted-but-live samples, bucketed per 20-s slot; allocated only on overflow.
#[derive(Debug, Clone)]
struct Hist {
    epochs: [u64; HIST_SLOTS],
    counts: Box<[[u16; NB]; HIST_SLOTS]>,
}

/// Percentiles of one metric over the last 5 minutes, in bounded memory.
///
/// The newest [`RAW_CAP`] samples are kept with timestamps, so while the window holds at most
/// that many the answer is exact nearest-rank and expiry is exact to the millisecond. Samples
/// pushed out of the ring while still inside the window go to a log-linear histogram of 20-s
/// slots; then answers are within [`HIST_REL_ERROR`] and those samples expire with 20-s
/// granularity.
#[derive(Debug, Clone, Default)]
pub struct Rolling {
    raw: VecDeque<(u64, f32)>,
    hist: Option<Hist>,
}

/// Percentiles p50/p75/p90/p99 with the sample count behind them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// p50, p75, p90, p99.
    pub q: [f32; 4],
    /// Samples in the window.
    pub n: u32,
}

const QS: [f64; 4] = [0.50, 0.75, 0.90, 0.99];

/// Nearest-rank index (0-based) of quantile `q` among `n` sorted values.
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

impl Rolling {
    /// Records `v` at `now_ms`; negative and non-finite values are ignored.
    pub fn record(&mut self, now_ms: u64, v: f32) {
        if !v.is_finite() || v < 0.0 {
            return;
        }
        while self
            .raw
            .front()
            .is_some_and(|&(t, _)| t + WINDOW_MS <= now_ms)
        {
            self.raw.pop_front();
        }
        if self.raw.len() == RAW_CAP
            && let Some((t, old)) = self.raw.pop_front()
        {
            self.spill(t, old);
        }
        self.raw.push_back((now_ms, v));
    }

    fn spill(&mut self, t: u64, v: f32) {
        let h = self.hist.get_or_insert_with(|| Hist {
            epochs: [u64::MAX; HIST_SLOTS],
            counts: Box::new([[0; NB]; HIST_SLOTS]),
        });
        let e = t / HIST_SLOT_MS;
        let i = (e % HIST_SLOTS as u64) as usize;
        if h.epochs[i] != e {
            h.epochs[i] = e;
            h.counts[i] = [0; NB];
        }
        let c = &mut h.counts[i][bucket(v)];
        *c = c.saturating_add(1);
    }

    /// Whether a histogram slot still overlaps the window `(now - W, now]`.
    fn slot_live(e: u64, now_ms: u64) -> bool {
        e != u64::MAX && e <= now_ms / HIST_SLOT_MS && (e + 1) * HIST_SLOT_MS + WINDOW_MS > now_ms
    }

    /// Percentiles over the window ending at `now_ms`, or `None` without samples.
    pub fn estimate(&self, now_ms: u64) -> Option<Estimate> {
        let mut buf = [0f32; RAW_CAP];
        let mut m = 0;
        for &(t, v) in &self.raw {
            // Live iff `now - W < t <= now`, written without underflow near the epoch.
            if t + WINDOW_MS > now_ms && t <= now_ms {
                buf[m] = v;
                m += 1;
            }
        }
        let hist_n: u32 = self.hist.as_ref().map_or(0, |h| {
            h.epochs
                .iter()
                .zip(h.counts.iter())
                .filter(|(e, _)| Self::slot_live(**e, now_ms))
                .map(|(_, c)| c.iter().map(|&x| u32::from(x)).sum::<u32>())
                .sum()
        });
        let n = m + hist_n as usize;
        if n == 0 {
            return None;
        }
        let mut q = [0f32; 4];
        if hist_n == 0 {
            let vals = &mut buf[..m];
            vals.sort_unstable_by(f32::total_cmp);
            for (out, p) in q.iter_mut().zip(QS) {
                *out = vals[rank(p, m)];
            }
        } else {
            let mut counts = [0u32; NB];
            if let Some(h) = &self.hist {
                for (e, c) in h.epochs.iter().zip(h.counts.iter()) {
                    if Self::slot_live(*e, now_ms) {
                        for (acc, &x) in counts.iter_mut().zip(c.iter()) {
                            *acc += u32::from(x);
                        }
                    }
                }
            }
            for &v in &buf[..m] {
                counts[bucket(v)] += 1;
            }
            for (out, p) in q.iter_mut().zip(QS) {
                let r = rank(p, n) as u32;
                let mut seen = 0u32;
                for (b, &c) in counts.iter().enumerate() {
                    seen += c;
                    if seen > r {
                        *out = bucket_mid(b);
                        break;
                    }
                }
            }
        }
        Some(Estimate { q, n: n as u32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(mut v: Vec<f32>) -> [f32; 4] {
        v.sort_by(f32::total_cmp);
        QS.map(|p| v[rank(p, v.len())])
    }

    #[test]
    fn nearest_rank_is_exact_for_few_samples() {
        let mut r = Rolling::default();
        assert_eq!(r.estimate(0), None);
        let vals = [500.0, 100.0, 300.0, 200.0, 400.0];
        for (i, v) in vals.iter().enumerate() {
            r.record(i as u64 * 1000, *v);
        }
        let e = r.estimate(10_000).unwrap();
        assert_eq!(e.n, 5);
        // ceil(0.5*5)=3rd → 300; ceil(.75*5)=4th → 400; 90%, 99% → 5th.
        assert_eq!(e.q, [300.0, 400.0, 500.0, 500.0]);
        assert_eq!(e.q, exact(vals.to_vec()));
    }

    #[test]
    fn samples_expire_exactly_at_five_minutes() {
        let mut r = Rolling::default();
        r.record(1_000, 10.0);
        r.record(2_000, 20.0);
        assert_eq!(r.estimate(1_000 + WINDOW_MS - 1).unwrap().n, 2);
        assert_eq!(r.estimate(1_000 + WINDOW_MS).unwrap().n, 1);
        assert_eq!(r.estimate(1_000 + WINDOW_MS).unwrap().q[0], 20.0);
        assert_eq!(r.estimate(2_000 + WINDOW_MS), None);
    }

    #[test]
    fn overflow_stays_within_bucket_error_and_memory_is_bounded() {
        let mut r = Rolling::default();
        let mut x = 12345u64;
        let mut all = Vec::new();
        for i in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = 50.0 + (x >> 40) as f32 % 5000.0;
            r.record(i * 10, v); // 50 s in total: all in the window
            all.push(v);
        }
        assert!(r.raw.len() <= RAW_CAP);
        let e = r.estimate(50_000).unwrap();
        assert_eq!(e.n, 5000);
        for (est, ex) in e.q.iter().zip(exact(all)) {
            let rel = ((est - ex) / ex).abs() as f64;
            assert!(rel <= HIST_REL_ERROR + 1e-6, "{est} vs {ex}");
        }
    }

    #[test]
    fn overflowed_samples_expire_by_slot() {
        let mut r = Rolling::default();
        for i in 0..(RAW_CAP as u64 + 10) {
            r.record(i, 100.0);
        }
        assert_eq!(r.estimate(1000).unwrap().n, RAW_CAP as u32 + 10);
        // Past the window plus one slot of granularity, nothing is left.
        assert_eq!(r.estimate(WINDOW_MS + HIST_SLOT_MS + 1000), None);
    }

    #[test]
    fn bad_values_are_ignored() {
        let mut r = Rolling::default();
        r.record(0, f32::NAN);
        r.record(0, -1.0);
        r.record(0, f32::INFINITY);
        assert_eq!(r.estimate(0), None);
    }

    #[test]
    fn buckets_are_monotone_with_bounded_error() {
        let mut prev = 0;
        let mut v = 1.0f32;
        while v < 1.0e7 {
            let b = bucket(v);
            assert!(b >= prev);
            prev = b;
            let mid = bucket_mid(b);
            assert!(
                ((mid - v) / v).abs() as f64 <= HIST_REL_ERROR + 1e-6,
                "{v} {mid}"
            );
            v *= 1.01;
        }
        assert_eq!(bucket(0.3), 0);
    }

    #[test]
    fn counter_ring_window_edges() {
        let mut c = CounterRing::<30>::new(1000);
        c.record(5_500, |x| x.failures += 1);
        assert_eq!(c.sum(5_500).failures, 1);
        assert_eq!(c.sum(5_000 + 29_999).failures, 1);
        assert_eq!(c.sum(35_000).failures, 0);
        // Slot reuse resets old counts.
        c.record(35_200, |x| x.successes += 1);
        assert_eq!(
            c.sum(35_200),
            Counts {
                successes: 1,
                ..Counts::default()
            }
        );
        assert_eq!(c.slot_ms(), 1000);
    }
}
