//! Job libraries of the clipstream binary: the CLI, configuration loading, the curate dataflow, the dataset tools,
//! and the metrics endpoint. The trainer is `clipstream-train`.

pub mod cli;
pub mod config;
pub mod curate;
pub mod dataset;
pub mod logging;
pub mod metrics_server;
