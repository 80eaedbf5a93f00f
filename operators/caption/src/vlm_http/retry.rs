//! The retry policy of caption requests: which failures are tried again and how long to wait before each retry.

use std::time::Duration;

use crate::error::CaptionError;

/// The longest wait a server's `Retry-After` can ask for; longer asks wait this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether a request that failed with `error` is tried again (while retries are left): connection errors,
/// timeouts, HTTP 429 and 5xx. Other 4xx and unusable answers are not.
pub fn should_retry(error: &CaptionError) -> bool {
    matches!(error, CaptionError::Timeout { .. } | CaptionError::Connect { .. } | CaptionError::Http { .. })
        || matches!(error, CaptionError::Status { status, .. } if *status == 429 || (500..=599).contains(status))
}

/// The wait before retry number `retry` (0 = the first): `backoff_ms` doubled per retry, or longer when the server
/// asked for it with `Retry-After` (at most [`MAX_RETRY_AFTER`]).
pub fn delay(retry: u32, backoff_ms: u64, retry_after: Option<Duration>) -> Duration {
    let exponential = Duration::from_millis(backoff_ms.saturating_mul(1u64 << retry.min(20)));
    exponential.max(retry_after.map_or(Duration::ZERO, |asked| asked.min(MAX_RETRY_AFTER)))
}

/// A `Retry-After` header given in seconds (the HTTP-date form is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        let ms = Duration::from_millis;
        assert_eq!(delay(0, 500, None), ms(500));
        assert_eq!(delay(1, 500, None), ms(1000));
        assert_eq!(delay(3, 500, None), ms(4000));
        assert_eq!(delay(0, 500, Some(Duration::from_secs(2))), ms(2000));
        assert_eq!(delay(3, 500, Some(Duration::from_secs(1))), ms(4000));
        assert_eq!(delay(0, 0, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
        assert_eq!(delay(200, u64::MAX, None), Duration::from_millis(u64::MAX));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn what_is_retried() {
        let status = |status| CaptionError::Status { url: "u".into(), status, body: String::new() };
        assert!(should_retry(&status(429)));
        assert!(should_retry(&status(502)));
        assert!(!should_retry(&status(400)));
        assert!(!should_retry(&status(401)));
        assert!(should_retry(&CaptionError::Timeout { url: "u".into(), timeout_s: 1.0 }));
        assert!(!should_retry(&CaptionError::BadResponse { url: "u".into(), reason: "r".into() }));
        assert!(!should_retry(&CaptionError::Cancelled));
    }
}
