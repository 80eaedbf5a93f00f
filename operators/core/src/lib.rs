//! Pure timely operators of clipstream: the stage wrapper that counts, times and routes failures to an error
//! stream, and routing by video id. No native dependencies.

pub mod fault;
pub mod metrics;
pub mod retry;
pub mod route;
pub mod scratch;
pub mod stage;
pub mod undurable;
pub mod wire;

pub use fault::crash_point;
pub use metrics::StageMetrics;
pub use retry::Backoff;
pub use route::{RouteByVideo, SourceItem, item_route, route_hash};
pub use scratch::{scratch_prefix, sweep_stale_scratch};
pub use stage::StageExt;
pub use undurable::Undurable;
pub use wire::JsonWire;
