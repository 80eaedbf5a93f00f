//! The end-of-run summary: printed for the user and stored as `_stats/{run_id}.json` in the output.

use serde::Serialize;

use super::progress::Counters;

/// What one curate run did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub output: String,
    pub rows: u64,
    pub skipped_already_done: u64,
    pub videos_done: u64,
    pub videos_failed: u64,
    pub clips: u64,
    pub shards: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub clips_per_second: f64,
    pub workers: usize,
}

impl Summary {
    pub fn from_counters(run_id: &str, output: &str, c: &Counters, seconds: f64, workers: usize) -> Self {
        let clips = Counters::get(&c.clips);
        Self {
            run_id: run_id.to_string(),
            output: output.to_string(),
            rows: Counters::get(&c.rows),
            skipped_already_done: Counters::get(&c.skipped),
            videos_done: Counters::get(&c.videos_done),
            videos_failed: Counters::get(&c.videos_failed),
            clips,
            shards: Counters::get(&c.shards),
            bytes: Counters::get(&c.bytes),
            seconds,
            clips_per_second: if seconds > 0.0 { clips as f64 / seconds } else { 0.0 },
            workers,
        }
    }

    /// Human-readable lines.
    pub fn render(&self) -> String {
        format!(
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
        )
    }
}
