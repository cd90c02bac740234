//! Pure core of the routing actor: endpoint registry, per-endpoint health, and the planner.
//!
//! Everything here is clock-agnostic: `now` is a [`Duration`] since an epoch the caller picks
//! (the actor uses `tokio::time::Instant::elapsed` of its start), so tests drive a simulated
//! clock. Randomness comes from a caller-seeded [`Rng`], so plans are reproducible.
//!
//! Semantics follow OpenRouter's provider routing (`shared/ROUTING.md` §1, §12) with the vague
//! parts pinned down: see [`health`] for "unstable", the breaker and the windows, and [`policy`]
//! for the price blend, tiers and no-data handling.

pub mod actor;
pub mod endpoint;
pub mod exec;
pub mod gate;
pub mod health;
pub mod persist;
pub mod policy;
mod window;

use std::time::Duration;

pub use endpoint::{
    DataPolicy, EndpointId, EndpointMeta, EndpointRegistry, Modalities, ParamSet, PerfPrior,
    Pricing,
};
pub use health::{
    BreakerState, EndpointStats, HealthConfig, HealthSnapshot, HealthState, HealthTracker, Outcome,
    OutcomeClass, Quantiles, Sample, UnstableRule,
};
pub use policy::{
    Basis, Demotion, ExclusionRule, NoRoute, Plan, PlanRequest, PlannedEndpoint, Planner,
    RankReason, RequestFeatures, Tier, effective_price, plan,
};

/// Source of randomness for planning and breaker jitter; seeded by the caller.
pub trait Rng {
    /// Next 64 uniformly random bits.
    fn next_u64(&mut self) -> u64;

    /// Uniform in `[0, 1)` with 53 bits of precision.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// SplitMix64: tiny, fast, and statistically fine for load-balancing picks and jitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `now` in whole milliseconds, saturating (a `Duration` since epoch never needs more).
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_seeded_and_uniformish() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let mut c = SplitMix64::new(43);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        // Mean of uniform [0,1) draws should be near 0.5.
        let mut r = SplitMix64::new(7);
        let mean = (0..100_000).map(|_| r.next_f64()).sum::<f64>() / 100_000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!((0..1000).all(|_| (0.0..1.0).contains(&r.next_f64())));
    }

    #[test]
    fn ms_saturates() {
        assert_eq!(ms(Duration::from_millis(1234)), 1234);
        assert_eq!(ms(Duration::MAX), u64::MAX);
    }
}
