//! How long the write-back and write-behind flusher waits after an L3
//! write fails before it tries again: doubling from [`FLUSH_BACKOFF_MIN`]
//! to [`FLUSH_BACKOFF_MAX`], back to none after a write lands. The engine's
//! flusher and the simulator's both follow it.

use std::time::Duration;

/// The first wait after a failure.
pub const FLUSH_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest wait.
pub const FLUSH_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The wait after another failure, given the last wait (zero after a
/// success).
#[must_use]
pub fn next_flush_backoff(last: Duration) -> Duration {
    (last * 2).clamp(FLUSH_BACKOFF_MIN, FLUSH_BACKOFF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_ten_ms_to_two_seconds() {
        let mut b = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..10 {
            b = next_flush_backoff(b);
            seen.push(b.as_millis());
        }
        assert_eq!(seen, [10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000]);
    }
}
