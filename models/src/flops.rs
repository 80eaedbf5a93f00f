//! Forward FLOPs of the vision towers (multiply-add = 2 FLOPs), for throughput and MFU reports: per block
//! `24 L W^2` (q, k, v, out projections and the 4x MLP) plus `4 L^2 W` (attention scores and weighted sum), with
//! L tokens of width W, plus the patch embedding and the projection.

use crate::clip::VisionConfig;

/// Forward FLOPs to embed one clip of `frames` frames (ViCLIP: one joint sequence; `frame_mean`: CLIP over each
/// frame separately) keeping `1 - mask_ratio` of the patch tokens.
pub fn vision_forward(config: &VisionConfig, frames: i64, mask_ratio: f64, frame_mean: bool) -> f64 {
    let (w, n) = (config.width as f64, config.grid_tokens() as f64);
    let patch = 2.0 * frames as f64 * n * 3.0 * (config.patch_size as f64).powi(2) * w;
    let sequence = |patches: f64| {
        let l = patches - (mask_ratio * patches).floor() + 1.0;
        config.layers as f64 * (24.0 * l * w * w + 4.0 * l * l * w) + 2.0 * w * config.output_dim as f64
    };
    let body = if frame_mean { frames as f64 * sequence(n) } else { sequence((frames / config.tubelet) as f64 * n) };
    patch + body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;

    #[test]
    fn vit_b16_image_is_about_35_gflops() {
        let Ok(Arch::Clip(config)) = Arch::by_name("clip-vit-b16") else { panic!("clip-vit-b16 is CLIP") };
        let gflops = vision_forward(&config.vision, 1, 0.0, true) / 1e9;
        // ViT-B/16 at 224 px is ~17.6 GMACs (timm/fvcore) = ~35 GFLOPs.
        assert!((gflops - 35.0).abs() < 1.5, "{gflops}");
        let masked = vision_forward(&config.vision, 8, 0.9, false);
        assert!(masked < 0.12 * vision_forward(&config.vision, 8, 0.0, false));
    }
}
