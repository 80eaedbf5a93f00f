//! The one way pixels reach a model, whoever prepares them (the score stage, the trainer, eval): stored JPEG
//! frames decoded, picked uniformly over the clip, and put through open_clip's `image_transform` (eval or train
//! variant) with CLIP's normalisation constants.

mod frames;
mod image;
mod resample;
mod transform;

pub use frames::{FrameError, FrameTransform};
pub use image::{DecodeError, RgbImage, decode_jpeg};
pub use transform::{ClipTransform, CropBox, Resize, TRAIN_CROP_RATIO, TRAIN_CROP_SCALE};

/// CLIP's per-channel pixel mean and std (RGB, 0..1 scale), as open_clip's `OPENAI_DATASET_MEAN`/`_STD`.
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// `n` indices spread uniformly over `len` items (the middle of `n` equal segments), as frame sampling does.
pub fn uniform_indices(len: usize, n: usize) -> Vec<usize> {
    if len == 0 || n == 0 {
        return Vec::new();
    }
    (0..n).map(|i| (((2 * i + 1) * len) / (2 * n)).min(len - 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_indices_spread_over_the_frames() {
        assert_eq!(uniform_indices(8, 4), vec![1, 3, 5, 7]);
        assert_eq!(uniform_indices(4, 4), vec![0, 1, 2, 3]);
        assert_eq!(uniform_indices(2, 4), vec![0, 0, 1, 1]);
        assert_eq!(uniform_indices(1, 3), vec![0, 0, 0]);
        assert!(uniform_indices(0, 4).is_empty());
    }

    #[test]
    fn the_constants_are_open_clips_in_f32() {
        let mean64 = [0.48145466, 0.4578275, 0.40821073];
        let std64 = [0.26862954, 0.26130258, 0.27577711];
        for c in 0..3 {
            assert_eq!(CLIP_MEAN[c], mean64[c] as f32);
            assert_eq!(CLIP_STD[c], std64[c] as f32);
        }
    }
}
