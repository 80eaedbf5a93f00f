//! `redact_url`: a URL as it may be stored and shown: user names and passwords dropped, and the values of query
//! parameters that carry credentials or signatures (presigned S3/GCS/Azure URLs, tokens, API keys) replaced by
//! `REDACTED`. Fetching uses the original; records, logs, error records and dead letters get this form.

use url::Url;

/// Query parameters whose values are secrets (compared case-insensitively).
const SECRET_PARAMS: &[&str] = &[
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "googleaccessid",
    "awsaccesskeyid",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "password",
    "secret",
];

/// The replacement of a secret.
pub const REDACTED: &str = "REDACTED";

/// `url` without credentials; text that is not an absolute URL (a local path) is returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else { return url.to_string() };
    if parsed.cannot_be_a_base() {
        return url.to_string();
    }
    let mut changed = false;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Both succeed for URLs with a host, which are the only ones that can carry credentials.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        changed = true;
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        if pairs.iter().any(|(name, _)| is_secret(name)) {
            let mut query = parsed.query_pairs_mut();
            query.clear();
            for (name, value) in &pairs {
                query.append_pair(name, if is_secret(name) { REDACTED } else { value });
            }
            drop(query);
            changed = true;
        }
    }
    if changed { parsed.to_string() } else { url.to_string() }
}

fn is_secret(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|secret| secret.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_signatures_are_removed() {
        assert_eq!(redact_url("https://user:pw@h.example/v.mp4"), "https://h.example/v.mp4");
        assert_eq!(redact_url("s3://AKIA:secret@bucket/v.mp4"), "s3://bucket/v.mp4");
        let presigned = "https://b.s3.amazonaws.com/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026\
                         &X-Amz-Signature=abc123&X-Amz-Expires=60";
        let redacted = redact_url(presigned);
        assert!(!redacted.contains("abc123") && !redacted.contains("AKIA"), "{redacted}");
        assert!(redacted.contains("X-Amz-Expires=60") && redacted.contains("X-Amz-Signature=REDACTED"), "{redacted}");
        let sas = redact_url("https://a.blob.core.windows.net/c/v.mp4?sv=2024&sig=s3cr3t&se=2026");
        assert!(!sas.contains("s3cr3t") && sas.contains("sv=2024"), "{sas}");
    }

    #[test]
    fn plain_urls_and_paths_are_unchanged() {
        for url in ["https://e.com/v.mp4?t=10&list=x", "/videos/a b.mp4", "file:///v/a.mp4", "relative.mp4", ""] {
            assert_eq!(redact_url(url), url);
        }
    }
}
