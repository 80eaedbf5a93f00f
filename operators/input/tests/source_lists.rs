//! `read_list` end to end: each format picked by extension (or override) from a real file, bad rows as error
//! records without stopping, and whole-list failures.

use std::path::Path;

use clipstream_input::{ListFormat, SourceError, read_list};
use clipstream_schemas::error::StageError;
use clipstream_schemas::{ErrorRecord, VideoRequest};

type Row = Result<VideoRequest, ErrorRecord>;

fn write(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write list");
    path
}

/// `Ok(url)` or `Err(code)` per row.
fn outcomes(rows: Vec<Row>) -> Vec<Result<String, String>> {
    rows.into_iter().map(|r| r.map(|req| req.url).map_err(|e| e.code)).collect()
}

#[test]
fn every_format_by_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let cases: Vec<(std::path::PathBuf, ListFormat)> = vec![
        (write(d, "a.txt", b"# c\nhttps://e.com/1.mp4\n\nftp://e.com/2.mp4\n"), ListFormat::Text),
        (write(d, "a.list", b"https://e.com/1.mp4\nftp://e.com/2.mp4\n"), ListFormat::Text),
        (write(d, "a.csv", b"url,title\nhttps://e.com/1.mp4,t\nftp://e.com/2.mp4,u\n"), ListFormat::Csv),
        (write(d, "a.tsv", b"url\ttitle\nhttps://e.com/1.mp4\tt\nftp://e.com/2.mp4\tu\n"), ListFormat::Tsv),
        (
            write(d, "a.jsonl", b"{\"url\":\"https://e.com/1.mp4\"}\n{\"url\":\"ftp://e.com/2.mp4\"}\n"),
            ListFormat::Jsonl,
        ),
        (
            write(d, "a.ndjson", b"{\"url\":\"https://e.com/1.mp4\"}\n\n{\"url\":\"ftp://e.com/2.mp4\"}\n"),
            ListFormat::Jsonl,
        ),
    ];
    for (path, format) in cases {
        let reader = read_list(&path, None).expect("opens");
        assert_eq!(reader.format(), format, "{}", path.display());
        let got = outcomes(reader.collect());
        assert_eq!(
            got,
            vec![Ok("https://e.com/1.mp4".to_string()), Err("source.bad_url".to_string())],
            "{}",
            path.display()
        );
    }
}

#[test]
fn format_override_and_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "urls.data", b"{\"url\":\"/v/a.mp4\",\"id\":\"../../x\",\"lang\":\"en\"}\n");
    assert!(matches!(read_list(&path, None), Err(SourceError::UnknownFormat { .. })));
    let rows: Vec<_> = read_list(&path, Some(ListFormat::Jsonl)).expect("override").collect();
    let request = rows[0].as_ref().expect("row");
    assert_eq!(request.source.map(|s| (s.partition, s.offset)), Some((0, 0)));
    assert_eq!(request.metadata.get("lang"), Some(&serde_json::json!("en")));
    let key = request.key().expect("hostile id neutralised");
    assert!(!key.contains('/') && !key.contains(".."), "{key}");
}

#[test]
fn bad_rows_do_not_stop_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut content = b"{\"url\":\"/v/1.mp4\"}\n\n{oops\n{\"video_id\":\"x\"}\n\xff\xfe\n".to_vec();
    content.extend_from_slice(format!("{{\"url\":\"/v/big.mp4\",\"pad\":\"{}\"}}x\n", "p".repeat(10_000)).as_bytes());
    content.extend_from_slice(b"{\"url\":\"/v/2.mp4\"}\n");
    let path = write(dir.path(), "l.jsonl", &content);
    let rows: Vec<_> = read_list(&path, None).expect("opens").collect();
    let got = outcomes(rows.clone());
    assert_eq!(
        got,
        vec![
            Ok("/v/1.mp4".into()),
            Err("source.bad_row".into()),
            Err("source.missing_url".into()),
            Err("source.bad_row".into()),
            Err("source.bad_row".into()),
            Ok("/v/2.mp4".into()),
        ]
    );
    let long = rows[4].as_ref().expect_err("trailing garbage");
    assert!(long.reason.starts_with("line 6:"), "{}", long.reason);
    assert_eq!(long.raw.as_ref().map(String::len), Some(4096), "raw is truncated to 4 KiB");
    assert_eq!(rows[5].as_ref().expect("last").source.map(|s| s.offset), Some(6));
}

#[test]
fn directory_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    write(dir.path(), "b.mp4", b"x");
    write(dir.path(), "readme.md", b"x");
    write(&dir.path().join("sub"), "a.webm", b"x");
    let reader = read_list(dir.path(), None).expect("opens");
    assert_eq!(reader.format(), ListFormat::Directory);
    let urls: Vec<String> = reader.map(|r| r.expect("video").url).collect();
    let root = dir.path().to_string_lossy();
    assert_eq!(urls, vec![format!("{root}/b.mp4"), format!("{root}/sub/a.webm")]);
}

#[test]
fn whole_list_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = read_list(&dir.path().join("nope.txt"), None).expect_err("missing");
    assert_eq!(missing.code(), "source.open");
    let no_url = write(dir.path(), "n.csv", b"id,title\n1,2\n");
    assert_eq!(read_list(&no_url, None).expect_err("no url column").code(), "source.missing_url_column");
    let not_parquet = write(dir.path(), "x.parquet", b"not parquet at all");
    assert_eq!(read_list(&not_parquet, None).expect_err("garbage").code(), "source.parquet");
}
