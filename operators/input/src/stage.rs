//! The fetch stage: a request becomes a [`FetchedVideo`] (its bytes in a local file) or an error record, and
//! [`FetchStage`] puts it into a dataflow on top of `clipstream_core::StageExt`.

use std::sync::Arc;

use clipstream_core::StageExt;
use clipstream_schemas::{ErrorRecord, Stage, VideoRequest};
use timely::dataflow::Stream;
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

/// fetch: checks the request's key and makes the video's bytes local.
pub fn fetch_video(fetcher: &Fetcher, request: VideoRequest) -> Result<FetchedVideo, ErrorRecord> {
    let video_key = request.key().map_err(|e| ErrorRecord::for_request(Stage::Source, &request, &e))?;
    let fetched = fetcher.fetch(&request).map_err(|e| ErrorRecord::for_request(Stage::Fetch, &request, &e))?;
    Ok(FetchedVideo { video_id: request.raw_id(), video_key, request, fetched })
}

/// Extension trait adding the fetch stage to a stream of requests.
pub trait FetchStage<'scope, T: Timestamp> {
    /// Fetches every request with `fetcher` (blocking the worker while it downloads); fetched videos continue on
    /// the first stream, failures become `ErrorRecord`s (stage `fetch`, or `source` for an unusable id) on the
    /// second.
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

impl<'scope, T: Timestamp> FetchStage<'scope, T> for Stream<'scope, T, Vec<VideoRequest>> {
    fn fetch(
        self,
        fetcher: Arc<Fetcher>,
    ) -> (Stream<'scope, T, Vec<FetchedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        self.stage(Stage::Fetch, move |request: VideoRequest| fetch_video(&fetcher, request))
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
