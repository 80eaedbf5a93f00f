//! Pure timely operators of clipstream: the stage wrapper that counts, times and routes failures to an error
//! stream, and routing by video id (feature `dataflow`, on by default); and the runtime helpers they share with
//! the store (retry backoff, fault points, scratch files, spill files of JPEG frames). No native dependencies.

pub mod fault;
#[cfg(feature = "dataflow")]
pub mod in_flight;
pub mod metrics;
pub mod registry;
pub mod retry;
#[cfg(feature = "dataflow")]
pub mod route;
pub mod scratch;
pub mod spill;
#[cfg(feature = "dataflow")]
pub mod stage;
pub mod undurable;
#[cfg(feature = "dataflow")]
pub mod wire;

pub use fault::crash_point;
#[cfg(feature = "dataflow")]
pub use in_flight::{AsyncStageExt, Done};
pub use metrics::StageMetrics;
pub use retry::Backoff;
#[cfg(feature = "dataflow")]
pub use route::{RouteByVideo, SourceItem, item_route, route_hash};
pub use scratch::{scratch_prefix, sweep_stale_scratch};
pub use spill::SpillFile;
#[cfg(feature = "dataflow")]
pub use stage::StageExt;
pub use undurable::Undurable;
#[cfg(feature = "dataflow")]
pub use wire::JsonWire;
