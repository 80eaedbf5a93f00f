//! The caption stage: `caption_video` runs the configured captioners over all clips of a video and fills each clip
//! record's `caption_coarse`, `caption_fine` and `caption` (fine, else coarse, else the request's). One failed clip
//! fails its video with one `ErrorRecord` (stage `caption`), like every other stage; the other videos go on.
//! [`Captioners::start`] is the curate stage's entry: a video captioned in the background when every captioned
//! scale is `vlm-http` (so the requests of many videos are in flight together), else on the calling thread.

use clipstream_schemas::config::{CaptionBackend, CaptionConfig};
use clipstream_schemas::error::{StageError, error_chain};
use clipstream_schemas::{ClipPayload, CuratedVideo, ErrorRecord, Stage};

use crate::captioner::{Captioner, Scale};
use crate::error::CaptionError;
use crate::vlm_http::{Requests, VlmHttpCaptioner};

/// Captions every clip of `video` with `coarse` and then `fine` (either may be absent) and sets each record's
/// `caption` to the fine caption, else the coarse one, else the caption it already had (from the request). The
/// fine-caption frames are dropped afterwards (they are not stored). The first clip that fails at a scale fails
/// the video: its error's code, retry hint and reason (with the clip and the count of failed clips) make the
/// record; the other scale is not run.
pub fn caption_video(
    video: CuratedVideo,
    coarse: Option<&mut dyn Captioner>,
    fine: Option<&mut dyn Captioner>,
) -> Result<CuratedVideo, ErrorRecord> {
    if video.clips.is_empty() {
        return Ok(video);
    }
    let clips: Vec<&ClipPayload> = video.clips.iter().collect();
    let at = |captioner: Option<&mut dyn Captioner>, scale: Scale| {
        captioner.map(|c| checked(c.backend(), scale, &video, c.caption(scale, &clips))).transpose()
    };
    let coarse = at(coarse, Scale::Coarse)?;
    let fine = at(fine, Scale::Fine)?;
    drop(clips);
    Ok(apply(video, coarse, fine))
}

/// Writes the captions of each scale into the video's records.
fn apply(mut video: CuratedVideo, coarse: Option<Vec<String>>, fine: Option<Vec<String>>) -> CuratedVideo {
    let mut coarse = coarse.map(Vec::into_iter);
    let mut fine = fine.map(Vec::into_iter);
    for clip in &mut video.clips {
        let record = &mut clip.record;
        if let Some(text) = coarse.as_mut().and_then(Iterator::next) {
            record.caption_coarse = Some(text);
        }
        if let Some(text) = fine.as_mut().and_then(Iterator::next) {
            record.caption_fine = Some(text);
        }
        if let Some(best) = record.caption_fine.as_ref().or(record.caption_coarse.as_ref()) {
            record.caption = Some(best.clone());
        }
        clip.fine_frames_jpeg = Vec::new();
    }
    video
}

/// The captions of every clip of `video` at `scale` from the backend's `results`, or the video's error record.
fn checked(
    backend: &str,
    scale: Scale,
    video: &CuratedVideo,
    results: Vec<Result<String, CaptionError>>,
) -> Result<Vec<String>, ErrorRecord> {
    let clips = &video.clips;
    if results.len() != clips.len() {
        let reason = format!(
            "the {backend} captioner returned {} {} captions for {} clips",
            results.len(),
            scale.as_str(),
            clips.len()
        );
        return Err(record(video, ErrorRecord::from_parts(Stage::Caption, "", "", "caption.backend", reason)));
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed == 0 {
        return Ok(results.into_iter().flatten().collect());
    }
    // The first real failure; clips cancelled because of it say nothing new.
    let errors = || results.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)));
    let Some((index, error)) =
        errors().find(|(_, e)| !matches!(e, CaptionError::Cancelled)).or_else(|| errors().next())
    else {
        return Err(record(video, ErrorRecord::from_parts(Stage::Caption, "", "", "caption.backend", "no error")));
    };
    let clip = &clips[index].record;
    let mut failure = ErrorRecord::new(Stage::Caption, "", "", error as &dyn StageError);
    failure.reason = format!(
        "clip {} ({}): {backend} {} caption: {}; {failed} of {} clips failed",
        clip.clip_index,
        clip.key,
        scale.as_str(),
        error_chain(error),
        clips.len()
    );
    Err(record(video, failure))
}

/// `failure` as the record of `video`.
fn record(video: &CuratedVideo, mut failure: ErrorRecord) -> ErrorRecord {
    failure.video_id = video.video_id.clone();
    failure.url = clipstream_schemas::redact_url(&video.request.url);
    failure.source = video.request.source;
    failure
}

/// The captioners of one worker, one per scale whose backend is not `none`.
#[derive(Default)]
pub struct Captioners {
    pub coarse: Option<Box<dyn Captioner>>,
    pub fine: Option<Box<dyn Captioner>>,
    /// The `vlm-http` captioner when every captioned scale uses it: videos are then captioned in the background.
    background: Option<VlmHttpCaptioner>,
}

impl Captioners {
    /// The captioners `config` asks for. `vlm-http` scales share one [`VlmHttpCaptioner`] (one client, runtime and
    /// request limit); `tags` scales get what `tags` builds (it is called once per such scale).
    pub fn from_config(
        config: &CaptionConfig,
        mut tags: impl FnMut(Scale) -> Result<Box<dyn Captioner>, CaptionError>,
    ) -> Result<Self, CaptionError> {
        let mut vlm: Option<VlmHttpCaptioner> = None;
        let mut build = |scale: Scale, backend: CaptionBackend| -> Result<Option<Box<dyn Captioner>>, CaptionError> {
            Ok(match backend {
                CaptionBackend::None => None,
                CaptionBackend::Tags => Some(tags(scale)?),
                CaptionBackend::VlmHttp => {
                    let shared = match &vlm {
                        Some(built) => built.clone(),
                        None => vlm.insert(VlmHttpCaptioner::new(&config.vlm)?).clone(),
                    };
                    Some(Box::new(shared))
                }
            })
        };
        let (coarse, fine) = (build(Scale::Coarse, config.coarse)?, build(Scale::Fine, config.fine)?);
        let only_vlm =
            [config.coarse, config.fine].iter().all(|b| matches!(b, CaptionBackend::None | CaptionBackend::VlmHttp));
        Ok(Self { coarse, fine, background: vlm.filter(|_| only_vlm) })
    }

    /// Captioners with `vlm` at the scales asked for (`coarse`, `fine`), captioning in the background (as
    /// [`Self::from_config`] builds them when every captioned scale is `vlm-http`).
    pub fn with_vlm(vlm: VlmHttpCaptioner, coarse: bool, fine: bool) -> Self {
        let at = |wanted: bool| wanted.then(|| Box::new(vlm.clone()) as Box<dyn Captioner>);
        Self { coarse: at(coarse), fine: at(fine), background: Some(vlm.clone()) }
    }

    /// Whether no scale is captioned (the stage can be left out).
    pub fn is_empty(&self) -> bool {
        self.coarse.is_none() && self.fine.is_none()
    }

    /// Captions `video` and calls `answer` with the result: in the background when every captioned scale is
    /// `vlm-http` (both scales' requests at once, under the process's request limit, so the calling worker goes on
    /// while the server answers), else at once on the calling thread (`tags` runs a model on this worker).
    pub fn start(
        &mut self,
        video: CuratedVideo,
        answer: impl FnOnce(Result<CuratedVideo, ErrorRecord>) + Send + 'static,
    ) {
        let Some(vlm) = &self.background else {
            let coarse = self.coarse.as_mut().map(|c| c.as_mut() as &mut dyn Captioner);
            let fine = self.fine.as_mut().map(|c| c.as_mut() as &mut dyn Captioner);
            return answer(caption_video(video, coarse, fine));
        };
        let scales = (self.coarse.is_some(), self.fine.is_some());
        vlm.spawn(|requests| async move { answer(caption_in_background(&requests, video, scales).await) });
    }
}

/// [`caption_video`] on a `vlm-http` captioner's runtime, the coarse and fine scales (`scales`) at once; a failed
/// clip stops the requests of both.
async fn caption_in_background(
    vlm: &Requests,
    video: CuratedVideo,
    (coarse, fine): (bool, bool),
) -> Result<CuratedVideo, ErrorRecord> {
    if video.clips.is_empty() {
        return Ok(video);
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let clips: Vec<&ClipPayload> = video.clips.iter().collect();
    let at = |wanted: bool, scale: Scale| {
        let (clips, stop) = (&clips, &stop);
        async move {
            match wanted {
                true => Some(vlm.caption_async(scale, clips, stop).await),
                false => None,
            }
        }
    };
    let (coarse, fine) = futures::join!(at(coarse, Scale::Coarse), at(fine, Scale::Fine));
    drop(clips);
    let backend = crate::vlm_http::BACKEND;
    let coarse = coarse.map(|results| checked(backend, Scale::Coarse, &video, results)).transpose();
    let fine = fine.map(|results| checked(backend, Scale::Fine, &video, results)).transpose();
    match (coarse, fine) {
        (Ok(coarse), Ok(fine)) => Ok(apply(video, coarse, fine)),
        // The scale that failed first stopped the other: report its failure, not the other's cancellation.
        (Err(coarse), Err(fine)) if coarse.code == CaptionError::Cancelled.code() => Err(fine),
        (Err(failure), _) | (_, Err(failure)) => Err(failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::video;
    use clipstream_schemas::Jpeg;

    /// A scripted failure: the clip at this position of a call at this scale fails with this error.
    type Failing = (Scale, usize, fn() -> CaptionError);

    /// Answers from a script: `Ok` texts are `"{scale} {clip key}"`, clips listed in `fail` get the given error.
    struct Scripted {
        calls: Vec<(Scale, usize)>,
        fail: Vec<Failing>,
        short: bool,
    }

    impl Scripted {
        fn new() -> Self {
            Self { calls: Vec::new(), fail: Vec::new(), short: false }
        }

        fn answer(&mut self, scale: Scale, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
            self.calls.push((scale, clips.len()));
            let take = if self.short { clips.len() - 1 } else { clips.len() };
            clips[..take]
                .iter()
                .enumerate()
                .map(|(i, clip)| match self.fail.iter().find(|(s, c, _)| *s == scale && *c == i) {
                    Some((_, _, error)) => Err(error()),
                    None => Ok(format!("{} {}", scale.as_str(), clip.record.key)),
                })
                .collect()
        }
    }

    impl Captioner for Scripted {
        fn backend(&self) -> &'static str {
            "scripted"
        }
        fn coarse(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
            self.answer(Scale::Coarse, clips)
        }
        fn fine(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
            self.answer(Scale::Fine, clips)
        }
    }

    #[test]
    fn fine_wins_then_coarse_then_the_request_caption() {
        let mut input = video(3);
        input.clips[0].record.caption = Some("from the request".into());
        input.clips[1].record.caption = Some("from the request".into());
        input.clips[0].fine_frames_jpeg = vec![vec![1].into()];

        let (mut coarse, mut fine) = (Scripted::new(), Scripted::new());
        let both = caption_video(input.clone(), Some(&mut coarse), Some(&mut fine)).expect("captions");
        assert_eq!(
            (coarse.calls.as_slice(), fine.calls.as_slice()),
            (&[(Scale::Coarse, 3)][..], &[(Scale::Fine, 3)][..])
        );
        let record = &both.clips[1].record;
        assert_eq!(record.caption_coarse.as_deref(), Some("coarse v_0001"));
        assert_eq!(record.caption_fine.as_deref(), Some("fine v_0001"));
        assert_eq!(record.caption.as_deref(), Some("fine v_0001"));
        assert!(both.clips[0].fine_frames_jpeg.is_empty(), "fine frames are not kept");

        let coarse_only = caption_video(input.clone(), Some(&mut Scripted::new()), None).expect("captions");
        assert_eq!(coarse_only.clips[2].record.caption.as_deref(), Some("coarse v_0002"));
        assert_eq!(coarse_only.clips[2].record.caption_fine, None);

        let neither = caption_video(input.clone(), None, None).expect("nothing to do");
        assert_eq!(neither.clips[0].record.caption.as_deref(), Some("from the request"));
        assert_eq!(neither.clips[2].record.caption, None);

        let mut unused = Scripted::new();
        let empty = caption_video(video(0), Some(&mut unused), None).expect("no clips");
        assert!(empty.clips.is_empty());
        assert!(unused.calls.is_empty(), "no call for a video without clips");
    }

    #[test]
    fn a_failed_clip_fails_the_video_with_context() {
        let mut input = video(4);
        input.request.source = Some(clipstream_schemas::SourcePosition { partition: 2, offset: 17 });
        let mut coarse = Scripted::new();
        coarse.fail = vec![
            (Scale::Coarse, 1, || CaptionError::Cancelled),
            (Scale::Coarse, 2, || CaptionError::Status {
                url: "http://vlm/v1/chat/completions".into(),
                status: 503,
                body: "overloaded".into(),
            }),
        ];
        let mut fine = Scripted::new();
        let record = caption_video(input, Some(&mut coarse), Some(&mut fine)).expect_err("fails");
        assert_eq!(record.stage, Stage::Caption);
        assert_eq!(record.code, "caption.http_status");
        assert!(record.retryable);
        assert_eq!((record.video_id.as_str(), record.url.as_str()), ("v", "file:///v.mp4"));
        assert_eq!(record.source, Some(clipstream_schemas::SourcePosition { partition: 2, offset: 17 }));
        assert_eq!(
            record.reason,
            "clip 2 (v_0002): scripted coarse caption: POST http://vlm/v1/chat/completions answered HTTP 503: \
             overloaded; 2 of 4 clips failed"
        );
        assert!(fine.calls.is_empty(), "the fine scale does not run after a failed coarse one");

        let mut fine = Scripted::new();
        fine.fail = vec![(Scale::Fine, 0, || CaptionError::NoFrames)];
        let record = caption_video(video(2), None, Some(&mut fine)).expect_err("fails");
        assert_eq!((record.code.as_str(), record.retryable), ("caption.no_frames", false));
    }

    #[test]
    fn a_backend_answering_too_few_captions_fails_the_video() {
        let mut short = Scripted::new();
        short.short = true;
        let record = caption_video(video(3), Some(&mut short), None).expect_err("fails");
        assert_eq!(record.code, "caption.backend");
        assert_eq!(record.reason, "the scripted captioner returned 2 coarse captions for 3 clips");
        assert_eq!(record.video_id, "v");
    }

    #[test]
    fn captioners_from_config() {
        let mut config = CaptionConfig::default();
        let none = Captioners::from_config(&config, |_| panic!("no tags scale")).expect("builds");
        assert!(none.is_empty());
        config.coarse = CaptionBackend::VlmHttp;
        config.fine = CaptionBackend::Tags;
        let mut asked = Vec::new();
        let built = Captioners::from_config(&config, |scale| {
            asked.push(scale);
            Ok(Box::new(Scripted::new()))
        })
        .expect("builds");
        assert_eq!(asked, vec![Scale::Fine]);
        assert_eq!(built.coarse.as_ref().map(|c| c.backend()), Some("vlm-http"));
        assert_eq!(built.fine.as_ref().map(|c| c.backend()), Some("scripted"));
        config.vlm.base_url = "not a url".into();
        assert_eq!(
            Captioners::from_config(&config, |_| Ok(Box::new(Scripted::new()))).err().map(|e| e.code()),
            Some("caption.setup")
        );
    }

    #[test]
    fn frame_choice() {
        use crate::captioner::{coarse_frame, fine_frames, read};
        let bytes = |jpeg: Option<&Jpeg>| jpeg.map(|j| read(j).expect("in memory").into_owned());
        let mut clip = video(1).clips.remove(0);
        assert_eq!(bytes(coarse_frame(&clip)), bytes(Some(&clip.middle_jpeg)));
        assert_eq!(fine_frames(&clip).len(), 3, "the stored frames without fine frames");
        clip.fine_frames_jpeg = vec![vec![0xFF, 0xD8, 1].into(), Jpeg::default(), vec![0xFF, 0xD8, 2].into()];
        let fine: Vec<Option<Vec<u8>>> = fine_frames(&clip).into_iter().map(|j| bytes(Some(j))).collect();
        assert_eq!(fine, vec![Some(vec![0xFF, 0xD8, 1]), Some(vec![0xFF, 0xD8, 2])]);
        clip.middle_jpeg = Jpeg::default();
        assert_eq!(bytes(coarse_frame(&clip)), bytes(Some(&clip.frames_jpeg[1])));
        clip.frames_jpeg.clear();
        assert!(coarse_frame(&clip).is_none());
    }
}
