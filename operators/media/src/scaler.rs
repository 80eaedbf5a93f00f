//! `CachedScaler`: a swscale context to one target format and size that is rebuilt only when the source frames'
//! format or size changes (streams may change resolution mid-way).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::error::MediaError;

/// Converts frames of any format and size to `format` at `width`x`height`.
pub struct CachedScaler {
    format: Pixel,
    width: u32,
    height: u32,
    flags: scaling::Flags,
    cached: Option<((Pixel, u32, u32), scaling::Context)>,
}

impl CachedScaler {
    pub fn new(format: Pixel, width: u32, height: u32, flags: scaling::Flags) -> Self {
        Self { format, width, height, flags, cached: None }
    }

    /// Converts `src` into `dst` (allocated by swscale when empty).
    pub fn run(&mut self, src: &VideoFrame, dst: &mut VideoFrame) -> Result<(), MediaError> {
        let key = (src.format(), src.width(), src.height());
        let context = match &mut self.cached {
            Some((cached_key, context)) if *cached_key == key => context,
            slot => {
                let context =
                    scaling::Context::get(key.0, key.1, key.2, self.format, self.width, self.height, self.flags)
                        .map_err(MediaError::Scale)?;
                &mut slot.insert((key, context)).1
            }
        };
        context.run(src, dst).map_err(MediaError::Scale)
    }
}
