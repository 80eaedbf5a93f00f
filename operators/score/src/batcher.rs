//! `ScoreBatcher`: the score stage of a process as a service. The workers submit videos and go on; one thread
//! per model instance (per device of `score.devices`) takes videos from one shared queue until their clips fill
//! `score.batch_size` or the oldest has waited `score.max_wait_ms`, scores them together ([`score_videos`]: the
//! next batch's pixels are prepared on a CPU thread while the model runs) and answers each video. So a GPU sees
//! full batches even when every video has one clip and the videos come from different workers.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clipstream_schemas::config::ScoreConfig;
use clipstream_schemas::{CuratedVideo, ErrorRecord};

use crate::models::ScoreModels;
use crate::stage::score_videos;

/// Where a submitted video's result goes (called on a scoring thread).
pub type Answer = Box<dyn FnOnce(Result<CuratedVideo, ErrorRecord>) + Send>;

struct Job {
    video: CuratedVideo,
    answer: Answer,
    arrived: Instant,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    /// Clips of the waiting videos.
    clips: usize,
    closed: bool,
}

struct Queue {
    waiting: Mutex<Waiting>,
    changed: Condvar,
    batch: usize,
    max_wait: Duration,
}

/// The process's score service; dropping it scores what is queued and stops its threads.
pub struct ScoreBatcher {
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl ScoreBatcher {
    /// Starts one scoring thread per entry of `instances` (one model instance per device).
    pub fn start(instances: Vec<ScoreModels>, config: &ScoreConfig) -> std::io::Result<Self> {
        let queue = Arc::new(Queue {
            waiting: Mutex::default(),
            changed: Condvar::new(),
            batch: config.batch_size.max(1),
            max_wait: Duration::from_millis(config.max_wait_ms),
        });
        let threads = instances
            .into_iter()
            .enumerate()
            .map(|(index, models)| {
                let (queue, config) = (queue.clone(), config.clone());
                std::thread::Builder::new()
                    .name(format!("clipstream-score-{index}"))
                    .spawn(move || score_from(&queue, &models, &config))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { queue, threads })
    }

    /// Queues `video` for scoring; `answer` gets its result on a scoring thread.
    pub fn submit(&self, video: CuratedVideo, answer: Answer) {
        let mut waiting = self.queue.lock();
        waiting.clips += video.clips.len();
        waiting.jobs.push_back(Job { video, answer, arrived: Instant::now() });
        drop(waiting);
        self.queue.changed.notify_all();
    }
}

impl Drop for ScoreBatcher {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.changed.notify_all();
        for thread in self.threads.drain(..) {
            // A scoring thread that panicked has dropped its videos' answers, which report them as failed.
            let _ = thread.join();
        }
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next videos to score together: as soon as their clips fill a batch, or the oldest has waited
    /// `max_wait`, or the queue is closed; `None` once it is closed and empty.
    fn next(&self) -> Option<Vec<Job>> {
        let mut waiting = self.lock();
        loop {
            let Some(oldest) = waiting.jobs.front().map(|job| job.arrived) else {
                if waiting.closed {
                    return None;
                }
                waiting = self.changed.wait(waiting).unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            };
            let waited = oldest.elapsed();
            if waiting.clips >= self.batch || waited >= self.max_wait || waiting.closed {
                // Whole videos while they fit in one batch (a video larger than a batch goes alone, in chunks).
                let mut taken: Vec<Job> = Vec::new();
                let mut clips = 0;
                while let Some(next) = waiting.jobs.front().map(|job| job.video.clips.len())
                    && (taken.is_empty() || clips + next <= self.batch)
                    && let Some(job) = waiting.jobs.pop_front()
                {
                    clips += next;
                    taken.push(job);
                }
                waiting.clips -= clips;
                return Some(taken);
            }
            let (guard, _) = self
                .changed
                .wait_timeout(waiting, self.max_wait - waited)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            waiting = guard;
        }
    }
}

/// A scoring thread: batches from `queue` through `models` until the queue is closed and empty.
fn score_from(queue: &Queue, models: &ScoreModels, config: &ScoreConfig) {
    while let Some(jobs) = queue.next() {
        let (videos, answers): (Vec<_>, Vec<_>) = jobs.into_iter().map(|job| (job.video, job.answer)).unzip();
        for (answer, result) in answers.into_iter().zip(score_videos(models, config, videos)) {
            answer(result);
        }
    }
}
