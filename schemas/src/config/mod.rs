//! Typed configuration of `clipstream` (curate and its sections, and `[train]`). Defaults are documented in the embedded `default.toml` (a test keeps
//! it equal to the `Default` impls); a user file, `CLIPSTREAM__SECTION__KEY` environment variables and `--set
//! section.key=value` flags are layered on top, in that order, and the result is validated before the job starts.

mod layer;
mod models;
mod sections;
mod train;

pub use layer::{ConfigError, DEFAULT_TOML, load};
pub use models::*;
pub use sections::*;
pub use train::{BatchMode, DistBackend, Flip, PositionInit, Precision, TrainConfig};
