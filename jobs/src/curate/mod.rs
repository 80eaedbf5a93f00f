//! `clipstream curate`: the timely dataflow source -> fetch -> probe -> scene_cut -> clip -> frames -> shard sink,
//! with every failure routed to error records.

mod dataflow;
mod inputs;
mod progress;
mod summary;
mod video;

pub use dataflow::{CurateOptions, run};
pub use summary::Summary;
