//! Live counters of a curate run, shared by all workers, and the progress bar that shows them on a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Counters updated by the dataflow's sinks.
#[derive(Debug, Default)]
pub struct Counters {
    pub rows: AtomicU64,
    pub skipped: AtomicU64,
    pub videos_done: AtomicU64,
    pub videos_failed: AtomicU64,
    /// Videos the sink could not write (also in `videos_failed`).
    pub videos_not_written: AtomicU64,
    pub clips: AtomicU64,
    pub shards: AtomicU64,
    pub bytes: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A spinner with live counts, drawn only when stderr is a terminal; stops when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    pub fn start(counters: Arc<Counters>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            while !flag.load(Ordering::Relaxed) {
                let c = &counters;
                bar.set_message(format!(
                    "rows {} | videos done {} failed {} skipped {} | clips {} | shards {}",
                    Counters::get(&c.rows),
                    Counters::get(&c.videos_done),
                    Counters::get(&c.videos_failed),
                    Counters::get(&c.skipped),
                    Counters::get(&c.clips),
                    Counters::get(&c.shards),
                ));
                bar.tick();
                std::thread::sleep(Duration::from_millis(200));
            }
            bar.finish_and_clear();
        });
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
