//! `clipstream curate`: the timely dataflow source -> fetch -> probe -> scene_cut -> clip -> frames -> shard sink,
//! with every failure routed to error records, fed from list files or Kafka.

mod admit;
mod dataflow;
mod files_source;
mod inputs;
mod metrics;
mod progress;
mod run;
mod summary;
mod usage;

pub use inputs::open_inputs;
pub use run::{CurateOptions, Source, open_settled, run};
pub use summary::Summary;
