//! Pure timely operators of clipstream: the stage wrapper that counts, times and routes failures to an error
//! stream, and exchange by video id. No native dependencies.
