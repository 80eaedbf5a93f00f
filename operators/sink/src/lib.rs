//! The shard sink of clipstream: webdataset tar + parquet + manifest (written last) through object_store, error
//! records, the settled-video index, and garbage collection of orphans.

pub mod commit;
pub mod done;
pub mod error;
pub mod errors;
pub mod gc;
pub mod index;
pub mod manifests;
mod metrics;
pub mod operator;
pub mod parquet;
pub mod shard;
pub mod sink;
pub mod stats;
pub mod store;

#[cfg(test)]
mod fixtures;

pub use commit::{commit, commit_closed, parquet_key, tar_key};
pub use done::{committed_videos, permanent_failures};
pub use error::SinkError;
pub use errors::ErrorWriter;
pub use gc::{GcReport, gc};
pub use index::{IndexKind, Settled};
pub use manifests::{Manifests, read_manifests};
pub use operator::{ErrorSinkExt, ShardSinkExt};
pub use shard::{ClosedShard, ShardBuilder, ShardVideo, shard_name};
pub use sink::{ShardSink, SinkFailure};
pub use stats::{DATASET_STATS_KEY, DatasetStats, dataset_stats, write_dataset_stats, write_run_summary};
pub use store::{FileDigest, ObjectInfo, Output};
