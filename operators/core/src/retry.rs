//! `Backoff`: tries a write to a store or broker again after a pause that doubles per try (capped at 30 s), up to
//! a number of tries, for failures that may pass. Used where giving up would cost a video: shard commits, error
//! records and dead letters at shutdown.

use std::fmt::Display;
use std::time::Duration;

use clipstream_schemas::config::SinkConfig;

/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// How often and how patiently a write is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// Pause before the second try.
    pub first_pause: Duration,
}

impl Backoff {
    pub fn new(attempts: u32, first_pause_ms: u64) -> Self {
        Self { attempts: attempts.max(1), first_pause: Duration::from_millis(first_pause_ms) }
    }

    /// The tries of the output's writes: `sink.commit_attempts`, first pause `sink.commit_backoff_ms`.
    pub fn of_sink(config: &SinkConfig) -> Self {
        Self::new(config.commit_attempts, config.commit_backoff_ms)
    }

    /// Runs `write` until it succeeds, fails with an error that `retryable` says will not pass, or has been tried
    /// `attempts` times; `what` names it in the logs.
    pub fn run<T, E: Display>(
        &self,
        what: &str,
        mut write: impl FnMut() -> Result<T, E>,
        retryable: impl Fn(&E) -> bool,
    ) -> Result<T, E> {
        let mut pause = self.first_pause;
        let mut attempt = 1;
        loop {
            match write() {
                Ok(value) => return Ok(value),
                Err(error) if attempt >= self.attempts || !retryable(&error) => return Err(error),
                Err(error) => {
                    let pause_ms = pause.as_millis() as u64;
                    tracing::warn!(what, attempt, error = %error, pause_ms, "write failed; trying again");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(MAX_PAUSE);
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_until_success_or_the_last_attempt() {
        let backoff = Backoff::new(3, 1);
        let mut calls = 0;
        let got = backoff.run(
            "test",
            || {
                calls += 1;
                if calls < 3 { Err("down") } else { Ok(calls) }
            },
            |_| true,
        );
        assert_eq!(got, Ok(3));
        let mut calls = 0;
        let got: Result<(), _> = backoff.run(
            "test",
            || {
                calls += 1;
                Err("down")
            },
            |_| true,
        );
        assert_eq!((got, calls), (Err("down"), 3));
    }

    #[test]
    fn permanent_failures_are_not_tried_again() {
        let mut calls = 0;
        let got: Result<(), _> = Backoff::new(5, 1).run(
            "test",
            || {
                calls += 1;
                Err("bad key")
            },
            |_| false,
        );
        assert_eq!((got, calls), (Err("bad key"), 1));
        assert_eq!(Backoff::new(0, 5).attempts, 1);
    }
}
