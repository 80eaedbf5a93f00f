//! Timely wrappers of the input stages: `FetchStage` turns a stream of requests into fetched videos plus error
//! records, on top of `clipstream_core::StageExt`.

use std::sync::Arc;

use clipstream_core::StageExt;
use clipstream_schemas::{ErrorRecord, Stage, VideoRequest};
use timely::dataflow::Stream;
use timely::progress::Timestamp;

use crate::fetch::{FetchError, Fetched, Fetcher};

/// The error record of a failed fetch, carrying the request's id, url and source position.
pub fn fetch_error_record(request: &VideoRequest, error: &FetchError) -> ErrorRecord {
    let mut record = ErrorRecord::new(Stage::Fetch, &request.raw_id(), &request.url, error);
    record.source = request.source;
    record
}

/// Extension trait adding the fetch stage to a stream of requests.
pub trait FetchStage<'scope, T: Timestamp> {
    /// Fetches every request with `fetcher` (blocking the worker while it downloads); fetched videos continue on
    /// the first stream, failures become `ErrorRecord`s (stage `fetch`) on the second.
    #[allow(clippy::type_complexity)]
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<(VideoRequest, Fetched)>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

impl<'scope, T: Timestamp> FetchStage<'scope, T> for Stream<'scope, T, Vec<VideoRequest>> {
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<(VideoRequest, Fetched)>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        self.stage(Stage::Fetch, move |request: VideoRequest| match fetcher.fetch(&request) {
            Ok(fetched) => Ok((request, fetched)),
            Err(error) => Err(fetch_error_record(&request, &error)),
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
            let fetched = fetched.map::<Vec<(String, u64)>, _, _>(|(r, f): (VideoRequest, Fetched)| {
                (r.video_id.unwrap_or_default(), f.bytes)
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
