//! `ErrorWriter`: buffers `ErrorRecord`s and writes them as one jsonl object per flush,
//! `errors/{run_id}-w{worker:03}-{seq:05}.jsonl`, so runs and workers never overwrite each other.

use clipstream_schemas::ErrorRecord;
use clipstream_schemas::manifest::ERROR_DIR;

use clipstream_core::{Backoff, Undurable};
use clipstream_schemas::config::SinkConfig;
use clipstream_schemas::error::StageError as _;

use crate::error::StoreError;
use crate::metrics::{count_bytes, count_failure, sink_metrics};
use crate::output::Output;

/// The error-record writer of one worker.
#[derive(Debug)]
pub struct ErrorWriter {
    output: Output,
    run_id: String,
    worker: usize,
    seq: u32,
    buffer: Vec<ErrorRecord>,
    backoff: Backoff,
    undurable: Undurable,
}

impl ErrorWriter {
    /// A writer for `worker` of run `run_id` (any string safe in an object key, e.g. a timestamp).
    pub fn new(output: Output, run_id: impl Into<String>, worker: usize) -> Self {
        let backoff = Backoff::of_sink(&SinkConfig::default());
        Self {
            output,
            run_id: run_id.into(),
            worker,
            seq: 0,
            buffer: Vec::new(),
            backoff,
            undurable: Undurable::default(),
        }
    }

    /// Tries the last flush (at shutdown) with `backoff`, and counts records that still cannot be stored in
    /// `undurable`, which the offset committer watches.
    pub fn with_durability(mut self, backoff: Backoff, undurable: Undurable) -> Self {
        self.backoff = backoff;
        self.undurable = undurable;
        self
    }

    /// The final flush: tried with backoff; records that cannot be stored are dropped and counted as undurable.
    /// Returns the key written, if any.
    pub fn flush_at_shutdown(&mut self) -> Option<String> {
        let backoff = self.backoff;
        match backoff.run("error records", || self.flush(), StoreError::retryable) {
            Ok(key) => key,
            Err(error) => {
                count_failure("errors");
                let lost = self.buffer.len();
                self.buffer.clear();
                self.undurable.add(lost as u64);
                tracing::error!(%error, lost, "ERROR RECORDS NOT STORED at shutdown; no further offsets are committed");
                None
            }
        }
    }

    /// Buffers one record.
    pub fn push(&mut self, record: ErrorRecord) {
        self.buffer.push(record);
    }

    /// Records waiting for a flush.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// The key the next flush writes to.
    pub fn next_key(&self) -> String {
        format!("{ERROR_DIR}/{}-w{:03}-{:05}.jsonl", self.run_id, self.worker, self.seq)
    }

    /// Writes the buffered records, if any, and returns the key written. On failure the records stay buffered.
    pub fn flush(&mut self) -> Result<Option<String>, StoreError> {
        if self.buffer.is_empty() {
            return Ok(None);
        }
        let key = self.next_key();
        let mut body = Vec::new();
        for record in &self.buffer {
            serde_json::to_writer(&mut body, record).map_err(|source| StoreError::Json {
                what: format!("error record of {:?}", record.video_id),
                source,
            })?;
            body.push(b'\n');
        }
        let bytes = body.len() as u64;
        self.output.put(&key, body)?;
        crate::index::write_error_delta(&self.output, &key, &self.buffer)?;
        count_bytes("errors", bytes);
        sink_metrics().error_records.inc_by(self.buffer.len() as u64);
        self.buffer.clear();
        self.seq += 1;
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::Stage;

    use super::*;
    use crate::fixtures::temp_output;

    #[test]
    fn jsonl_round_trip_with_sequenced_names() {
        let (_dir, output) = temp_output();
        let mut writer = ErrorWriter::new(output.clone(), "run1", 3);
        assert_eq!(writer.flush().unwrap(), None, "nothing buffered, nothing written");
        let records: Vec<ErrorRecord> = (0..3)
            .map(|i| {
                let mut r = ErrorRecord::from_parts(Stage::Probe, &format!("v{i}"), "u", "probe.too_short", "short");
                r.retryable = i == 1;
                r
            })
            .collect();
        records.iter().cloned().for_each(|r| writer.push(r));
        assert_eq!(writer.pending(), 3);
        let key = writer.flush().unwrap().unwrap();
        assert_eq!(key, "errors/run1-w003-00000.jsonl");
        assert_eq!(writer.pending(), 0);
        let body = output.get(&key).unwrap();
        let read: Vec<ErrorRecord> =
            std::str::from_utf8(&body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(read, records);
        writer.push(records[0].clone());
        assert_eq!(writer.flush().unwrap().unwrap(), "errors/run1-w003-00001.jsonl");
    }

    #[test]
    fn a_final_flush_that_fails_counts_its_records_as_undurable() {
        let (dir, output) = temp_output();
        let undurable = Undurable::default();
        let backoff = Backoff::new(2, 1);
        let mut writer = ErrorWriter::new(output, "run", 0).with_durability(backoff, undurable.clone());
        std::fs::create_dir_all(dir.path().join("out").join(writer.next_key()).join("blocker")).unwrap();
        writer.push(ErrorRecord::from_parts(Stage::Probe, "v", "u", "probe.too_short", "short"));
        writer.push(ErrorRecord::from_parts(Stage::Probe, "w", "u", "probe.too_short", "short"));
        assert_eq!(writer.flush_at_shutdown(), None);
        assert_eq!((writer.pending(), undurable.count()), (0, 2));
    }
}
