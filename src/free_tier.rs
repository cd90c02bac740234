//! OpenRouter's free-tier limits on `:free` models (../shared/openrouter-api.md §8): 20 requests
//! a minute always, and 50 a day on an account that has bought less than $10 of credits (1000
//! after). The counter keeps the time of each `:free` request sent this UTC day (pure, times
//! given in milliseconds since 1970), and is kept in the state directory so it survives
//! restarts; two processes saving at once merge their requests rather than overwrite them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Requests a minute, for every account.
pub const PER_MINUTE: u32 = 20;
/// Requests a day for an account that has bought less than $10 of credits.
pub const PER_DAY_FREE: u32 = 50;
/// Requests a day once $10 of credits have been bought.
pub const PER_DAY_PAID: u32 = 1000;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// Whether requests for `model` count against the free tier.
pub fn is_free(model: &str) -> bool {
    // `openrouter/free` routes to free models and is held to their limits.
    model.ends_with(":free") || model == "openrouter/free"
}

/// The limits that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per minute.
    pub per_minute: u32,
    /// Per UTC day.
    pub per_day: u32,
    /// Whether `per_day` comes from the key (`GET /key`'s `is_free_tier`) or is assumed.
    pub from_key: bool,
}

impl Default for Limits {
    /// Until the key says otherwise, the stricter day limit is assumed.
    fn default() -> Self {
        Limits {
            per_minute: PER_MINUTE,
            per_day: PER_DAY_FREE,
            from_key: false,
        }
    }
}

impl Limits {
    /// The limits for a key that `GET /key` says is (or is not) on the free tier.
    pub fn for_key(is_free_tier: bool) -> Self {
        Limits {
            per_minute: PER_MINUTE,
            // A key that has bought credits may still have bought less than $10, which the
            // key does not say: 1000 is what it gets once it has.
            per_day: if is_free_tier {
                PER_DAY_FREE
            } else {
                PER_DAY_PAID
            },
            from_key: true,
        }
    }
}

/// The requests counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// When each `:free` request of the current day (and the minute before it) was sent, ms.
    stamps: Vec<i64>,
    /// Those not yet saved.
    #[serde(skip)]
    unsaved: Vec<i64>,
    /// The UTC day (days since 1970) the server said its daily limit was reached: its word
    /// beats our count (requests from another machine count too).
    #[serde(default)]
    exhausted: Option<i64>,
}

/// Where the counts stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Sent in the last 60 s.
    pub minute: u32,
    /// Sent this UTC day.
    pub day: u32,
}

impl Counter {
    /// Counts a request sent at `now`.
    pub fn record(&mut self, now: i64) {
        self.stamps.push(now);
        self.unsaved.push(now);
        self.prune(now);
    }

    /// The counts at `now`.
    pub fn counts(&self, now: i64) -> Counts {
        let today = now.div_euclid(DAY_MS);
        Counts {
            minute: self
                .stamps
                .iter()
                .filter(|&&t| t > now - MINUTE_MS && t <= now)
                .count() as u32,
            day: self
                .stamps
                .iter()
                .filter(|&&t| t.div_euclid(DAY_MS) == today)
                .count() as u32,
        }
    }

    /// How many more can be sent at `now` before a limit is passed.
    pub fn room(&self, now: i64, l: Limits) -> u32 {
        let c = self.counts(now);
        l.per_minute
            .saturating_sub(c.minute)
            .min(self.room_today(now, l))
    }

    /// How many more can be sent today.
    pub fn room_today(&self, now: i64, l: Limits) -> u32 {
        if self.exhausted == Some(now.div_euclid(DAY_MS)) {
            return 0;
        }
        l.per_day.saturating_sub(self.counts(now).day)
    }

    /// The server answered that today's limit is reached (`free-models-per-day`).
    pub fn mark_exhausted(&mut self, now: i64) {
        self.exhausted = Some(now.div_euclid(DAY_MS));
    }

    /// When the minute's window next has room (ms), if it is full now.
    pub fn minute_frees_at(&self, now: i64, l: Limits) -> Option<i64> {
        let mut recent: Vec<i64> = self
            .stamps
            .iter()
            .copied()
            .filter(|&t| t > now - MINUTE_MS && t <= now)
            .collect();
        if (recent.len() as u32) < l.per_minute {
            return None;
        }
        recent.sort_unstable();
        // The oldest that must leave the window for one more to fit.
        let i = recent.len() - l.per_minute as usize;
        Some(recent[i] + MINUTE_MS)
    }

    /// Why sending `n` more at `now` would pass a limit, naming how many it takes and how many
    /// are left; `None` when they fit.
    pub fn warning(&self, now: i64, n: u32, l: Limits) -> Option<String> {
        let c = self.counts(now);
        let day_left = self.room_today(now, l);
        let minute_left = l.per_minute.saturating_sub(c.minute);
        let what = match n {
            1 => "1 :free request".to_string(),
            n => format!("{n} :free requests"),
        };
        let assumed = if l.from_key {
            ""
        } else {
            " (assumed until the key says)"
        };
        if n > day_left {
            Some(format!(
                "this takes {what}; {day_left} left today of {}{assumed}",
                l.per_day
            ))
        } else if n > minute_left {
            Some(format!(
                "this takes {what}; {minute_left} left this minute of {}",
                l.per_minute
            ))
        } else {
            None
        }
    }

    /// Keeps only what can still count (today, and the last minute).
    fn prune(&mut self, now: i64) {
        let from = (now.div_euclid(DAY_MS) * DAY_MS).min(now - MINUTE_MS);
        self.stamps.retain(|&t| t > from - 1);
        self.stamps.sort_unstable();
        self.unsaved.retain(|&t| t > from - 1);
    }

    /// Takes in what another process saved (its requests are not ours to lose).
    fn merge(&mut self, saved: &Counter, now: i64) {
        self.exhausted = self.exhausted.max(saved.exhausted);
        for t in &saved.stamps {
            if !self.stamps.contains(t) {
                self.stamps.push(*t);
            }
        }
        self.prune(now);
    }
}

/// The counter's file in the state directory.
pub fn path() -> Option<PathBuf> {
    crate::health_store::state_dir().map(|d| d.join("free-tier.json"))
}

/// The counter saved at `path` (none yet: empty); a damaged file is said and counted afresh.
pub fn load(path: &Path) -> Result<Counter, String> {
    match crate::small_file::read(path, 1024 * 1024) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| {
            format!(
                "the free-tier counter {} is damaged ({e}); counting afresh",
                path.display()
            )
        }),
        Err(crate::small_file::ReadError::NotFound) => Ok(Counter::default()),
        Err(e) => Err(format!("the free-tier counter {}: {e}", path.display())),
    }
}

/// Saves `c` at `path`, merged with what is there (another process may have counted too).
pub fn save(path: &Path, c: &mut Counter, now: i64) -> Result<(), String> {
    if let Ok(saved) = load(path) {
        c.merge(&saved, now);
    }
    let bytes = serde_json::to_vec(c).expect("a counter always serializes");
    crate::health_store::write_atomic(path, &bytes)
        .map_err(|e| format!("cannot save the free-tier counter {}: {e}", path.display()))?;
    c.unsaved.clear();
    Ok(())
}

/// Milliseconds since 1970 now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02 23:59:30 UTC.
    const LATE: i64 = 1_796_255_970_000;

    #[test]
    fn the_minute_and_the_day_are_counted_and_a_new_day_starts_at_utc_midnight() {
        assert_eq!(LATE.rem_euclid(DAY_MS), (23 * 3600 + 59 * 60 + 30) * 1000);
        let mut c = Counter::default();
        let l = Limits::default();
        for i in 0..20 {
            c.record(LATE - 5_000 + i * 100);
        }
        assert_eq!(
            c.counts(LATE),
            Counts {
                minute: 20,
                day: 20
            }
        );
        assert_eq!(c.room(LATE, l), 0, "the minute is full");
        assert_eq!(c.minute_frees_at(LATE, l), Some(LATE - 5_000 + MINUTE_MS));
        assert!(
            c.warning(LATE, 1, l)
                .unwrap()
                .contains("0 left this minute of 20")
        );
        // 40 s later it is a new UTC day: the day starts afresh, the minute still counts.
        let next = LATE + 40_000;
        assert_eq!(c.counts(next), Counts { minute: 20, day: 0 });
        assert_eq!(c.room(next, l), 0);
        assert_eq!(c.counts(LATE + 56_000), Counts { minute: 9, day: 0 });
        assert_eq!(c.room(LATE + 120_000, l), 20);
    }

    #[test]
    fn a_broadcast_that_would_pass_the_day_says_how_many_it_takes() {
        let mut c = Counter::default();
        let start = LATE - 20 * 3_600_000;
        for i in 0..48 {
            c.record(start + i * 61_000);
        }
        let now = start + 48 * 61_000;
        let w = c.warning(now, 3, Limits::default()).unwrap();
        assert_eq!(
            w,
            "this takes 3 :free requests; 2 left today of 50 (assumed until the key says)"
        );
        assert_eq!(
            c.warning(now, 3, Limits::for_key(false)),
            None,
            "1000 a day with credits"
        );
        assert_eq!(c.warning(now, 2, Limits::default()), None);
    }

    #[test]
    fn the_count_survives_a_restart_and_two_processes_saving_keep_both_counts() {
        let dir = std::env::temp_dir().join(format!("sy-free-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("free-tier.json");
        let mut a = load(&path).unwrap();
        let mut b = load(&path).unwrap();
        a.record(LATE - 3_000);
        a.record(LATE - 2_000);
        b.record(LATE - 1_000);
        save(&path, &mut a, LATE).unwrap();
        save(&path, &mut b, LATE).unwrap();
        let again = load(&path).unwrap();
        assert_eq!(
            again.counts(LATE).day,
            3,
            "a restart sees both processes' requests"
        );
        // The server's word that the day is used up survives too, until the next UTC day.
        let mut c = again;
        c.mark_exhausted(LATE);
        save(&path, &mut c, LATE).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.room_today(LATE, Limits::default()), 0);
        assert_eq!(
            back.room_today(LATE + 60_000, Limits::default()),
            50,
            "a new day"
        );
        std::fs::write(&path, "{oops").unwrap();
        assert!(load(&path).unwrap_err().contains("damaged"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
