//! Turning untrusted video ids into object-key components that can never escape their prefix.
//!
//! A safe key uses only `[A-Za-z0-9_-]`, is never empty, never starts with `-`, and is at most
//! [`MAX_KEY_LEN`] bytes. Anything else (path separators, `..`, dots, control and non-ASCII characters) is
//! replaced; an id that had to change, or is too long, gets a short hash suffix of the original so that distinct
//! ids stay distinct. Dots are excluded because webdataset splits a sample's key from its extension at the first dot.

use thiserror::Error;

/// Longest key component produced (bytes).
pub const MAX_KEY_LEN: usize = 96;
/// Longest id accepted at all (bytes); longer inputs are refused rather than hashed.
pub const MAX_ID_LEN: usize = 4096;

/// Why an id cannot become a key.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("video id is empty")]
    Empty,
    #[error("video id is {0} bytes long; at most {MAX_ID_LEN} are accepted")]
    TooLong(usize),
}

fn short_hash(text: &str) -> String {
    hex::encode(&crate::hash::sha256(&[text.as_bytes()])[..6])
}

/// Maps an untrusted id to a safe object-key component. Ids already safe are returned unchanged.
pub fn safe_key(id: &str) -> Result<String, KeyError> {
    if id.is_empty() {
        return Err(KeyError::Empty);
    }
    if id.len() > MAX_ID_LEN {
        return Err(KeyError::TooLong(id.len()));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let unchanged = id.chars().all(allowed) && !id.starts_with('-') && id.len() <= MAX_KEY_LEN;
    if unchanged {
        return Ok(id.to_string());
    }
    let mut cleaned: String = id.chars().map(|c| if allowed(c) { c } else { '_' }).collect();
    cleaned = cleaned.trim_start_matches(['-', '_']).to_string();
    let hash = short_hash(id);
    cleaned.truncate(MAX_KEY_LEN - hash.len() - 1);
    Ok(if cleaned.is_empty() { format!("h{hash}") } else { format!("{cleaned}-{hash}") })
}

/// The webdataset key of one clip: `{safe video key}_{clip index:04}`.
pub fn clip_key(video_key: &str, clip_index: u32) -> String {
    format!("{video_key}_{clip_index:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_safe(key: &str) -> bool {
        !key.is_empty()
            && key.len() <= MAX_KEY_LEN
            && !key.starts_with('-')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn keeps_safe_ids() {
        assert_eq!(safe_key("dQw4w9WgXcQ").as_deref(), Ok("dQw4w9WgXcQ"));
        assert_eq!(safe_key("abc_DEF-123").as_deref(), Ok("abc_DEF-123"));
    }

    #[test]
    fn neutralises_hostile_ids() {
        for id in [
            "../../etc/passwd",
            "/abs/path",
            "..",
            ".",
            "a/b",
            "a\\b",
            "-rf",
            "x\0y",
            "tab\there",
            "new\nline",
            "日本語",
            "emoji🎬",
            "clip.mp4",
            "C:\\windows",
            "%2e%2e%2f",
        ] {
            let key = safe_key(id).expect("non-empty id maps");
            assert!(is_safe(&key), "{id:?} -> {key:?}");
            assert!(!key.contains(".."), "{key}");
        }
    }

    #[test]
    fn distinct_ids_stay_distinct() {
        let a = safe_key("a/b").expect("maps");
        let b = safe_key("a_b").expect("maps");
        let c = safe_key("a.b").expect("maps");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(safe_key("a/b"), safe_key("a/b"));
    }

    #[test]
    fn long_ids_are_hashed_and_bounded() {
        let long = "x".repeat(500);
        let key = safe_key(&long).expect("maps");
        assert!(is_safe(&key) && key.len() <= MAX_KEY_LEN, "{key}");
        assert_ne!(key, safe_key(&"x".repeat(501)).expect("maps"));
        assert_eq!(safe_key(""), Err(KeyError::Empty));
        assert_eq!(safe_key(&"y".repeat(MAX_ID_LEN + 1)), Err(KeyError::TooLong(MAX_ID_LEN + 1)));
    }

    #[test]
    fn clip_keys_have_no_dots() {
        assert_eq!(clip_key("vid", 3), "vid_0003");
    }
}
