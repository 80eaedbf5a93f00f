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
//! With [`HardNegatives`], part of each streamed batch is made of caption-neighbour groups first: a random anchor
//! clip and the buffered clips (of other videos, in clip-per-video mode) whose captions share the most words with
//! it (Jaccard over word sets), never two equal captions in a group; the rest of the batch is drawn as above.
//! Random batches of a large, varied set rarely hold two clips that differ in one detail, so InfoNCE never asks
//! the model to tell them apart; a retrieval gallery is full of them.
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
    /// The clip's caption (what caption-neighbour groups compare).
    fn caption(&self) -> &str;
}

impl ClipOfVideo for Sample {
    fn video(&self) -> &str {
        &self.video_key
    }

    fn caption(&self) -> &str {
        &self.caption
    }
}

/// Caption-neighbour groups in each streamed batch (`train.hard_negatives`, `train.hard_group`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HardNegatives {
    /// Fraction of the batch made of groups (0..=1).
    pub fraction: f64,
    /// Clips per group (anchor included).
    pub group: usize,
}

/// A buffered clip with its caption's word set (sorted FNV hashes of its lowercased words; empty unless
/// caption-neighbour groups are drawn).
#[derive(Debug)]
struct Entry<T> {
    clip: T,
    words: Vec<u64>,
}

/// The sorted, distinct hashes of the lowercased alphanumeric words of `caption`.
fn word_set(caption: &str) -> Vec<u64> {
    let mut words: Vec<u64> = caption
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| clipstream_schemas::hash::fnv1a64(w.to_lowercase().as_bytes()))
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// |a ∩ b| / |a ∪ b| of two sorted word sets (0 when both are empty).
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 { 0.0 } else { both as f64 / union as f64 }
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
    buffer: Vec<Entry<T>>,
    /// Clips in the buffer per video.
    videos: HashMap<String, usize>,
    capacity: usize,
    mode: BatchMode,
    rng: ChaCha8Rng,
    counters: SamplerCounters,
    hard: Option<HardNegatives>,
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
            hard: None,
        }
    }

    /// Builds part of every streamed batch from caption-neighbour groups (see the module docs); a fraction of 0
    /// or groups of fewer than 2 clips leave batches random.
    pub fn with_hard_negatives(mut self, hard: HardNegatives) -> Self {
        self.hard = (hard.fraction > 0.0 && hard.group >= 2).then_some(hard);
        self
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
        let words = if self.hard.is_some() { word_set(clip.caption()) } else { Vec::new() };
        self.buffer.push(Entry { clip, words });
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
        let batch_size = batch_size.max(1);
        let grouped = self.hard.map_or(0, |hard| self.draw_groups(batch_size, hard));
        Some(self.draw_after(batch_size, grouped))
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
        self.draw_after(batch_size, 0)
    }

    /// Moves caption-neighbour groups, `round(fraction x batch_size)` clips in all, to the front of the buffer
    /// and returns their number: each group is a random anchor and the clips that fit the batch (another video in
    /// clip-per-video mode, a caption not yet in the group) with the highest word overlap with the anchor, ties
    /// in buffer order.
    fn draw_groups(&mut self, batch_size: usize, hard: HardNegatives) -> usize {
        let want = ((batch_size as f64 * hard.fraction).round() as usize).min(batch_size);
        let mut picks: Vec<usize> = Vec::with_capacity(want);
        let mut picked = vec![false; self.buffer.len()];
        let mut in_batch: HashSet<&str> = HashSet::new();
        let fits = |i: usize, picked: &[bool], in_batch: &HashSet<&str>| {
            !picked[i] && (self.mode == BatchMode::Naive || !in_batch.contains(self.buffer[i].clip.video()))
        };
        while picks.len() < want {
            let open: Vec<usize> = (0..self.buffer.len()).filter(|&i| fits(i, &picked, &in_batch)).collect();
            let Some(&anchor) = open.get(self.rng.random_range(0..open.len().max(1))) else { break };
            let mut group: Vec<usize> = vec![anchor];
            let anchor_words = &self.buffer[anchor].words;
            let mut scored: Vec<(f64, usize)> = open
                .iter()
                .filter(|&&i| i != anchor)
                .map(|&i| (jaccard(anchor_words, &self.buffer[i].words), i))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let size = hard.group.min(want - picks.len());
            let mut videos: HashSet<&str> = HashSet::from([self.buffer[anchor].clip.video()]);
            for (_, i) in scored {
                if group.len() >= size {
                    break;
                }
                let clip = &self.buffer[i].clip;
                let new_video = self.mode == BatchMode::Naive || !videos.contains(clip.video());
                if new_video && group.iter().all(|&g| self.buffer[g].clip.caption() != clip.caption()) {
                    videos.insert(clip.video());
                    group.push(i);
                }
            }
            for i in group {
                picked[i] = true;
                in_batch.insert(self.buffer[i].clip.video());
                picks.push(i);
            }
        }
        let taken = picks.len();
        let mut slots: Vec<Option<Entry<T>>> = std::mem::take(&mut self.buffer).into_iter().map(Some).collect();
        let front: Vec<Entry<T>> = picks.iter().filter_map(|&i| slots[i].take()).collect();
        self.buffer = front.into_iter().chain(slots.into_iter().flatten()).collect();
        taken
    }

    /// Fills the batch whose first `taken` clips are already at the front of the buffer up to `batch_size` by a
    /// random walk over the rest (clip-per-video: one per video) and takes it out of the buffer.
    fn draw_after(&mut self, batch_size: usize, taken: usize) -> Vec<T> {
        let len = self.buffer.len();
        let mut taken = taken.min(len);
        let mut walked = taken;
        let mut in_batch: HashSet<String> = match self.mode {
            BatchMode::Naive => HashSet::new(),
            BatchMode::ClipPerVideo => self.buffer[..taken].iter().map(|e| e.clip.video().to_string()).collect(),
        };
        // Invariant: [0, taken) are chosen, [taken, walked) passed over, [walked, len) not seen yet.
        while taken < batch_size && walked < len {
            let pick = self.rng.random_range(walked..len);
            self.buffer.swap(walked, pick);
            let fits = match self.mode {
                BatchMode::Naive => true,
                BatchMode::ClipPerVideo => in_batch.insert(self.buffer[walked].clip.video().to_string()),
            };
            if fits {
                self.buffer.swap(taken, walked);
                taken += 1;
            } else {
                self.counters.deferred += 1;
            }
            walked += 1;
        }
        let batch: Vec<T> = self.buffer.drain(..taken).map(|e| e.clip).collect();
        self.emitted(&batch);
        batch
    }

    /// One random clip from each of the `batch_size` videos with the most clips in the buffer.
    fn draw_fullest(&mut self, batch_size: usize) -> Vec<T> {
        // Buffer positions per video, videos in first-seen order (deterministic, unlike HashMap order).
        let mut order: Vec<&str> = Vec::new();
        let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, entry) in self.buffer.iter().enumerate() {
            let clip = &entry.clip;
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
        let mut slots: Vec<Option<Entry<T>>> = std::mem::take(&mut self.buffer).into_iter().map(Some).collect();
        let batch: Vec<T> = chosen.iter().filter_map(|&i| slots[i].take()).map(|e| e.clip).collect();
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

        fn caption(&self) -> &str {
            &self.0
        }
    }

    /// A clip with a caption of its own: (video, caption).
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    struct Captioned(String, String);

    impl ClipOfVideo for Captioned {
        fn video(&self) -> &str {
            &self.0
        }

        fn caption(&self) -> &str {
            &self.1
        }
    }

    /// Synthetic-style captions from 4 x 4 x 4 attributes.
    fn caption(rng: &mut ChaCha8Rng) -> String {
        fn pick(rng: &mut ChaCha8Rng, words: [&'static str; 4]) -> &'static str {
            words[rng.random_range(0..4)]
        }
        let colour = pick(rng, ["red", "blue", "green", "yellow"]);
        let shape = pick(rng, ["circle", "star", "square", "diamond"]);
        let motion = pick(rng, ["growing", "shrinking", "rotating", "bouncing"]);
        format!("a {colour} {shape} {motion} on a background")
    }

    #[test]
    fn word_sets_and_overlap() {
        assert_eq!(word_set("A red, red circle!"), word_set("circle red a"));
        assert_eq!(jaccard(&word_set("a red circle"), &word_set("a blue circle")), 0.5);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&word_set("x y"), &word_set("x y")), 1.0);
    }

    #[test]
    fn property_hard_negative_batches_keep_the_guarantees_and_group_neighbours() {
        let mut rng = ChaCha8Rng::seed_from_u64(77);
        let (mut group_overlap, mut random_overlap) = (0.0, 0.0);
        for case in 0..60 {
            let videos = rng.random_range(20..80);
            let stream: Vec<Captioned> = (0..videos)
                .flat_map(|v| (0..rng.random_range(1..6)).map(move |_| v))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|v| Captioned(format!("v{v}"), caption(&mut rng)))
                .collect();
            let batch_size = rng.random_range(4..16);
            let hard = HardNegatives { fraction: rng.random_range(0.25..=1.0), group: rng.random_range(2..6) };
            let mut sampler =
                ClipSampler::new(rng.random_range(16..120), BatchMode::ClipPerVideo, case).with_hard_negatives(hard);
            let mut batches = Vec::new();
            for clip in stream.clone() {
                sampler.push(clip);
                while let Some(batch) = sampler.next_batch(batch_size) {
                    batches.push(batch);
                }
            }
            let streamed = batches.len();
            batches.extend(sampler.drain(batch_size));
            let context = format!("case {case}: batch {batch_size} {hard:?}");
            for batch in &batches {
                let distinct: HashSet<&str> = batch.iter().map(ClipOfVideo::video).collect();
                assert_eq!(distinct.len(), batch.len(), "{context}: a batch repeats a video");
            }
            let mut emitted: Vec<Captioned> = batches.iter().flatten().cloned().collect();
            emitted.sort();
            let mut expected = stream;
            expected.sort();
            assert_eq!(emitted, expected, "{context}: every clip exactly once");
            // The first clips of a streamed batch are an anchor and its neighbours: their captions overlap the
            // anchor's more than the batch's random tail does.
            for batch in &batches[..streamed] {
                let want = ((batch_size as f64 * hard.fraction).round() as usize).min(hard.group);
                let anchor = word_set(&batch[0].1);
                for clip in &batch[1..want] {
                    group_overlap += jaccard(&anchor, &word_set(&clip.1));
                }
                let tail = batch.len().saturating_sub(want).max(1);
                for clip in batch.iter().rev().take(tail).take(want.saturating_sub(1)) {
                    random_overlap += jaccard(&anchor, &word_set(&clip.1));
                }
            }
        }
        assert!(group_overlap > random_overlap * 1.3, "groups {group_overlap} vs random {random_overlap}");
    }

    #[test]
    fn a_group_never_holds_equal_captions() {
        let mut sampler =
            ClipSampler::new(8, BatchMode::Naive, 1).with_hard_negatives(HardNegatives { fraction: 1.0, group: 4 });
        for (video, caption) in [("a", "x y"), ("b", "x y"), ("c", "x y"), ("d", "x z"), ("e", "x w"), ("f", "q r")] {
            sampler.push(Captioned(video.into(), caption.into()));
        }
        sampler.push(Captioned("g".into(), "x y".into()));
        sampler.push(Captioned("h".into(), "x v".into()));
        let batch = sampler.next_batch(4).expect("ready");
        let captions: HashSet<&str> = batch.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(captions.len(), 4, "{batch:?}");
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
