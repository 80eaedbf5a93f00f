//! The fetch stage: a request becomes a [`FetchedVideo`] (its bytes in a local file) or an error record, and
//! [`FetchStage`] puts it into a dataflow as an asynchronous stage: downloads run on the fetcher's runtime
//! (`fetch.concurrency` at once per process) while the worker decodes, and each video moves on as soon as its own
//! download is complete.

use std::sync::Arc;

use clipstream_core::{AsyncStageExt, Done};
use clipstream_schemas::{ErrorRecord, Stage, VideoRequest};
use timely::dataflow::Stream;
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::fetch::{FetchError, Fetched, Fetcher};

/// A video whose bytes are local.
#[derive(Clone)]
pub struct FetchedVideo {
    pub request: VideoRequest,
    pub video_id: String,
    pub video_key: String,
    pub fetched: Fetched,
}

/// fetch: checks the request's key and starts making the video's bytes local on the fetcher's runtime; `done`
/// gets the video, or the error record (stage `source` for an unusable id, `fetch` for a failed fetch).
pub fn start_fetch(fetcher: &Fetcher, request: VideoRequest, done: Done<FetchedVideo>) {
    let video_key = match request.key() {
        Ok(key) => key,
        Err(e) => return done.finish(Err(ErrorRecord::for_request(Stage::Source, &request, &e))),
    };
    fetcher.start(request.clone(), move |result| {
        done.finish(match result {
            Ok(fetched) => Ok(FetchedVideo { video_id: request.raw_id(), video_key, fetched, request }),
            Err(e) => Err(ErrorRecord::for_request(Stage::Fetch, &request, &e)),
        })
    });
}

/// The record of a request whose fetch ended without an answer (its task was dropped).
fn abandoned(request: &VideoRequest) -> ErrorRecord {
    let reason = FetchError::Setup("the fetch task ended without an answer".into());
    ErrorRecord::for_request(Stage::Fetch, request, &reason)
}

/// Extension trait adding the fetch stage to a stream of requests.
pub trait FetchStage<'scope, T: Timestamp + TotalOrder> {
    /// Fetches the requests with `fetcher` in the background, at most `max_in_flight` per worker at once (and
    /// `fetch.concurrency` downloads per process); fetched videos continue on the first stream as they complete,
    /// failures become `ErrorRecord`s (stage `fetch`, or `source` for an unusable id) on the second.
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
        max_in_flight: usize,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

impl<'scope, T: Timestamp + TotalOrder> FetchStage<'scope, T> for Stream<'scope, T, Vec<VideoRequest>> {
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
        max_in_flight: usize,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        self.async_stage(Stage::Fetch, max_in_flight, abandoned, move |request, done| {
            start_fetch(&fetcher, request, done)
        })
    }
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::SourcePosition;
    use clipstream_schemas::config::FetchConfig;
    use timely::dataflow::operators::capture::Extract;
    use timely::dataflow::operators::core::Map;
    use timely::dataflow::operators::{Capture, ToStream};

    use super::*;

    /// A loopback HTTP server that answers every request after `delay` with its path as the body; returns its
    /// port and the largest number of requests it was answering at once.
    fn slow_server(requests: usize, delay: fn(&str) -> std::time::Duration) -> (u16, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let handlers: Vec<_> = (0..requests)
                .map(|_| {
                    let (mut stream, _) = listener.accept().expect("accept");
                    let (now, most) = (now.clone(), most.clone());
                    std::thread::spawn(move || {
                        most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                        let mut buf = [0u8; 2048];
                        let n = stream.read(&mut buf).expect("read");
                        let head = String::from_utf8_lossy(&buf[..n]).to_string();
                        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                        std::thread::sleep(delay(&path));
                        now.fetch_sub(1, Ordering::SeqCst);
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{path}",
                            path.len()
                        );
                        stream.write_all(reply.as_bytes()).expect("write");
                    })
                })
                .collect();
            handlers.into_iter().for_each(|h| h.join().expect("handler"));
            most.load(Ordering::SeqCst)
        });
        (port, server)
    }

    /// The bodies of `requests` in the order they left the fetch stage, through a dataflow.
    fn fetch_in_dataflow(fetcher: Fetcher, requests: Vec<VideoRequest>, max_in_flight: usize) -> Vec<String> {
        let fetcher = Arc::new(fetcher);
        let out = timely::example(move |scope| {
            let (fetched, _) = requests.to_stream(scope).container::<Vec<_>>().fetch(fetcher, max_in_flight);
            fetched
                .map::<Vec<String>, _, _>(|v: FetchedVideo| std::fs::read_to_string(&v.fetched.path).expect("read"))
                .capture()
        });
        out.extract().into_iter().flat_map(|(_, bodies)| bodies).collect()
    }

    #[test]
    fn downloads_run_concurrently_within_the_process_limit() {
        let (port, server) = slow_server(6, |_| std::time::Duration::from_millis(300));
        let config = FetchConfig { concurrency: 4, allow_hosts: vec!["127.0.0.1".into()], ..FetchConfig::default() };
        let requests: Vec<_> =
            (0..6).map(|i| VideoRequest::new(format!("http://127.0.0.1:{port}/video-{i}.mp4"))).collect();
        let mut bodies = fetch_in_dataflow(Fetcher::new(config).expect("fetcher"), requests, 16);
        bodies.sort();
        let expected: Vec<String> = (0..6).map(|i| format!("/video-{i}.mp4")).collect();
        assert_eq!(bodies, expected, "every video fetched once");
        let most = server.join().expect("server");
        assert!((2..=4).contains(&most), "{most} requests in flight at once (fetch.concurrency = 4)");
    }

    #[test]
    fn a_video_moves_on_as_soon_as_its_own_download_is_complete() {
        let (port, server) =
            slow_server(4, |path| std::time::Duration::from_millis(if path.contains("slow") { 1500 } else { 50 }));
        let config = FetchConfig { allow_hosts: vec!["127.0.0.1".into()], ..FetchConfig::default() };
        let requests: Vec<_> = ["slow", "a", "b", "c"]
            .iter()
            .map(|name| VideoRequest::new(format!("http://127.0.0.1:{port}/{name}.mp4")))
            .collect();
        let bodies = fetch_in_dataflow(Fetcher::new(config).expect("fetcher"), requests, 16);
        server.join().expect("server");
        assert_eq!(bodies.len(), 4);
        assert_eq!(
            bodies.last().map(String::as_str),
            Some("/slow.mp4"),
            "the slow download does not hold the others: {bodies:?}"
        );
    }

    #[test]
    fn splits_fetched_and_failed_requests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ok.mp4");
        std::fs::write(&file, b"video").expect("write");
        let mut ok = VideoRequest::new(file.to_string_lossy());
        ok.video_id = Some("ok".into());
        let mut missing = VideoRequest::new(dir.path().join("missing.mp4").to_string_lossy());
        missing.source = Some(SourcePosition { partition: 0, offset: 7 });
        let fetcher = Arc::new(Fetcher::new(FetchConfig::default()).expect("fetcher"));

        let (fetched, errors) = timely::example(move |scope| {
            let (fetched, errors) = vec![ok, missing].to_stream(scope).container::<Vec<_>>().fetch(fetcher, 4);
            let fetched = fetched.map::<Vec<(String, u64)>, _, _>(|v: FetchedVideo| {
                (v.request.video_id.unwrap_or_default(), v.fetched.bytes)
            });
            let errors = errors.map::<Vec<(String, String, String, Option<i64>)>, _, _>(|e: ErrorRecord| {
                (e.code, e.stage.to_string(), e.video_id, e.source.map(|s| s.offset))
            });
            (fetched.capture(), errors.capture())
        });
        let fetched: Vec<_> = fetched.extract().into_iter().flat_map(|(_, items)| items).collect();
        assert_eq!(fetched, vec![("ok".to_string(), 5)]);
        let errors: Vec<_> = errors.extract().into_iter().flat_map(|(_, items)| items).collect();
        assert_eq!(errors.len(), 1);
        let (code, stage, video_id, offset) = &errors[0];
        assert_eq!((code.as_str(), stage.as_str(), *offset), ("fetch.not_found", "fetch", Some(7)));
        assert!(video_id.starts_with("missing-"), "{video_id}");
    }
}
