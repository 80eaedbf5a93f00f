//! Timely operators of the sink: curated videos into shards, error records into `errors/`.

pub mod error_sink;
pub mod shard_sink;

pub use error_sink::ErrorSinkExt;
pub use shard_sink::ShardSinkExt;
