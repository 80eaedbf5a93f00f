//! The fetch stage: a request becomes a [`FetchedVideo`] (its bytes in a local file) or an error record, and
//! [`FetchStage`] puts it into a dataflow. The requests of each batch that reaches a worker are fetched together,
//! `fetch.concurrency` at a time ([`Fetcher::fetch_all`]), so a worker waiting for slow servers waits for them at
//! once instead of one after the other.

use std::sync::Arc;

use clipstream_core::StageMetrics;
use clipstream_schemas::{ErrorRecord, Stage, VideoRequest};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::operators::generic::operator::Operator;
use timely::progress::Timestamp;

use crate::fetch::{Fetched, Fetcher};

/// A video whose bytes are local.
#[derive(Clone)]
pub struct FetchedVideo {
    pub request: VideoRequest,
    pub video_id: String,
    pub video_key: String,
    pub fetched: Fetched,
}

/// fetch: checks each request's key and makes the videos' bytes local, several downloads at once; the results are
/// in request order, each counted in the stage's metrics with the time of its own fetch.
pub fn fetch_videos(
    fetcher: &Fetcher,
    metrics: &StageMetrics,
    requests: Vec<VideoRequest>,
) -> Vec<Result<FetchedVideo, ErrorRecord>> {
    let keyed: Vec<_> = requests
        .into_iter()
        .map(|request| match request.key() {
            Ok(key) => Ok((request, key)),
            Err(e) => Err(ErrorRecord::for_request(Stage::Source, &request, &e)),
        })
        .collect();
    let wanted: Vec<&VideoRequest> = keyed.iter().filter_map(|k| k.as_ref().ok().map(|(request, _)| request)).collect();
    let mut fetched = fetcher.fetch_all(&wanted).into_iter();
    keyed
        .into_iter()
        .map(|keyed| {
            let (request, video_key) = keyed?;
            let (result, elapsed) = fetched.next().expect("fetch_all returns one result per request");
            let result = match result {
                Ok(fetched) => Ok(FetchedVideo { video_id: request.raw_id(), video_key, fetched, request }),
                Err(e) => Err(ErrorRecord::for_request(Stage::Fetch, &request, &e)),
            };
            metrics.record(elapsed, result)
        })
        .collect()
}

/// Extension trait adding the fetch stage to a stream of requests.
pub trait FetchStage<'scope, T: Timestamp> {
    /// Fetches the requests with `fetcher` (the worker blocks while a batch downloads, `fetch.concurrency` at a
    /// time); fetched videos continue on the first stream, failures become `ErrorRecord`s (stage `fetch`, or
    /// `source` for an unusable id) on the second.
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

type Outcome = Result<FetchedVideo, ErrorRecord>;

impl<'scope, T: Timestamp> FetchStage<'scope, T> for Stream<'scope, T, Vec<VideoRequest>> {
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        let metrics = StageMetrics::for_stage(Stage::Fetch);
        let outcomes =
            self.unary::<CapacityContainerBuilder<Vec<Outcome>>, _, _, _>(Pipeline, "Fetch", |initial, _| {
                drop(initial);
                move |input, output| {
                    input.for_each_stamp(|time, batches| {
                        let requests: Vec<VideoRequest> = batches.flat_map(|batch| batch.drain(..)).collect();
                        let outcomes = fetch_videos(&fetcher, &metrics, requests);
                        output.session(&time).give_iterator(outcomes.into_iter());
                    });
                }
            });
        outcomes.ok_err(|outcome| outcome)
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
    fn slow_server(requests: usize, delay: std::time::Duration) -> (u16, std::thread::JoinHandle<usize>) {
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
                        std::thread::sleep(delay);
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

    #[test]
    fn a_batch_downloads_concurrently_and_keeps_its_order() {
        let (port, server) = slow_server(6, std::time::Duration::from_millis(300));
        let config = FetchConfig { concurrency: 4, allow_hosts: vec!["127.0.0.1".into()], ..FetchConfig::default() };
        let fetcher = Fetcher::new(config).expect("fetcher");
        let requests: Vec<_> =
            (0..6).map(|i| VideoRequest::new(format!("http://127.0.0.1:{port}/video-{i}.mp4"))).collect();
        let metrics = StageMetrics::for_stage(Stage::Fetch);
        let fetched = fetch_videos(&fetcher, &metrics, requests);
        let bodies: Vec<String> = fetched
            .into_iter()
            .map(|v| std::fs::read_to_string(&v.expect("fetched").fetched.path).expect("read"))
            .collect();
        let expected: Vec<String> = (0..6).map(|i| format!("/video-{i}.mp4")).collect();
        assert_eq!(bodies, expected, "results in request order");
        let most = server.join().expect("server");
        assert!((2..=4).contains(&most), "{most} requests in flight at once (fetch.concurrency = 4)");
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
            let (fetched, errors) = vec![ok, missing].to_stream(scope).container::<Vec<_>>().fetch(fetcher);
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
