//! `ShardSink`: the per-worker shard writer. Videos go into the open shard; when it is full it is committed and a
//! new one starts; `finish` commits the partial last shard. Failures come back as error records, one per video.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clipstream_core::Backoff;
use clipstream_schemas::config::SinkConfig;
use clipstream_schemas::error::StageError as _;
use clipstream_schemas::{CuratedVideo, ErrorRecord, ShardManifest, Stage};

use clipstream_store::metrics::count_failure;
use clipstream_store::{ClosedShard, Output, ShardBuilder, ShardVideo, StoreError, commit_closed};

/// A failure of the sink, with one error record for each video it cost.
#[derive(Debug)]
pub struct SinkFailure {
    pub error: StoreError,
    pub records: Vec<ErrorRecord>,
}

impl SinkFailure {
    fn new<'a>(error: StoreError, videos: impl IntoIterator<Item = &'a ShardVideo>) -> Self {
        let records = videos
            .into_iter()
            .map(|video| {
                let mut record = ErrorRecord::new(Stage::Sink, &video.video_id, &video.url, &error);
                record.source = video.source;
                record
            })
            .collect();
        Self { error, records }
    }
}

/// Writes curated videos into shards of at most `config` size.
#[derive(Debug)]
pub struct ShardSink {
    output: Output,
    config: SinkConfig,
    spool_dir: Option<PathBuf>,
    current: Option<ShardBuilder>,
    /// When the open shard got its first video.
    opened: Option<Instant>,
}

impl ShardSink {
    pub fn new(output: Output, config: SinkConfig) -> Self {
        Self { output, config, spool_dir: None, current: None, opened: None }
    }

    /// Spools open shards under `dir` instead of the system temp directory.
    pub fn with_spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Videos in the open shard (0 when none is open).
    pub fn pending_videos(&self) -> usize {
        self.current.as_ref().map_or(0, ShardBuilder::video_count)
    }

    /// Adds a video; commits the shard when it is full. A video that cannot be added fails alone; a shard that
    /// cannot be committed (after `sink.commit_attempts` tries, `sink.commit_backoff_ms` apart and doubling) fails
    /// all its videos with retryable error records.
    pub fn push(&mut self, video: CuratedVideo) -> Result<Option<ShardManifest>, SinkFailure> {
        let sealed = self.add(video)?;
        sealed.map(|sealed| self.uploader().upload(sealed)).transpose()
    }

    /// Adds a video; returns the shard sealed for upload when it is full. A video that cannot be added fails alone.
    pub fn add(&mut self, video: CuratedVideo) -> Result<Option<Sealed>, SinkFailure> {
        let info = ShardVideo {
            video_id: video.video_id.clone(),
            video_key: video.video_key.clone(),
            url: video.request.url.clone(),
            source: video.request.source,
        };
        let builder = match self.current.take() {
            Some(builder) => builder,
            None => {
                self.opened = Some(Instant::now());
                self.new_builder().map_err(|error| SinkFailure::new(error, [&info]))?
            }
        };
        let builder = self.current.insert(builder);
        builder.add(video).map_err(|error| SinkFailure::new(error, [&info]))?;
        if builder.is_full(&self.config) { self.seal() } else { Ok(None) }
    }

    /// Commits the open shard, if any.
    pub fn finish(&mut self) -> Result<Option<ShardManifest>, SinkFailure> {
        let sealed = self.seal()?;
        sealed.map(|sealed| self.uploader().upload(sealed)).transpose()
    }

    /// Seals the open shard if its first video came `sink.max_shard_age_s` or longer ago (never when 0).
    pub fn seal_if_stale(&mut self) -> Result<Option<Sealed>, SinkFailure> {
        let max_age = Duration::from_secs_f64(self.config.max_shard_age_s);
        match self.opened {
            Some(opened) if !max_age.is_zero() && opened.elapsed() >= max_age => self.seal(),
            _ => Ok(None),
        }
    }

    /// Closes the open shard (its tar and parquet written locally) for upload; `None` when none is open.
    pub fn seal(&mut self) -> Result<Option<Sealed>, SinkFailure> {
        self.opened = None;
        let Some(builder) = self.current.take() else { return Ok(None) };
        if builder.is_empty() {
            return Ok(None);
        }
        let videos: Vec<ShardVideo> = builder.videos().cloned().collect();
        match builder.close() {
            Ok(shard) => Ok(Some(Sealed { shard, videos })),
            Err(error) => Err(failed(error, &videos, 1)),
        }
    }

    /// Sealed shards a worker uploads at once in the background (`sink.max_uploads`).
    pub fn max_uploads(&self) -> usize {
        self.config.max_uploads
    }

    /// What uploads sealed shards (on any thread).
    pub fn uploader(&self) -> Uploader {
        Uploader { output: self.output.clone(), config: self.config.clone() }
    }

    fn new_builder(&self) -> Result<ShardBuilder, StoreError> {
        match &self.spool_dir {
            Some(dir) => ShardBuilder::new_in(dir),
            None => ShardBuilder::new(),
        }
    }
}

/// A closed shard waiting for its upload.
pub struct Sealed {
    shard: ClosedShard,
    videos: Vec<ShardVideo>,
}

impl Sealed {
    /// The shard's videos.
    pub fn videos(&self) -> &[ShardVideo] {
        &self.videos
    }
}

/// Uploads sealed shards: tar and parquet, then the manifest (the commit), with the sink's retries.
#[derive(Debug, Clone)]
pub struct Uploader {
    output: Output,
    config: SinkConfig,
}

impl Uploader {
    /// Commits `sealed`; after `sink.commit_attempts` failed tries every video of the shard becomes a retryable
    /// error record.
    pub fn upload(&self, sealed: Sealed) -> Result<ShardManifest, SinkFailure> {
        let backoff = Backoff::of_sink(&self.config);
        backoff
            .run("shard commit", || commit_closed(&self.output, &sealed.shard), StoreError::retryable)
            .map_err(|error| failed(error, &sealed.videos, backoff.attempts))
    }
}

/// The failure of a shard whose upload could not start (no thread): its videos as retryable error records.
pub(crate) fn upload_not_started(videos: &[ShardVideo], error: std::io::Error) -> SinkFailure {
    failed(StoreError::Io { op: "start an upload thread for", path: PathBuf::new(), source: error }, videos, 0)
}

/// A shard that could not be closed or committed: every video of it as an error record, logged loudly.
fn failed(error: StoreError, videos: &[ShardVideo], attempts: u32) -> SinkFailure {
    count_failure("shard");
    tracing::error!(
        error = %error, videos = videos.len(), attempts,
        "SHARD COMMIT FAILED: its videos become sink error records (errors/ and the dead-letter topic)"
    );
    SinkFailure::new(error, videos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_store::fixtures::{temp_output, video};
    use clipstream_store::tar_key;

    fn config(max_shard_clips: u64) -> SinkConfig {
        SinkConfig { max_shard_bytes: 1 << 30, max_shard_clips, commit_backoff_ms: 1, ..SinkConfig::default() }
    }

    #[test]
    fn commits_full_shards_and_the_partial_one_at_finish() {
        let (_dir, output) = temp_output();
        let mut sink = ShardSink::new(output.clone(), config(4));
        assert!(sink.push(video("a", 2, false)).unwrap().is_none());
        let full = sink.push(video("b", 2, false)).unwrap().unwrap();
        assert_eq!((full.video_keys.clone(), full.clips), (vec!["a".to_string(), "b".to_string()], 4));
        assert_eq!(sink.pending_videos(), 0);
        assert!(sink.push(video("c", 1, false)).unwrap().is_none());
        assert_eq!(sink.pending_videos(), 1);
        let last = sink.finish().unwrap().unwrap();
        assert_eq!(last.video_keys, ["c"]);
        assert!(sink.finish().unwrap().is_none());
        assert_eq!(clipstream_store::committed_videos(&output).unwrap().len(), 3);
    }

    #[test]
    fn seals_a_stale_partial_shard() {
        let (_dir, output) = temp_output();
        let mut never = ShardSink::new(output.clone(), SinkConfig { max_shard_age_s: 0.0, ..config(100) });
        never.push(video("n", 1, false)).unwrap();
        assert!(never.seal_if_stale().unwrap().is_none());
        let mut sink = ShardSink::new(output, SinkConfig { max_shard_age_s: 0.05, ..config(100) });
        assert!(sink.seal_if_stale().unwrap().is_none());
        sink.push(video("s", 1, false)).unwrap();
        assert!(sink.seal_if_stale().unwrap().is_none());
        std::thread::sleep(Duration::from_millis(60));
        let sealed = sink.seal_if_stale().unwrap().expect("stale");
        assert_eq!(sink.pending_videos(), 0);
        assert_eq!(sink.uploader().upload(sealed).unwrap().video_keys, ["s"]);
    }

    #[test]
    fn a_bad_video_fails_alone() {
        let (_dir, output) = temp_output();
        let mut sink = ShardSink::new(output, config(100));
        sink.push(video("ok", 1, false)).unwrap();
        let mut bad = video("bad", 1, false);
        bad.clips[0].record.key = "a/b".into();
        let failure = sink.push(bad).unwrap_err();
        assert_eq!(failure.records.len(), 1);
        assert_eq!(failure.records[0].video_id, "id/bad");
        assert_eq!(failure.records[0].code, "sink.bad_key");
        assert!(!failure.records[0].retryable);
        assert_eq!(sink.finish().unwrap().unwrap().video_keys, ["ok"]);
    }

    #[test]
    fn a_failed_commit_fails_every_video_of_the_shard() {
        let (dir, output) = temp_output();
        let mut sink = ShardSink::new(output, config(2));
        sink.push(video("x", 1, false)).unwrap();
        let name = clipstream_store::shard_name(["x", "y"]);
        std::fs::create_dir_all(dir.path().join("out").join(tar_key(&name)).join("blocker")).unwrap();
        let failure = sink.push(video("y", 1, false)).unwrap_err();
        let mut ids: Vec<&str> = failure.records.iter().map(|r| r.video_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["id/x", "id/y"]);
        assert!(failure.records.iter().all(|r| r.retryable && r.code == "sink.store" && r.source.is_some()));
        assert_eq!(sink.pending_videos(), 0);
    }

    #[test]
    fn a_commit_that_fails_for_a_while_is_tried_again() {
        let (dir, output) = temp_output();
        let config = SinkConfig { commit_backoff_ms: 300, ..config(1) };
        let mut sink = ShardSink::new(output.clone(), config);
        let blocker = dir.path().join("out").join(tar_key(&clipstream_store::shard_name(["r"])));
        std::fs::create_dir_all(blocker.join("blocker")).unwrap();
        // The store recovers while the sink waits for its second try.
        let unblock = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            std::fs::remove_dir_all(blocker).unwrap();
        });
        let manifest = sink.push(video("r", 1, false)).expect("committed on a later try").expect("full shard");
        unblock.join().unwrap();
        assert_eq!(manifest.video_keys, ["r"]);
        assert_eq!(clipstream_store::committed_videos(&output).unwrap().len(), 1);
    }
}
