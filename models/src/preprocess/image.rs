//! A decoded frame: row-major RGB bytes, decoded from a stored JPEG by zune-jpeg (grayscale JPEGs expanded to three
//! equal channels).

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// A decoded image: row-major RGB, 3 bytes a pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Why a JPEG did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decoding a JPEG frame: {0}")]
pub struct DecodeError(pub String);

/// Decodes a JPEG to RGB.
pub fn decode_jpeg(jpeg: &[u8]) -> Result<RgbImage, DecodeError> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(jpeg, options);
    let pixels = decoder.decode().map_err(|e| DecodeError(e.to_string()))?;
    let (width, height) = decoder.dimensions().ok_or_else(|| DecodeError("no dimensions after decoding".into()))?;
    if width == 0 || height == 0 {
        return Err(DecodeError(format!("empty image {width}x{height}")));
    }
    let area = width * height;
    let pixels = match pixels.len() {
        n if n == area * 3 => pixels,
        n if n == area => pixels.iter().flat_map(|&v| [v; 3]).collect(),
        n => return Err(DecodeError(format!("{n} bytes for a {width}x{height} image"))),
    };
    Ok(RgbImage { width, height, pixels })
}
