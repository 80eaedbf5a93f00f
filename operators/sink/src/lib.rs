//! The shard sink of clipstream: webdataset tar + parquet + manifest (written last) through object_store, error
//! records, and garbage collection of orphans.
