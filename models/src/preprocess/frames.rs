//! A clip's stored JPEG frames as one model input `[T, 3, size, size]`: `T` frames picked uniformly (empty stored
//! frames skipped), decoded, and put through the CLIP transform: eval (with the model's resize) for scoring and
//! evaluation, train (one random resized crop for the whole clip, drawn from the
//! first frame's size, as ViCLIP/UMT augment per video) for training. Deterministic given the caller's RNG.

use rand::Rng;

use super::image::decode_jpeg;
use super::transform::{ClipTransform, CropBox, Resize};
use super::uniform_indices;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the clip has no stored frames")]
    NoFrames,
    #[error("decoding frame {index}: {reason}")]
    Decode { index: usize, reason: String },
}

/// `frames` frames of `size` x `size` a clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameTransform {
    pub image: ClipTransform,
    pub frames: usize,
}

impl FrameTransform {
    /// `frames` frames of `size` x `size`, normalised with CLIP's mean and std; the eval variant fits each frame
    /// with `resize` (the model's own: [`Resize::VICLIP`] or [`Resize::CLIP`]).
    pub fn new(size: usize, frames: usize, resize: Resize) -> Self {
        Self { image: ClipTransform::new(size).with_resize(resize), frames }
    }

    /// Floats of one clip: `frames * 3 * size * size`.
    pub fn clip_len(&self) -> usize {
        self.frames * self.image.image_len()
    }

    /// The eval input of a clip.
    pub fn eval<J: AsRef<[u8]>>(&self, jpegs: &[J]) -> Result<Vec<f32>, FrameError> {
        self.apply(jpegs, |_, _| None, false)
    }

    /// The training input of a clip: one random resized crop drawn from `rng` for all its frames, mirrored when
    /// `flip`.
    pub fn train<R: Rng + ?Sized, J: AsRef<[u8]>>(
        &self,
        jpegs: &[J],
        flip: bool,
        rng: &mut R,
    ) -> Result<Vec<f32>, FrameError> {
        self.apply(jpegs, |width, height| Some(CropBox::random(width, height, rng)), flip)
    }

    /// Decodes the picked frames and transforms each; `crop` makes the clip's crop from the first one's size
    /// (`None`: the eval transform).
    fn apply<J: AsRef<[u8]>>(
        &self,
        jpegs: &[J],
        crop: impl FnOnce(usize, usize) -> Option<CropBox>,
        flip: bool,
    ) -> Result<Vec<f32>, FrameError> {
        let stored: Vec<(usize, &[u8])> =
            jpegs.iter().map(AsRef::as_ref).enumerate().filter(|(_, j)| !j.is_empty()).collect();
        let picked = uniform_indices(stored.len(), self.frames);
        if picked.is_empty() {
            return Err(FrameError::NoFrames);
        }
        let per_frame = self.image.image_len();
        let mut out = vec![0f32; self.clip_len()];
        let mut crop = Some(crop);
        let mut clip_crop: Option<(CropBox, (usize, usize))> = None;
        let mut last: Option<usize> = None;
        for (slot, &pick) in picked.iter().enumerate() {
            let target = slot * per_frame..(slot + 1) * per_frame;
            // Repeated picks (fewer stored frames than T) transform once.
            if last == Some(pick) {
                out.copy_within(target.start - per_frame..target.start, target.start);
                continue;
            }
            last = Some(pick);
            let (index, jpeg) = stored[pick];
            let image = decode_jpeg(jpeg).map_err(|e| FrameError::Decode { index, reason: e.0 })?;
            let size = (image.width, image.height);
            if let Some(make) = crop.take() {
                clip_crop = make(image.width, image.height).map(|c| (c, size));
            }
            match clip_crop {
                Some((first, from)) => self.image.train(&image, first.rescaled(from, size), flip, &mut out[target]),
                None => self.image.eval(&image, &mut out[target]),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::preprocess::{CLIP_MEAN, CLIP_STD};

    /// 32x16: left half pure red, right half pure blue (see testdata/make_fixtures.sh).
    const HALVES: &[u8] = include_bytes!("testdata/halves.jpg");

    /// The RGB (0..255) of pixel (x, y) of frame `t` of a `[T, 3, size, size]` output.
    fn pixel(out: &[f32], size: usize, t: usize, x: usize, y: usize) -> [f32; 3] {
        std::array::from_fn(|c| {
            let v = out[((t * 3 + c) * size + y) * size + x];
            (v * CLIP_STD[c] + CLIP_MEAN[c]) * 255.0
        })
    }

    fn close(a: [f32; 3], b: [f32; 3], tolerance: f32) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn decodes_the_fixture() {
        let image = decode_jpeg(HALVES).unwrap();
        assert_eq!((image.width, image.height), (32, 16));
        let at =
            |x: usize, y: usize| -> [f32; 3] { std::array::from_fn(|c| f32::from(image.pixels[(y * 32 + x) * 3 + c])) };
        assert!(close(at(2, 8), [255.0, 0.0, 0.0], 6.0), "{:?}", at(2, 8));
        assert!(close(at(29, 8), [0.0, 0.0, 255.0], 6.0), "{:?}", at(29, 8));
        assert!(decode_jpeg(b"\xff\xd8 not a jpeg").is_err());
    }

    #[test]
    fn eval_squashes_each_whole_frame_and_is_deterministic() {
        let transform = FrameTransform::new(8, 3, Resize::Squash);
        let jpegs = vec![HALVES.to_vec(); 2];
        let out = transform.eval(&jpegs).unwrap();
        assert_eq!(out.len(), transform.clip_len());
        // The whole 32x16 frame to 8x8: its left half red, right half blue.
        for t in 0..3 {
            assert!(close(pixel(&out, 8, t, 1, 4), [255.0, 0.0, 0.0], 8.0), "{:?}", pixel(&out, 8, t, 1, 4));
            assert!(close(pixel(&out, 8, t, 6, 4), [0.0, 0.0, 255.0], 8.0));
        }
        // Each frame is the squash eval of the image (checked against open_clip in tests/clip_transform.rs).
        let mut frame = vec![0f32; 3 * 8 * 8];
        ClipTransform::new(8).with_resize(Resize::Squash).eval(&decode_jpeg(HALVES).unwrap(), &mut frame);
        assert_eq!(out[..frame.len()], frame[..]);
        assert_eq!(out, transform.eval(&jpegs).unwrap());
    }

    #[test]
    fn train_uses_one_crop_per_clip_is_seeded_and_flips_when_asked() {
        let transform = FrameTransform::new(6, 4, Resize::Squash);
        let jpegs = vec![HALVES.to_vec(); 5];
        let per_frame = 3 * 6 * 6;
        for seed in 0..20 {
            for flip in [false, true] {
                let out = transform.train(&jpegs, flip, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
                for t in 1..4 {
                    assert_eq!(out[..per_frame], out[t * per_frame..(t + 1) * per_frame], "seed {seed} frame {t}");
                }
                assert_eq!(out, transform.train(&jpegs, flip, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap());
                // Crops keep >= 90% of the area, so they straddle the red/blue edge: red on the left unless flipped.
                let (left, right) = (pixel(&out, 6, 0, 0, 3), pixel(&out, 6, 0, 5, 3));
                let (red, blue) = (|p: [f32; 3]| p[0] > p[2], |p: [f32; 3]| p[2] > p[0]);
                if flip {
                    assert!(blue(left) && red(right), "seed {seed}: {left:?} {right:?}");
                } else {
                    assert!(red(left) && blue(right), "seed {seed}: {left:?} {right:?}");
                }
            }
        }
    }

    #[test]
    fn bad_or_missing_frames_are_errors_and_empty_ones_are_skipped() {
        let transform = FrameTransform::new(4, 2, Resize::Squash);
        assert_eq!(transform.eval::<Vec<u8>>(&[]), Err(FrameError::NoFrames));
        assert_eq!(transform.eval(&[Vec::new()]), Err(FrameError::NoFrames));
        let broken = vec![HALVES.to_vec(), b"junk".to_vec()];
        assert!(matches!(transform.eval(&broken), Err(FrameError::Decode { index: 1, .. })));
        let gappy = vec![Vec::new(), HALVES.to_vec()];
        assert_eq!(transform.eval(&gappy).unwrap(), transform.eval(&[HALVES.to_vec()]).unwrap());
    }
}
