//! The batch sampler: a seeded shuffle buffer that, in [`BatchMode::ClipPerVideo`], never puts two clips of one
//! video in the same batch (ViCLIP's answer to false negatives: two clips of one video are often near-duplicates,
//! and InfoNCE would push them apart). A clip whose video is already in the batch being built stays in the buffer
//! for a later batch. [`BatchMode::Naive`] draws plain random batches, for the false-negative experiment.
//!
//! Use: `push` clips while [`ClipSampler::ready`] is false, take a batch with [`ClipSampler::next_batch`], repeat;
//! at the end of the epoch [`ClipSampler::drain`] empties the buffer. A batch is built by drawing clips uniformly
//! at random from the buffer without replacement (a partial Fisher-Yates walk) and keeping each one whose video is
//! not in the batch yet; every clip passed over that way counts as one deferral.
//!
//! The buffer holds `capacity` clips, and more when needed: a full batch needs `batch_size` distinct videos in the
//! buffer, so when fewer are there (shards hold the clips of a video together) the buffer takes clips until there
//! are. Memory is therefore `capacity` clips plus, at worst, the clips of the `batch_size - 1` videos that crowd it.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use clipstream_schemas::config::BatchMode;
use clipstream_store::read::Sample;

/// A clip that belongs to a video.
pub trait ClipOfVideo {
    /// The video's id; clips with equal ids are clips of one video.
    fn video(&self) -> &str;
}

impl ClipOfVideo for Sample {
    fn video(&self) -> &str {
        &self.video_key
    }
}

/// What a sampler has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerCounters {
    pub batches: u64,
    pub clips: u64,
    /// Times a clip was passed over because its video was already in the batch being built.
    pub deferred: u64,
    /// Pairs of clips of one video inside one batch, summed over batches (always 0 for clip-per-video).
    pub same_video_pairs: u64,
    /// Batches holding at least one such pair.
    pub batches_with_same_video: u64,
}

/// Pairs of clips of one video in `batch`: the sum over its videos of `n * (n - 1) / 2`.
pub fn same_video_pairs<T: ClipOfVideo>(batch: &[T]) -> u64 {
    let mut per_video: HashMap<&str, u64> = HashMap::new();
    for clip in batch {
        *per_video.entry(clip.video()).or_default() += 1;
    }
    per_video.values().map(|n| n * (n - 1) / 2).sum()
}

/// A seeded shuffle buffer that draws batches; see the module docs.
#[derive(Debug)]
pub struct ClipSampler<T> {
    buffer: Vec<T>,
    /// Clips in the buffer per video.
    videos: HashMap<String, usize>,
    capacity: usize,
    mode: BatchMode,
    rng: ChaCha8Rng,
    counters: SamplerCounters,
}

impl<T: ClipOfVideo> ClipSampler<T> {
    /// An empty sampler holding about `capacity` clips (at least 1), drawing with a ChaCha8 stream seeded by `seed`
    /// (derive it from the run seed and the epoch for a different order every epoch).
    pub fn new(capacity: usize, mode: BatchMode, seed: u64) -> Self {
        Self {
            buffer: Vec::with_capacity(capacity.max(1)),
            videos: HashMap::new(),
            capacity: capacity.max(1),
            mode,
            rng: ChaCha8Rng::seed_from_u64(seed),
            counters: SamplerCounters::default(),
        }
    }

    pub fn mode(&self) -> BatchMode {
        self.mode
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Clips in the buffer.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Distinct videos in the buffer.
    pub fn video_count(&self) -> usize {
        self.videos.len()
    }

    pub fn counters(&self) -> SamplerCounters {
        self.counters
    }

    /// Adds a clip to the buffer.
    pub fn push(&mut self, clip: T) {
        *self.videos.entry(clip.video().to_string()).or_default() += 1;
        self.buffer.push(clip);
    }

    /// Whether [`Self::next_batch`] would return a batch: the buffer holds at least `capacity` and `batch_size`
    /// clips, and in clip-per-video mode at least `batch_size` videos.
    pub fn ready(&self, batch_size: usize) -> bool {
        let batch_size = batch_size.max(1);
        let videos_ok = match self.mode {
            BatchMode::ClipPerVideo => self.videos.len() >= batch_size,
            BatchMode::Naive => true,
        };
        self.buffer.len() >= self.capacity.max(batch_size) && videos_ok
    }

    /// A full batch of `batch_size` clips drawn at random, or `None` while the buffer is not [`Self::ready`].
    pub fn next_batch(&mut self, batch_size: usize) -> Option<Vec<T>> {
        if !self.ready(batch_size) {
            return None;
        }
        Some(self.draw(batch_size.max(1)))
    }

    /// Empties the buffer at the end of an epoch into batches of at most `batch_size` clips; only the last ones
    /// may be smaller. Clip-per-video: each batch takes one random clip from each of the `batch_size` videos with
    /// the most clips left (ties in random order), which needs the fewest batches possible, `max(ceil(clips /
    /// batch_size), most clips of one video)`; so when only clips of one video remain they go one per batch.
    /// Naive: the shuffled rest in chunks.
    pub fn drain(&mut self, batch_size: usize) -> Vec<Vec<T>> {
        let batch_size = batch_size.max(1);
        let mut batches = Vec::new();
        while !self.buffer.is_empty() {
            let batch = match self.mode {
                BatchMode::Naive => self.draw(batch_size),
                BatchMode::ClipPerVideo => self.draw_fullest(batch_size),
            };
            batches.push(batch);
        }
        batches
    }

    /// Draws up to `batch_size` clips by a random walk over the buffer (clip-per-video: one per video).
    fn draw(&mut self, batch_size: usize) -> Vec<T> {
        let len = self.buffer.len();
        let mut taken = 0;
        let mut walked = 0;
        let mut in_batch: HashSet<String> = HashSet::new();
        // Invariant: [0, taken) are chosen, [taken, walked) passed over, [walked, len) not seen yet.
        while taken < batch_size && walked < len {
            let pick = self.rng.random_range(walked..len);
            self.buffer.swap(walked, pick);
            let fits = match self.mode {
                BatchMode::Naive => true,
                BatchMode::ClipPerVideo => in_batch.insert(self.buffer[walked].video().to_string()),
            };
            if fits {
                self.buffer.swap(taken, walked);
                taken += 1;
            } else {
                self.counters.deferred += 1;
            }
            walked += 1;
        }
        let batch: Vec<T> = self.buffer.drain(..taken).collect();
        self.emitted(&batch);
        batch
    }

    /// One random clip from each of the `batch_size` videos with the most clips in the buffer.
    fn draw_fullest(&mut self, batch_size: usize) -> Vec<T> {
        // Buffer positions per video, videos in first-seen order (deterministic, unlike HashMap order).
        let mut order: Vec<&str> = Vec::new();
        let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, clip) in self.buffer.iter().enumerate() {
            let slot = positions.entry(clip.video()).or_insert_with(|| {
                order.push(clip.video());
                Vec::new()
            });
            slot.push(i);
        }
        // Random order first, then a stable sort by clips left, so that ties are broken at random.
        for i in (1..order.len()).rev() {
            order.swap(i, self.rng.random_range(0..=i));
        }
        order.sort_by_key(|video| std::cmp::Reverse(positions[video].len()));
        let mut chosen: Vec<usize> = Vec::with_capacity(batch_size.min(order.len()));
        for video in order.iter().take(batch_size) {
            let clips = &positions[video];
            chosen.push(clips[self.rng.random_range(0..clips.len())]);
            self.counters.deferred += (clips.len() - 1) as u64;
        }
        // Take the chosen clips out, keeping the batch in drawing order.
        let mut slots: Vec<Option<T>> = std::mem::take(&mut self.buffer).into_iter().map(Some).collect();
        let batch: Vec<T> = chosen.iter().filter_map(|&i| slots[i].take()).collect();
        self.buffer = slots.into_iter().flatten().collect();
        self.emitted(&batch);
        batch
    }

    /// Updates the per-video counts and the counters for a batch leaving the buffer.
    fn emitted(&mut self, batch: &[T]) {
        for clip in batch {
            if let Some(n) = self.videos.get_mut(clip.video()) {
                *n -= 1;
                if *n == 0 {
                    self.videos.remove(clip.video());
                }
            }
        }
        let pairs = same_video_pairs(batch);
        self.counters.batches += 1;
        self.counters.clips += batch.len() as u64;
        self.counters.same_video_pairs += pairs;
        self.counters.batches_with_same_video += u64::from(pairs > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clip: (video, clip id).
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    struct Clip(String, usize);

    impl ClipOfVideo for Clip {
        fn video(&self) -> &str {
            &self.0
        }
    }

    /// `per_video[v]` clips of video `v`, grouped by video as shards store them, or shuffled.
    fn clips(per_video: &[usize], shuffled: bool, rng: &mut ChaCha8Rng) -> Vec<Clip> {
        let mut out: Vec<Clip> = Vec::new();
        for (v, &n) in per_video.iter().enumerate() {
            for _ in 0..n {
                out.push(Clip(format!("v{v}"), out.len()));
            }
        }
        if shuffled {
            for i in (1..out.len()).rev() {
                out.swap(i, rng.random_range(0..=i));
            }
        }
        out
    }

    /// Runs one epoch: the streaming batches, then the drained ones.
    fn epoch(sampler: &mut ClipSampler<Clip>, stream: Vec<Clip>, batch_size: usize) -> (Vec<Vec<Clip>>, usize) {
        let mut batches = Vec::new();
        for clip in stream {
            sampler.push(clip);
            while let Some(batch) = sampler.next_batch(batch_size) {
                batches.push(batch);
            }
        }
        let streamed = batches.len();
        batches.extend(sampler.drain(batch_size));
        (batches, streamed)
    }

    #[test]
    fn property_clip_per_video_batches_and_exactly_once() {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        for case in 0..300 {
            let videos = rng.random_range(1..40);
            let per_video: Vec<usize> = (0..videos).map(|_| rng.random_range(1..30)).collect();
            let capacity = rng.random_range(1..200);
            let batch_size = rng.random_range(1..32);
            let stream = clips(&per_video, rng.random_bool(0.5), &mut rng);
            let mut sampler = ClipSampler::new(capacity, BatchMode::ClipPerVideo, case);
            let (batches, streamed) = epoch(&mut sampler, stream.clone(), batch_size);
            let context = format!("case {case}: {per_video:?} capacity {capacity} batch {batch_size}");
            for (i, batch) in batches.iter().enumerate() {
                let videos: HashSet<&str> = batch.iter().map(ClipOfVideo::video).collect();
                assert_eq!(videos.len(), batch.len(), "{context}: batch {i} repeats a video");
                assert!(!batch.is_empty() && batch.len() <= batch_size, "{context}");
                if i < streamed {
                    assert_eq!(batch.len(), batch_size, "{context}: streamed batches are full");
                }
            }
            let mut emitted: Vec<Clip> = batches.iter().flatten().cloned().collect();
            emitted.sort();
            let mut expected = stream;
            expected.sort();
            assert_eq!(emitted, expected, "{context}: every clip exactly once");
            let most = per_video.iter().max().copied().unwrap_or(0);
            let counters = sampler.counters();
            assert_eq!(counters.batches, batches.len() as u64);
            assert_eq!(counters.clips, emitted.len() as u64);
            assert_eq!((counters.same_video_pairs, counters.batches_with_same_video), (0, 0));
            assert!(sampler.is_empty() && sampler.video_count() == 0);
            assert!(batches.len() >= most, "{context}");
        }
    }

    #[test]
    fn clips_of_busy_videos_are_deferred() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let stream = clips(&[50; 10], false, &mut rng);
        let mut sampler = ClipSampler::new(100, BatchMode::ClipPerVideo, 9);
        let (batches, streamed) = epoch(&mut sampler, stream, 8);
        assert!(streamed > 40, "most batches are full: {streamed}");
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 500);
        let counters = sampler.counters();
        assert!(counters.deferred > 100, "{counters:?}");
        assert_eq!(counters.same_video_pairs, 0);
    }

    #[test]
    fn naive_batches_hold_same_video_pairs() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let stream = clips(&[50; 10], false, &mut rng);
        let mut sampler = ClipSampler::new(100, BatchMode::Naive, 9);
        let (batches, _) = epoch(&mut sampler, stream.clone(), 8);
        let pairs: u64 = batches.iter().map(|b| same_video_pairs(b)).sum();
        let counters = sampler.counters();
        assert!(pairs > 50, "{pairs}");
        assert_eq!(counters.same_video_pairs, pairs);
        assert_eq!(counters.batches_with_same_video, batches.iter().filter(|b| same_video_pairs(b) > 0).count() as u64);
        assert_eq!((counters.deferred, counters.clips), (0, 500));
        let mut emitted: Vec<Clip> = batches.into_iter().flatten().collect();
        emitted.sort();
        let mut expected = stream;
        expected.sort();
        assert_eq!(emitted, expected);
    }

    #[test]
    fn same_video_pairs_counts_pairs() {
        let batch = [Clip("a".into(), 0), Clip("a".into(), 1), Clip("a".into(), 2), Clip("b".into(), 3)];
        assert_eq!(same_video_pairs(&batch), 3);
        assert_eq!(same_video_pairs::<Clip>(&[]), 0);
    }

    #[test]
    fn drain_uses_the_fewest_batches_and_one_video_goes_one_per_batch() {
        let mut sampler = ClipSampler::new(100, BatchMode::ClipPerVideo, 3);
        for i in 0..5 {
            sampler.push(Clip("a".into(), i));
        }
        for i in 5..8 {
            sampler.push(Clip("b".into(), i));
        }
        assert!(!sampler.ready(2));
        assert!(sampler.next_batch(2).is_none());
        let sizes: Vec<usize> = sampler.drain(4).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 2, 1, 1]);

        for i in 0..3 {
            sampler.push(Clip("only".into(), i));
        }
        let batches = sampler.drain(8);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    }

    #[test]
    fn the_buffer_grows_until_a_batch_of_distinct_videos_fits() {
        let mut sampler = ClipSampler::new(4, BatchMode::ClipPerVideo, 0);
        for i in 0..10 {
            sampler.push(Clip("a".into(), i));
        }
        assert!(!sampler.ready(2), "ten clips of one video cannot make a batch of two");
        sampler.push(Clip("b".into(), 10));
        let batch = sampler.next_batch(2).unwrap();
        assert_eq!(same_video_pairs(&batch), 0);
        assert_eq!(sampler.len(), 9);
        assert!(sampler.next_batch(2).is_none(), "b is gone");
    }

    #[test]
    fn the_same_seed_gives_the_same_batches() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let mut sampler = ClipSampler::new(30, BatchMode::ClipPerVideo, seed);
            epoch(&mut sampler, clips(&[7, 3, 12, 1, 9, 4], true, &mut rng), 4).0
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
