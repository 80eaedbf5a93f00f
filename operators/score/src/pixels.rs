//! Model inputs of the score stage and the tags captioner: stored JPEG frames through the models crate's CLIP eval
//! transform (the same pixels the trainer's eval sees), as tensors.

use clipstream_models::preprocess::{ClipTransform, FrameError, FrameTransform, Resize, decode_jpeg};
use tch::{Device, Tensor};

/// `n` uniformly chosen frames of a clip as a model input [n, 3, size, size] on `device`, fitted with `resize`.
pub fn clip_frames<J: AsRef<[u8]>>(
    frames: &[J],
    n: usize,
    (size, resize): (i64, Resize),
    device: Device,
) -> Result<Tensor, FrameError> {
    let pixels = FrameTransform::new(size as usize, n, resize).eval(frames)?;
    Ok(Tensor::from_slice(&pixels).view([n as i64, 3, size, size]).to_device(device))
}

/// One JPEG as a model input [1, 3, size, size] on the CPU.
pub fn image(jpeg: &[u8], size: i64) -> Result<Tensor, FrameError> {
    let image = decode_jpeg(jpeg).map_err(|e| FrameError::Decode { index: 0, reason: e.0 })?;
    let transform = ClipTransform::new(size as usize);
    let mut pixels = vec![0f32; transform.image_len()];
    transform.eval(&image, &mut pixels);
    Ok(Tensor::from_slice(&pixels).view([1, 3, size, size]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_or_missing_frames_are_errors() {
        assert!(matches!(image(b"\xff\xd8 not really a jpeg", 56), Err(FrameError::Decode { .. })));
        assert!(matches!(clip_frames::<Vec<u8>>(&[], 4, (56, Resize::CLIP), Device::Cpu), Err(FrameError::NoFrames)));
    }
}
