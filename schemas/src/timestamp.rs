//! InternVid's clip timestamps: `HH:MM:SS.mmm` (hours may exceed two digits), parsed and formatted.

use thiserror::Error;

/// Why a timestamp string was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TimestampError {
    #[error("timestamp {0:?} is not HH:MM:SS.mmm")]
    Format(String),
    #[error("timestamp {0:?} has minutes or seconds >= 60, or more hours than any video")]
    Range(String),
}

/// The most hours a timestamp may name (about a year).
pub const MAX_HOURS: u64 = 24 * 366;

/// Formats seconds as `HH:MM:SS.mmm`, rounding to the nearest millisecond. Negative and non-finite inputs
/// format as `00:00:00.000`.
pub fn format_timestamp(seconds: f64) -> String {
    let ms = if seconds.is_finite() && seconds > 0.0 { (seconds * 1000.0).round() as u64 } else { 0 };
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, ms) = (rem / 1000, rem % 1000);
    format!("{h:02}:{m:02}:{s:02}.{ms:03}")
}

/// Parses `HH:MM:SS.mmm` (also `HH:MM:SS` and 1-9 fractional digits) into seconds.
pub fn parse_timestamp(text: &str) -> Result<f64, TimestampError> {
    let bad = || TimestampError::Format(text.to_string());
    let mut parts = text.trim().split(':');
    let (Some(h), Some(m), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    if !digits(h) || !digits(m) || !digits(sec) || (s.contains('.') && (!digits(frac) || frac.len() > 9)) {
        return Err(bad());
    }
    let hours: u64 = h.parse().map_err(|_| bad())?;
    let minutes: u64 = m.parse().map_err(|_| bad())?;
    let whole: u64 = sec.parse().map_err(|_| bad())?;
    // A year of video is far past any real clip; the bound keeps the arithmetic exact.
    if minutes >= 60 || whole >= 60 || hours > MAX_HOURS {
        return Err(TimestampError::Range(text.to_string()));
    }
    let fraction = if frac.is_empty() { 0.0 } else { format!("0.{frac}").parse::<f64>().map_err(|_| bad())? };
    Ok((hours * 3600 + minutes * 60 + whole) as f64 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_past_any_video_are_refused_not_wrapped() {
        assert_eq!(parse_timestamp("8784:00:00"), Ok(8784.0 * 3600.0));
        for text in ["8785:00:00", "5124095576030431:00:00.000", "99999999999999999999:00:00"] {
            assert!(parse_timestamp(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_internvid_style() {
        assert_eq!(format_timestamp(0.0), "00:00:00.000");
        assert_eq!(format_timestamp(83.2), "00:01:23.200");
        assert_eq!(format_timestamp(3723.0456), "01:02:03.046");
        assert_eq!(format_timestamp(100.0 * 3600.0), "100:00:00.000");
        assert_eq!(format_timestamp(-3.0), "00:00:00.000");
        assert_eq!(format_timestamp(f64::NAN), "00:00:00.000");
    }

    #[test]
    fn parses_and_round_trips() {
        assert_eq!(parse_timestamp("00:01:23.200"), Ok(83.2));
        assert_eq!(parse_timestamp("00:00:05"), Ok(5.0));
        for ms in [0_u64, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_123, 360_000_001] {
            let text = format_timestamp(ms as f64 / 1000.0);
            let back = parse_timestamp(&text).expect("own format parses");
            assert_eq!((back * 1000.0).round() as u64, ms, "{text}");
            assert_eq!(format_timestamp(back), text);
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "1:2", "aa:bb:cc.ddd", "00:00:00.", "00:00:-1.000", "00:00:00.1234567890", "1:2:3:4"] {
            assert!(matches!(parse_timestamp(bad), Err(TimestampError::Format(_))), "{bad:?}");
        }
        assert!(matches!(parse_timestamp("00:60:00.000"), Err(TimestampError::Range(_))));
        assert!(matches!(parse_timestamp("00:00:61.000"), Err(TimestampError::Range(_))));
    }
}
