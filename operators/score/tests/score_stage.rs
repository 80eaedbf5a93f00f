//! The score stage and the `tags` captioner on real JPEG frames of a synthetic video, with the tiny ViCLIP of the
//! reference fixtures and a random tiny CLIP + aesthetic MLP saved to safetensors: scores equal a direct model
//! computation, the filter drops exactly the clips under the thresholds, and tags captions come from the
//! vocabulary and are the best-ranked object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clipstream_caption::Captioner;
use clipstream_caption::TagsCaptioner;
use clipstream_caption::tags::Vocabulary;
use clipstream_media::{ClipSpan, SynthSpec, sample_frames, write_dataset};
use clipstream_models::aesthetic::AestheticMlp;
use clipstream_models::{Arch, VideoTextModel};
use clipstream_schemas::config::{DeviceChoice, FramesConfig, ScoreConfig, SimilarityModel, TagsConfig};
use clipstream_schemas::{ClipPayload, ClipRecord, CuratedVideo, VideoRequest};
use clipstream_score::models::lock;
use clipstream_score::{ScoreBatcher, ScoreModels, pixels, score_video, score_videos};
use tch::nn::VarStore;
use tch::{Device, Tensor};

fn tiny_viclip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/tests/fixtures/viclip/tiny-viclip.safetensors")
}

/// A synthetic video cut at its true shots, with 8 stored frames per clip and a caption per clip.
fn video(dir: &Path) -> anyhow::Result<CuratedVideo> {
    let spec = SynthSpec { videos: 1, min_shots: 3, max_shots: 3, ..SynthSpec::default() };
    let truth = write_dataset(&spec, dir, 1)?.remove(0);
    let spans: Vec<ClipSpan> = truth
        .shots
        .iter()
        .map(|s| ClipSpan::from_frames(s.start_frame, s.end_frame, f64::from(spec.fps), 10.0))
        .collect();
    let frames = sample_frames(&dir.join(&truth.path), &spans, &FramesConfig::default(), None)?;
    let clips = frames
        .into_iter()
        .zip(&truth.shots)
        .enumerate()
        .map(|(i, (frames, shot))| ClipPayload {
            record: record(i as u32, &shot.caption, frames.frames_jpeg.len() as u32),
            middle_jpeg: frames.middle_jpeg,
            frames_jpeg: frames.frames_jpeg,
            fine_frames_jpeg: Vec::new(),
            video_mp4: None,
        })
        .collect();
    Ok(CuratedVideo {
        request: VideoRequest::new("file:///synth.mp4"),
        video_id: "synth".into(),
        video_key: "synth".into(),
        clips,
        scratch: None,
    })
}

fn record(clip_index: u32, caption: &str, num_frames: u32) -> ClipRecord {
    let json = serde_json::json!({
        "video_id": "synth", "video_key": "synth", "clip_index": clip_index, "key": "", "shard": "",
        "url": "file:///synth.mp4", "start_s": 0.0, "end_s": 1.0, "start_ts": "00:00:00.000",
        "end_ts": "00:00:01.000", "duration_s": 1.0, "start_frame": 0, "end_frame": 25, "fps": 25.0,
        "width": 320, "height": 240, "num_frames": num_frames, "motion": 10.0, "caption_coarse": null,
        "caption_fine": null, "caption": caption, "asr": null, "sim_score": null, "aesthetic_score": null,
        "lang": null, "category": null, "has_video": false, "source": null, "metadata": {}
    });
    serde_json::from_value(json).expect("a valid clip record")
}

/// A random tiny CLIP and an aesthetic MLP over its 16-wide embeddings, saved as safetensors.
fn aesthetic_files(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    tch::manual_seed(5);
    let clip = VideoTextModel::new(&Arch::by_name("clip-tiny")?, Device::Cpu)?;
    let clip_path = dir.join("clip-tiny.safetensors");
    clip.var_store().save(&clip_path)?;
    let vs = VarStore::new(Device::Cpu);
    let _mlp = AestheticMlp::new(&vs.root(), 16);
    let mlp_path = dir.join("aesthetic.safetensors");
    vs.save(&mlp_path)?;
    Ok((clip_path, mlp_path))
}

fn config(dir: &Path) -> anyhow::Result<ScoreConfig> {
    let (clip, mlp) = aesthetic_files(dir)?;
    Ok(ScoreConfig {
        similarity: SimilarityModel::Viclip,
        arch: "viclip-tiny".into(),
        weights: tiny_viclip().display().to_string(),
        aesthetic_weights: mlp.display().to_string(),
        aesthetic_clip_arch: "clip-tiny".into(),
        aesthetic_clip_weights: clip.display().to_string(),
        frames: 4,
        batch_size: 2,
        device: DeviceChoice::Cpu,
        ..ScoreConfig::default()
    })
}

#[test]
fn scores_equal_a_direct_model_computation_and_the_filter_drops_low_clips() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = video(dir.path())?;
    let config = config(dir.path())?;
    let models = ScoreModels::load(&config)?;
    let scored = score_video(&models, &config, input.clone()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(scored.clips.len(), input.clips.len(), "no thresholds: nothing dropped");

    let similarity = lock(models.similarity.as_ref().expect("loaded"));
    let aesthetic = lock(models.aesthetic.as_ref().expect("loaded"));
    for clip in &scored.clips {
        assert!(clip.frames_jpeg.iter().all(|f| f.is_spilled()), "the frames stage spills its JPEGs");
        let jpegs = clip.frames_jpeg.iter().map(|f| f.bytes()).collect::<Result<Vec<_>, _>>()?;
        let frames = pixels::clip_frames(&jpegs, 4, models.similarity_input, Device::Cpu)?;
        let video = similarity.model.embed_clips(&frames.unsqueeze(0))?;
        let ids = similarity.tokenizer.tokenize(clip.record.caption.as_deref().unwrap_or_default(), 32)?;
        let text = similarity.model.embed_texts(&Tensor::from_slice(&ids).unsqueeze(0))?;
        let want = (video * text).sum(tch::Kind::Float).double_value(&[]);
        let got = clip.record.sim_score.expect("scored");
        assert!((got - want).abs() < 1e-5, "clip {}: {got} vs {want}", clip.record.clip_index);
        // The aesthetic CLIP fits the frames its own way (centre crop), not ViCLIP's.
        let frames = pixels::clip_frames(&jpegs, 4, models.aesthetic_input, Device::Cpu)?;
        let per_frame = aesthetic.score_images(&frames)?;
        let want = per_frame.max().double_value(&[]);
        let got = clip.record.aesthetic_score.expect("scored");
        assert!((got - want).abs() < 1e-5, "aesthetic of clip {}: {got} vs max {want}", clip.record.clip_index);
    }
    drop((similarity, aesthetic));

    let sims: Vec<f64> = scored.clips.iter().map(|c| c.record.sim_score.unwrap_or_default()).collect();
    let mut sorted = sims.clone();
    sorted.sort_by(f64::total_cmp);
    let threshold = sorted[sorted.len() / 2];
    let filtered = ScoreConfig { min_similarity: threshold, ..config };
    let kept = score_video(&models, &filtered, input).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let expected: Vec<u32> = scored
        .clips
        .iter()
        .filter(|c| c.record.sim_score.unwrap_or_default() >= threshold)
        .map(|c| c.record.clip_index)
        .collect();
    assert_eq!(kept.clips.iter().map(|c| c.record.clip_index).collect::<Vec<_>>(), expected);
    assert!(expected.len() < sims.len());
    Ok(())
}

#[test]
fn corrupt_frames_fail_the_video_with_a_score_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut input = video(dir.path())?;
    input.clips[1].frames_jpeg[3] = b"\xff\xd8 broken".to_vec().into();
    let config = ScoreConfig { aesthetic_weights: String::new(), ..config(dir.path())? };
    let models = ScoreModels::load(&config)?;
    let record = score_video(&models, &config, input).expect_err("a corrupt frame fails");
    assert_eq!(record.code, "score_frames");
    assert!(record.reason.contains("clip 1"), "{}", record.reason);
    Ok(())
}

#[test]
fn videos_share_batches_and_a_bad_clip_fails_only_its_video() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let good = video(dir.path())?;
    let mut broken = good.clone();
    broken.clips[1].frames_jpeg[3] = b"\xff\xd8 broken".to_vec().into();
    // Batches of 4 over 3 + 3 + 3 clips: every batch spans two videos.
    let config = ScoreConfig { batch_size: 4, ..config(dir.path())? };
    let models = ScoreModels::load(&config)?;
    let alone = score_video(&models, &config, good.clone()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let results = score_videos(&models, &config, vec![good.clone(), broken, good]);
    assert_eq!(results.len(), 3);
    let failed = results[1].as_ref().expect_err("the corrupt frame fails its video");
    assert_eq!(failed.code, "score_frames");
    assert!(failed.reason.contains("clip 1"), "{}", failed.reason);
    for result in [&results[0], &results[2]] {
        let scored = result.as_ref().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(scored.clips.len(), alone.clips.len());
        for (a, b) in scored.clips.iter().zip(&alone.clips) {
            assert_eq!(a.record.clip_index, b.record.clip_index, "clips back in their video, in order");
            let close = |x: Option<f64>, y: Option<f64>| (x.expect("scored") - y.expect("scored")).abs() < 1e-5;
            assert!(close(a.record.sim_score, b.record.sim_score), "same similarity in a shared batch");
            assert!(close(a.record.aesthetic_score, b.record.aesthetic_score), "same aesthetic in a shared batch");
        }
    }
    Ok(())
}

/// `video` cut down to its first `clips` clips, as video `name`.
fn part(video: &CuratedVideo, name: &str, clips: usize) -> CuratedVideo {
    let mut part = video.clone();
    part.video_id = name.into();
    part.clips.truncate(clips);
    part
}

#[test]
fn the_batcher_pools_the_videos_of_several_threads_and_answers_each() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let whole = video(dir.path())?;
    // Batches of 4 clips; a batch waits at most 60 s, so only full batches (and the drop) release videos.
    let config =
        ScoreConfig { batch_size: 4, max_wait_ms: 60_000, aesthetic_weights: String::new(), ..config(dir.path())? };
    let models = ScoreModels::load(&config)?;
    let alone = score_video(&models, &config, whole.clone()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let batcher = ScoreBatcher::start(vec![models.clone(), models], &config)?;
    let (answers, answered) = std::sync::mpsc::channel();
    // Two submitting threads, videos of 1, 2 and 1 clips: 4 clips, one batch.
    std::thread::scope(|scope| {
        for (name, clips) in [("a", 1), ("b", 2), ("c", 1)] {
            let (batcher, answers, video) = (&batcher, answers.clone(), part(&whole, name, clips));
            scope.spawn(move || batcher.submit(video, Box::new(move |result| answers.send(result).expect("send"))));
        }
    });
    // Long before max_wait_ms: their clips filled a batch.
    let mut results: Vec<_> =
        (0..3).map(|_| answered.recv_timeout(std::time::Duration::from_secs(30)).expect("a full batch goes")).collect();
    // A lone video waits for its batch until the batcher is dropped.
    batcher.submit(part(&whole, "d", 1), Box::new(move |result| answers.send(result).expect("send")));
    assert!(answered.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "a short batch waits");
    drop(batcher);
    results.push(answered.recv().expect("the drop scores what is queued"));
    results.sort_by_key(|r| r.as_ref().map(|v| v.video_id.clone()).unwrap_or_default());
    for (result, clips) in results.iter().zip([1, 2, 1, 1]) {
        let scored = result.as_ref().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(scored.clips.len(), clips);
        for (got, want) in scored.clips.iter().zip(&alone.clips) {
            let (got, want) = (got.record.sim_score.expect("scored"), want.record.sim_score.expect("scored"));
            assert!((got - want).abs() < 1e-5, "the same score in a pooled batch: {got} vs {want}");
        }
    }
    Ok(())
}

#[test]
fn tags_captions_compose_the_best_ranked_vocabulary_entries() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = video(dir.path())?;
    let config = ScoreConfig { aesthetic_weights: String::new(), ..config(dir.path())? };
    let models = ScoreModels::load(&config)?;
    let mut tags = TagsCaptioner::new(models.zero_shot()?, &TagsConfig::default(), 4)?;
    let clips: Vec<&ClipPayload> = input.clips.iter().collect();
    let vocabulary = Vocabulary::load("").map_err(anyhow::Error::msg)?;
    for scale in [clipstream_caption::Scale::Coarse, clipstream_caption::Scale::Fine] {
        let captions = tags.caption(scale, &clips);
        assert_eq!(captions.len(), clips.len());
        for caption in captions {
            let caption = caption?;
            let words: BTreeMap<&str, bool> = [
                ("object", vocabulary.objects.iter().any(|o| caption.contains(o.as_str()))),
                ("attribute", vocabulary.attributes.iter().any(|a| caption.contains(a.as_str()))),
                ("action", vocabulary.actions.iter().any(|a| caption.ends_with(a.as_str()))),
            ]
            .into();
            assert!(words.values().all(|v| *v), "{scale:?} caption {caption:?}: {words:?}");
            assert!(caption.starts_with("a "), "{caption}");
        }
    }
    assert!(ScoreModels::default().zero_shot().is_err(), "needs a model");
    Ok(())
}
