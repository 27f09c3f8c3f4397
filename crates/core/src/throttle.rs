//! Sign-in throttling policy: growing delays after repeated failures, per account and per
//! address, counted over a sliding hour so that nobody is ever locked out for good.

use time::{Duration, OffsetDateTime};

/// How many failures one key may have before delays start, and the hard ceiling per hour.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free_failures: i64,
    pub max_per_hour: i64,
    pub longest_delay: Duration,
}

/// Per account: a few typos are free; then waiting doubles; at most 100 failures an hour.
pub const ACCOUNT: Policy = Policy {
    free_failures: 5,
    max_per_hour: 100,
    longest_delay: Duration::minutes(15),
};

/// Per address: offices share one address, so more failures are free before delays start.
pub const ADDRESS: Policy = Policy {
    free_failures: 30,
    max_per_hour: 1000,
    longest_delay: Duration::minutes(15),
};

pub const WINDOW: Duration = Duration::hours(1);

/// Failures of one key within the window.
#[derive(Debug, Clone, Copy)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<OffsetDateTime>,
    pub newest: Option<OffsetDateTime>,
}

impl Policy {
    /// How long the next attempt must wait, if at all.
    pub fn wait(&self, f: Failures, now: OffsetDateTime) -> Option<Duration> {
        let (Some(oldest), Some(newest)) = (f.oldest, f.newest) else {
            return None;
        };
        if f.count >= self.max_per_hour {
            // The ceiling lifts as the oldest failure leaves the window.
            return Some(oldest + WINDOW - now).filter(|d| d.is_positive());
        }
        if f.count < self.free_failures {
            return None;
        }
        let doublings = (f.count - self.free_failures).min(20) as u32;
        let delay = (Duration::seconds(1) * 2_i32.pow(doublings.min(30))).min(self.longest_delay);
        Some(newest + delay - now).filter(|d| d.is_positive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(s)
    }

    fn failures(count: i64, oldest: i64, newest: i64) -> Failures {
        Failures {
            count,
            oldest: Some(at(oldest)),
            newest: Some(at(newest)),
        }
    }

    #[test]
    fn a_few_mistakes_cost_nothing() {
        assert_eq!(
            ACCOUNT.wait(
                Failures {
                    count: 0,
                    oldest: None,
                    newest: None
                },
                at(0)
            ),
            None
        );
        assert_eq!(ACCOUNT.wait(failures(4, 0, 10), at(10)), None);
    }

    #[test]
    fn delays_double_and_are_capped() {
        assert_eq!(
            ACCOUNT.wait(failures(5, 0, 10), at(10)),
            Some(Duration::seconds(1))
        );
        assert_eq!(
            ACCOUNT.wait(failures(8, 0, 10), at(10)),
            Some(Duration::seconds(8))
        );
        assert_eq!(ACCOUNT.wait(failures(8, 0, 10), at(18)), None);
        assert_eq!(
            ACCOUNT.wait(failures(60, 0, 10), at(10)),
            Some(Duration::minutes(15))
        );
    }

    #[test]
    fn the_hourly_ceiling_lifts_as_failures_age() {
        assert_eq!(
            ACCOUNT.wait(failures(100, 0, 3000), at(3000)),
            Some(Duration::seconds(600))
        );
        assert_eq!(ACCOUNT.wait(failures(100, 0, 3000), at(3600)), None);
    }
}
