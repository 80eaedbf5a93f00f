//! `Admission`: what the source does with a row before any stage sees it: skip a video already settled by an
//! earlier run, skip a repeat of a video seen in this run, refuse a video whose key another video of this run
//! already holds (two different ids can map to one key: a safe id that equals an unsafe id's hashed key), or let it
//! in. One `Admitter` per worker; rows are routed by video, so all rows of a key reach the same worker, and each
//! worker asks the settled index only about its own videos.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use clipstream_core::Backoff;
use clipstream_schemas::error::StageError;
use clipstream_schemas::{ErrorRecord, Stage};
use clipstream_store::{Settled, StoreError};

use super::inputs::SourceItem;

/// The outcome for one row.
#[derive(Debug, PartialEq)]
pub enum Admission {
    /// A new video: on to fetch.
    Accepted,
    /// A row that could not be read: on, as its error record.
    Invalid,
    /// Committed or permanently failed in an earlier run.
    SkippedDone,
    /// The same video again in this run.
    Duplicate,
    /// A different video whose key is taken in this run; it goes on as this error record.
    KeyCollision(ErrorRecord),
    /// The settled index could not be read (after retries); the video goes on as this retryable error record
    /// rather than risk a duplicate.
    Unchecked(ErrorRecord),
}

impl Admission {
    /// The metric label of the outcome.
    pub fn label(&self) -> &'static str {
        match self {
            Admission::Accepted => "accepted",
            Admission::Invalid => "invalid",
            Admission::SkippedDone => "skipped_done",
            Admission::Duplicate => "duplicate",
            Admission::KeyCollision(_) => "key_collision",
            Admission::Unchecked(_) => "unchecked",
        }
    }

    /// What goes on into the dataflow for `item`: the row itself (a new video, or an unreadable row as its error
    /// record), the outcome's own error record, or nothing (a video skipped as settled or repeated).
    pub fn route(self, item: SourceItem) -> Option<SourceItem> {
        match self {
            Admission::Accepted | Admission::Invalid => Some(item),
            Admission::KeyCollision(record) | Admission::Unchecked(record) => Some(Err(record)),
            Admission::SkippedDone | Admission::Duplicate => None,
        }
    }
}

/// Decides the admission of rows; remembers the keys (and the ids holding them) of this run.
#[derive(Debug)]
pub struct Admitter {
    settled: Arc<Settled>,
    /// Tries of an index read that failed.
    backoff: Backoff,
    /// Key -> raw id of the first video with it.
    seen: HashMap<String, String>,
}

impl Admitter {
    pub fn new(settled: Arc<Settled>, backoff: Backoff) -> Self {
        Self { settled, backoff, seen: HashMap::new() }
    }

    pub fn admit(&mut self, item: &SourceItem) -> Admission {
        let request = match item {
            Ok(request) => request,
            Err(record) => {
                return match self.settled_any(&[&record.video_id]) {
                    Ok(true) => Admission::SkippedDone,
                    Ok(false) | Err(_) => Admission::Invalid,
                };
            }
        };
        let key = request.key().unwrap_or_default();
        let raw_id = request.raw_id();
        match self.settled_any(&[&key, &raw_id]) {
            Ok(true) => return Admission::SkippedDone,
            Ok(false) => {}
            Err(error) => {
                let reason = format!("cannot tell whether an earlier run settled this video: {error}");
                let mut record = ErrorRecord::from_parts(Stage::Source, &raw_id, &request.url, error.code(), reason);
                record.retryable = true;
                record.source = request.source;
                return Admission::Unchecked(record);
            }
        }
        match self.seen.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(raw_id);
                Admission::Accepted
            }
            Entry::Occupied(taken) if *taken.get() == raw_id => Admission::Duplicate,
            Entry::Occupied(taken) => {
                let reason = format!(
                    "video id {raw_id:?} maps to key {:?}, which video {:?} of this run already holds; give one of \
                     them another id",
                    taken.key(),
                    taken.get()
                );
                let mut record =
                    ErrorRecord::from_parts(Stage::Source, &raw_id, &request.url, "source.key_collision", reason);
                record.source = request.source;
                Admission::KeyCollision(record)
            }
        }
    }

    /// Whether any of `keys` (empty ones aside) is settled; index reads are retried with the sink's backoff.
    fn settled_any(&self, keys: &[&str]) -> Result<bool, StoreError> {
        for key in keys.iter().filter(|k| !k.is_empty()) {
            if self.backoff.run("settled-index lookup", || self.settled.contains(key), StoreError::retryable)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::VideoRequest;

    use super::*;

    fn request(id: &str) -> SourceItem {
        Ok(VideoRequest { video_id: Some(id.into()), ..VideoRequest::new(format!("/v/{id}.mp4")) })
    }

    #[test]
    fn skips_settled_and_repeated_videos_and_refuses_taken_keys() {
        let unsafe_id = "a/b";
        let hashed = VideoRequest { video_id: Some(unsafe_id.into()), ..VideoRequest::new("/v/x.mp4") }.key().unwrap();
        assert_ne!(hashed, unsafe_id);
        let mut admitter = Admitter::new(Arc::new(Settled::from_keys(["old"])), Backoff::new(1, 0));
        assert_eq!(admitter.admit(&request("old")), Admission::SkippedDone);
        assert_eq!(admitter.admit(&request("new")), Admission::Accepted);
        assert_eq!(admitter.admit(&request("new")), Admission::Duplicate);
        assert_eq!(admitter.admit(&request(unsafe_id)), Admission::Accepted);
        let Admission::KeyCollision(record) = admitter.admit(&request(&hashed)) else { panic!("a collision") };
        assert_eq!((record.code.as_str(), record.video_id.as_str()), ("source.key_collision", hashed.as_str()));
        let bad = Err(ErrorRecord::from_parts(Stage::Source, "", "u", "source.bad_row", "bad"));
        assert_eq!(admitter.admit(&bad), Admission::Invalid);
        let settled_bad = Err(ErrorRecord::from_parts(Stage::Source, "old", "u", "source.bad_row", "bad"));
        assert_eq!(admitter.admit(&settled_bad), Admission::SkippedDone);
    }

    #[test]
    fn only_skips_are_dropped_and_refusals_go_on_as_their_records() {
        let row = request("v");
        assert_eq!(Admission::Accepted.route(row.clone()), Some(row.clone()));
        assert_eq!(Admission::SkippedDone.route(row.clone()), None);
        assert_eq!(Admission::Duplicate.route(row.clone()), None);
        let record = ErrorRecord::from_parts(Stage::Source, "v", "u", "source.key_collision", "taken");
        assert_eq!(Admission::KeyCollision(record.clone()).route(row.clone()), Some(Err(record.clone())));
        assert_eq!(Admission::Unchecked(record.clone()).route(row), Some(Err(record)));
        let bad: SourceItem = Err(ErrorRecord::from_parts(Stage::Source, "", "u", "source.bad_row", "bad"));
        assert_eq!(Admission::Invalid.route(bad.clone()), Some(bad));
    }

    #[test]
    fn an_unreadable_index_turns_the_video_into_a_retryable_record() {
        use clipstream_store::index::{IndexKind, OpenOptions, compact, write_delta};
        let dir = tempfile::tempdir().unwrap();
        let output = clipstream_store::Output::open(dir.path().to_str().unwrap()).unwrap();
        output.put("manifests/s.json", "{}").unwrap();
        write_delta(&output, IndexKind::Committed, "s", "manifests/s.json", vec!["old".into()]).unwrap();
        compact(&output, IndexKind::Committed).unwrap();
        output.put("index/committed/INIT", "{}").unwrap();
        let settled = Settled::open(&output, OpenOptions { include_failed: false, cache_bytes: 1 << 20 }).unwrap();
        let segments = output.list("index/committed/segments").unwrap();
        // The heads were read at open; the blocks are cut short since (a damaged or foreign object).
        output.put(&segments[0].key, vec![0u8; 100]).unwrap();
        let mut admitter = Admitter::new(Arc::new(settled), Backoff::new(2, 0));
        let Admission::Unchecked(record) = admitter.admit(&request("old")) else { panic!("an unchecked video") };
        assert!(record.retryable);
        assert_eq!((record.code.as_str(), record.video_id.as_str()), ("sink.bad_index", "old"));
    }
}
