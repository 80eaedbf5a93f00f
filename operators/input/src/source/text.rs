//! The plain-text list: one URL or path per line; blank lines and `#` comments are skipped.

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::row::{RowAt, RowFields, finish};

/// One line of a text list: the trimmed URL or path; blank lines and `#` comments are skipped.
pub(crate) fn parse_text_line(text: String, at: &RowAt) -> Option<Result<VideoRequest, ErrorRecord>> {
    let url = text.trim();
    if url.is_empty() || url.starts_with('#') {
        return None;
    }
    let fields = RowFields { url: url.to_string(), ..RowFields::default() };
    Some(finish(fields, at, move || text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lines::LineRows;

    #[test]
    fn reads_urls_skipping_blanks_and_comments() {
        let input =
            b"# header comment\nhttps://e.com/a.mp4\n\n   \n/data/b.mp4  \n  # indented comment\nftp://x/y\n\xff\xfe\n";
        let rows: Vec<_> = LineRows::new(&input[..], parse_text_line).collect();
        assert_eq!(rows.len(), 4);
        let a = rows[0].as_ref().expect("a");
        assert_eq!(a.url, "https://e.com/a.mp4");
        assert_eq!(a.source.map(|s| s.offset), Some(1));
        assert_eq!(rows[1].as_ref().expect("b").url, "/data/b.mp4");
        let ftp = rows[2].as_ref().expect_err("ftp");
        assert_eq!(ftp.code, "source.bad_url");
        assert!(ftp.reason.starts_with("line 7:"), "{}", ftp.reason);
        assert_eq!(ftp.raw.as_deref(), Some("ftp://x/y"));
        let utf8 = rows[3].as_ref().expect_err("bad utf8");
        assert_eq!(utf8.code, "source.bad_row");
        assert_eq!(utf8.raw.as_deref(), Some("\u{fffd}\u{fffd}"));
    }
}
