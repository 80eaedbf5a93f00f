//! The dataset store of clipstream, with no timely and no native dependencies: the object-store `Output`, the
//! shard writer and reader (one webdataset entry grammar), commit (manifest written last), manifests, the committed
//! shards and the committed and failed videos, the settled-video index, error files, gc, parquet, stats, and the
//! clip-metadata tables the dataset tools read and write.

pub mod commit;
pub mod data_error;
pub mod done;
pub mod error;
pub mod errors;
pub mod gc;
pub mod index;
pub mod listing;
pub mod manifests;
pub mod metadata;
pub mod metrics;
pub mod output;
pub mod parquet;
pub mod read;
pub mod shard;
pub mod stats;
pub mod webdataset;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;

pub use commit::{commit, commit_closed, parquet_key, tar_key};
pub use data_error::{Context, DataError};
pub use done::{committed_videos, permanent_failures};
pub use error::StoreError;
pub use errors::ErrorWriter;
pub use gc::{GcReport, gc};
pub use index::{IndexKind, Settled};
pub use listing::{ShardList, committed_shards, list_committed_shards};
pub use manifests::{Manifests, read_manifests};
pub use metadata::Metadata;
pub use output::{FileDigest, ObjectInfo, Output};
pub use shard::{ClosedShard, ShardBuilder, ShardVideo, shard_name};
pub use stats::{DATASET_STATS_KEY, DatasetStats, dataset_stats, write_dataset_stats, write_run_summary};
