//! Model inputs from stored JPEG frames: decode (zune-jpeg), resize the shorter side to the model's input size
//! (bicubic, antialiased), center crop, and normalise with CLIP's mean and std, as CLIP's eval transform does.

use clipstream_models::preprocess::{CLIP_MEAN, CLIP_STD, uniform_indices};
use tch::{Device, Kind, Tensor};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

#[derive(Debug, thiserror::Error)]
pub enum PixelError {
    #[error("decoding a JPEG frame: {0}")]
    Decode(String),
    #[error("the clip has no stored frames")]
    NoFrames,
}

/// Decodes one JPEG into an RGB u8 tensor [3, H, W].
pub fn decode(jpeg: &[u8]) -> Result<Tensor, PixelError> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(jpeg, options);
    let pixels = decoder.decode().map_err(|e| PixelError::Decode(e.to_string()))?;
    let (width, height) = decoder.dimensions().ok_or_else(|| PixelError::Decode("no dimensions".into()))?;
    let (w, h) = (width as i64, height as i64);
    if pixels.len() as i64 != w * h * 3 {
        return Err(PixelError::Decode(format!("{} bytes for {w}x{h} RGB", pixels.len())));
    }
    Ok(Tensor::from_slice(&pixels).view([h, w, 3]).permute([2, 0, 1]))
}

/// CLIP's eval transform of one RGB u8 image [3, H, W] -> float [3, size, size].
pub fn preprocess(image: &Tensor, size: i64) -> Tensor {
    let (_, h, w) = image.size3().expect("image is [3, H, W]");
    let scale = size as f64 / h.min(w) as f64;
    let (nh, nw) = (((h as f64 * scale).round() as i64).max(size), ((w as f64 * scale).round() as i64).max(size));
    let x = image.to_kind(Kind::Float).unsqueeze(0) / 255.0;
    let x = if (nh, nw) == (h, w) { x } else { x.internal_upsample_bicubic2d_aa([nh, nw], false, None, None) };
    let (top, left) = ((nh - size) / 2, (nw - size) / 2);
    let x = x.narrow(2, top, size).narrow(3, left, size).clamp(0.0, 1.0).squeeze_dim(0);
    let mean = Tensor::from_slice(&CLIP_MEAN).to_kind(Kind::Float).view([3, 1, 1]);
    let std = Tensor::from_slice(&CLIP_STD).to_kind(Kind::Float).view([3, 1, 1]);
    (x - mean) / std
}

/// `n` uniformly chosen frames of a clip as a model input [n, 3, size, size] on `device`.
pub fn clip_frames(frames: &[Vec<u8>], n: usize, size: i64, device: Device) -> Result<Tensor, PixelError> {
    let stored: Vec<&Vec<u8>> = frames.iter().filter(|f| !f.is_empty()).collect();
    if stored.is_empty() {
        return Err(PixelError::NoFrames);
    }
    let images = uniform_indices(stored.len(), n)
        .into_iter()
        .map(|i| decode(stored[i]).map(|image| preprocess(&image, size)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tensor::stack(&images, 0).to_device(device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preprocess_center_crops_and_normalises() {
        let image = Tensor::full([3, 224, 300], 255, (Kind::Uint8, Device::Cpu));
        let x = preprocess(&image, 224);
        assert_eq!(x.size(), vec![3, 224, 224]);
        let red = x.get(0).mean(Kind::Float).double_value(&[]);
        assert!((red - (1.0 - f64::from(CLIP_MEAN[0])) / f64::from(CLIP_STD[0])).abs() < 1e-4);
        let small = preprocess(&image, 56);
        assert_eq!(small.size(), vec![3, 56, 56]);
    }

    #[test]
    fn corrupt_jpeg_is_an_error() {
        assert!(matches!(decode(b"\xff\xd8 not really a jpeg"), Err(PixelError::Decode(_))));
        assert!(matches!(clip_frames(&[], 4, 56, Device::Cpu), Err(PixelError::NoFrames)));
    }
}
