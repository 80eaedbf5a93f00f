//! The end-of-run summary: printed for the user and stored as `_stats/{run_id}.json` in the output.

use serde::Serialize;

use super::progress::Counters;
use super::usage::Usage;

/// What one curate run did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub output: String,
    pub rows: u64,
    pub skipped_already_done: u64,
    pub videos_done: u64,
    pub videos_failed: u64,
    /// Videos whose shard could not be committed or that the sink refused (also in `videos_failed`).
    pub videos_not_written: u64,
    /// Error records and dead letters that could not be stored at shutdown.
    pub records_not_stored: u64,
    pub clips: u64,
    pub shards: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub clips_per_second: f64,
    pub workers: usize,
    /// Model calls, batch sizes and busy fractions, and mean requests in flight of the I/O stages.
    pub usage: Usage,
}

impl Summary {
    pub fn from_counters(
        run_id: &str,
        output: &str,
        c: &Counters,
        records_not_stored: u64,
        seconds: f64,
        workers: usize,
        usage: Usage,
    ) -> Self {
        let clips = Counters::get(&c.clips);
        Self {
            run_id: run_id.to_string(),
            output: output.to_string(),
            rows: Counters::get(&c.rows),
            skipped_already_done: Counters::get(&c.skipped),
            videos_done: Counters::get(&c.videos_done),
            videos_failed: Counters::get(&c.videos_failed),
            videos_not_written: Counters::get(&c.videos_not_written),
            records_not_stored,
            clips,
            shards: Counters::get(&c.shards),
            bytes: Counters::get(&c.bytes),
            seconds,
            clips_per_second: if seconds > 0.0 { clips as f64 / seconds } else { 0.0 },
            workers,
            usage,
        }
    }

    /// Whether the output failed the run: videos not written, or failures that could not be recorded.
    pub fn output_failed(&self) -> bool {
        self.videos_not_written > 0 || self.records_not_stored > 0
    }

    /// Human-readable lines.
    pub fn render(&self) -> String {
        let mut text = format!(
            "curate run {}\n  output:   {}\n  rows:     {} ({} already done, skipped)\n  videos:   {} curated, {} failed (see errors/)\n  clips:    {} in {} new shards ({:.1} MiB)\n  time:     {:.1} s, {:.2} clips/s with {} workers\n",
            self.run_id,
            self.output,
            self.rows,
            self.skipped_already_done,
            self.videos_done,
            self.videos_failed,
            self.clips,
            self.shards,
            self.bytes as f64 / (1 << 20) as f64,
            self.seconds,
            self.clips_per_second,
            self.workers,
        );
        text.push_str(&self.usage.render());
        if self.videos_not_written > 0 {
            text.push_str(&format!(
                "  OUTPUT FAILED: {} videos could not be written (sink error records in errors/; run again)\n",
                self.videos_not_written
            ));
        }
        if self.records_not_stored > 0 {
            text.push_str(&format!(
                "  OUTPUT FAILED: {} error records or dead letters could not be stored\n",
                self.records_not_stored
            ));
        }
        text
    }
}
