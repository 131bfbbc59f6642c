//! The emulator's notion of "now".
//!
//! Every expiry (access tokens, authorization codes, testing-app refresh tokens, JWT windows,
//! rate-limit windows) is judged against this clock, so tests jump forward in time with
//! [`Clock::advance`] instead of sleeping. It is real time plus an offset: the emulator stays
//! usable by real clients (mailgate compares `expires_in` with its own clock) while tests move it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Real time plus a test-controlled offset, in whole seconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// A clock showing real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seconds since the Unix epoch, as the emulator sees them.
    pub fn now(&self) -> i64 {
        Utc::now().timestamp() + self.offset()
    }

    /// The emulator's "now" as a date, for headers such as `Date:` and rate-limit messages.
    pub fn now_datetime(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset())
    }

    /// Moves the clock forward (or backward, with a negative value) and returns the new "now".
    pub fn advance(&self, secs: i64) -> i64 {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
        self.now()
    }

    /// How far the clock is ahead of real time.
    pub fn offset(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_by_the_offset() {
        let clock = Clock::new();
        let before = clock.now();
        let after = clock.advance(7 * 86_400);
        // Real time may tick by a second between the two readings.
        assert!((after - before - 7 * 86_400).abs() <= 1);
        assert_eq!(clock.offset(), 7 * 86_400);
        clock.advance(-86_400);
        assert_eq!(clock.offset(), 6 * 86_400);
    }
}
