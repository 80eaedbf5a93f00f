//! Job libraries of the clipstream binary: the CLI, configuration loading, the curate dataflow, and the metrics
//! endpoint.

pub mod cli;
pub mod config;
pub mod curate;
pub mod logging;
pub mod metrics_server;
