//! `clipstream hydrate`: turns released InternVid-style metadata (clips given by YouTube id and timestamps, no
//! video bytes) into shards: every video fetched once, every listed clip cut at its timestamps, the listed caption
//! and scores kept. Same sink, manifests and exactly-once re-runs as curate; no timely dataflow (the work is one
//! map per video), a bounded pool of threads instead.

mod error;
mod listing;
mod locate;
mod run;
mod video;

pub use error::HydrateError;
pub use listing::{ListedClip, check_row, listed_clip};
pub use locate::{Located, Locator, LocatorOptions};
pub use run::{HydrateOptions, HydrateSummary, run};
pub use video::{HydrateContext, Hydrated, VideoJob, clip_span, hydrate_video};
