//! Job libraries of the clipstream binary: the CLI, configuration loading, the curate dataflow, the dataset tools,
//! and the metrics endpoint. None of it links libtorch: the model code (trainer, eval, score models) is joined in by
//! `clipstream-torch` through [`torch`].

pub mod cli;
pub mod config;
pub mod curate;
pub mod dataset;
pub mod logging;
pub mod metrics_server;
pub mod torch;
