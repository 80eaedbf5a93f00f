//! The timely sink operators of clipstream: `ShardSink` fills shards and commits them through
//! `clipstream_store`, `ShardSinkExt` and `ErrorSinkExt` put it and the error writer into a dataflow.

pub mod operator;
pub mod sink;

pub use operator::{ErrorSinkExt, ShardSinkExt};
pub use sink::{Sealed, ShardSink, SinkFailure, Uploader};
