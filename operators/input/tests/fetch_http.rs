//! http fetch against a local server: the SSRF guard never lets a default-configured fetch reach loopback, allowed
//! hosts download correctly, and redirects, size limits, timeouts and statuses map to the right error codes.

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clipstream_input::{FetchError, Fetcher};
use clipstream_schemas::VideoRequest;
use clipstream_schemas::config::FetchConfig;
use clipstream_schemas::error::StageError;
use common::{Reply, TestServer};

fn fetcher(allow: &[&str], tweak: impl FnOnce(&mut FetchConfig)) -> Fetcher {
    let mut config = FetchConfig {
        allow_hosts: allow.iter().map(|h| h.to_string()).collect(),
        connect_timeout_s: 2.0,
        read_timeout_s: 5.0,
        total_timeout_s: 20.0,
        ..FetchConfig::default()
    };
    tweak(&mut config);
    Fetcher::new(config).expect("fetcher")
}

fn fetch(fetcher: &Fetcher, url: &str) -> Result<clipstream_input::Fetched, FetchError> {
    fetcher.fetch(&VideoRequest::new(url))
}

fn code_of<T>(result: Result<T, FetchError>) -> (&'static str, bool) {
    match result {
        Ok(_) => ("ok", false),
        Err(e) => (e.code(), e.retryable()),
    }
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn loopback_is_never_contacted_without_allow_list() {
    let server = TestServer::start(|_| Reply::ok(b"secret".to_vec()));
    let fetcher = fetcher(&[], |_| {});
    for host in ["127.0.0.1", "localhost", "LOCALHOST", "[::ffff:127.0.0.1]", "2130706433", "127.1"] {
        let got = code_of(fetch(&fetcher, &server.url(host, "/x")));
        assert_eq!(got, ("fetch.refused_address", false), "{host}");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.accepted(), 0, "the guard must refuse before connecting");
}

#[test]
fn allow_listed_host_is_downloaded() {
    let body = payload(200_000);
    let expected = body.clone();
    let server = TestServer::start(move |path| match path {
        "/v/clip.mp4" => {
            Reply { headers: vec![("Content-Type".into(), "video/mp4".into())], ..Reply::ok(body.clone()) }
        }
        _ => Reply::status(404),
    });
    let temp_dir = tempfile::tempdir().expect("tempdir");
    let fetcher = fetcher(&["127.0.0.1"], |c| c.temp_dir = temp_dir.path().to_path_buf());
    let got = fetch(&fetcher, &server.url("127.0.0.1", "/v/clip.mp4")).expect("allowed");
    assert_eq!(got.bytes, expected.len() as u64);
    assert_eq!(std::fs::read(&got.path).expect("read"), expected);
    assert!(got.path.starts_with(temp_dir.path()));
    assert!(got.path.to_string_lossy().ends_with(".mp4"));
    assert_eq!(got.content_type.as_deref(), Some("video/mp4"));
    let copy = got.clone();
    let path = got.path.clone();
    drop(got);
    assert!(path.exists(), "a clone keeps the file");
    drop(copy);
    assert!(!path.exists(), "the temp file goes with the last clone");

    // The allow list names 127.0.0.1 only: the same server under another name stays refused.
    assert_eq!(code_of(fetch(&fetcher, &server.url("localhost", "/v/clip.mp4"))).0, "fetch.refused_address");
}

#[test]
fn redirect_to_unlisted_loopback_name_is_refused() {
    let port = Arc::new(OnceLock::new());
    let own_port = Arc::clone(&port);
    let server = TestServer::start(move |path| match path {
        "/start" => Reply::redirect(&format!("http://localhost:{}/x", own_port.get().copied().unwrap_or(0))),
        "/relative" => Reply::redirect("/x"),
        "/loop" => Reply::redirect("/loop"),
        "/x" => Reply::ok(b"payload".to_vec()),
        _ => Reply::status(404),
    });
    port.set(server.port).expect("set once");
    let fetcher = fetcher(&["127.0.0.1"], |c| c.max_redirects = 2);
    let got = code_of(fetch(&fetcher, &server.url("127.0.0.1", "/start")));
    assert_eq!(got, ("fetch.refused_address", false));
    assert_eq!(server.accepted(), 1, "only the allow-listed first hop is contacted");

    let followed = fetch(&fetcher, &server.url("127.0.0.1", "/relative")).expect("relative redirect");
    assert_eq!(std::fs::read(&followed.path).expect("read"), b"payload");

    let before = server.accepted();
    assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", "/loop"))), ("fetch.too_many_redirects", false));
    assert_eq!(server.accepted() - before, 3, "first request plus max_redirects hops");
}

#[test]
fn size_limits_apply_to_declared_and_chunked_bodies() {
    let server = TestServer::start(|path| match path {
        "/declared" => Reply::ok(payload(1000)),
        "/lying" => Reply { claimed_length: Some(10_000_000), ..Reply::ok(payload(10)) },
        "/chunked" => Reply { chunked: true, ..Reply::ok(payload(1000)) },
        "/small-chunked" => Reply { chunked: true, ..Reply::ok(payload(100)) },
        _ => Reply::status(404),
    });
    let temp_dir = tempfile::tempdir().expect("tempdir");
    let fetcher = fetcher(&["127.0.0.1"], |c| {
        c.max_bytes = 100;
        c.temp_dir = temp_dir.path().to_path_buf();
    });
    for path in ["/declared", "/lying", "/chunked"] {
        assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", path))), ("fetch.too_large", false), "{path}");
    }
    let small = fetch(&fetcher, &server.url("127.0.0.1", "/small-chunked")).expect("exactly at the limit");
    assert_eq!(small.bytes, 100);
    drop(small);
    assert_eq!(std::fs::read_dir(temp_dir.path()).expect("list").count(), 0, "no partial files left behind");
}

#[test]
fn stalls_time_out_as_retryable() {
    let stall = Some(Duration::from_secs(3));
    let server = TestServer::start(move |path| match path {
        "/stall-body" => Reply { claimed_length: Some(1000), stall_after_body: stall, ..Reply::ok(payload(10)) },
        "/stall-head" => Reply { stall_before_headers: stall, ..Reply::ok(payload(10)) },
        _ => Reply::status(404),
    });
    let fetcher = fetcher(&["127.0.0.1"], |c| c.read_timeout_s = 0.3);
    for path in ["/stall-body", "/stall-head"] {
        assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", path))), ("fetch.timeout", true), "{path}");
    }
    let total = self::fetcher(&["127.0.0.1"], |c| c.total_timeout_s = 0.3);
    assert_eq!(code_of(fetch(&total, &server.url("127.0.0.1", "/stall-body"))), ("fetch.timeout", true));
}

#[test]
fn http_statuses_map_to_retry_hints() {
    let server = TestServer::start(|path| match path {
        "/503" => Reply::status(503),
        "/429" => Reply::status(429),
        _ => Reply::status(404),
    });
    let fetcher = fetcher(&["127.0.0.1"], |_| {});
    assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", "/404"))), ("fetch.http_status", false));
    assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", "/503"))), ("fetch.http_status", true));
    assert_eq!(code_of(fetch(&fetcher, &server.url("127.0.0.1", "/429"))), ("fetch.http_status", true));
}

#[test]
fn unresolvable_hosts_are_retryable_dns_errors() {
    let fetcher = fetcher(&[], |_| {});
    assert_eq!(code_of(fetch(&fetcher, "http://no-such-host.invalid/x.mp4")), ("fetch.dns", true));
}

#[test]
fn refused_connection_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let fetcher = fetcher(&["127.0.0.1"], |_| {});
    let (code, retryable) = code_of(fetch(&fetcher, &format!("http://127.0.0.1:{port}/x")));
    assert_eq!((code, retryable), ("fetch.connect", true));
}
