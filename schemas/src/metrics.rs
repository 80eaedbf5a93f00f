//! Prometheus metric names, as constants so dashboards, alerts and code agree. Labels stay low-cardinality:
//! `stage`, `worker`, `outcome`, `code` — never a URL or a video id.

/// Items entering a stage. Labels: `stage`.
pub const STAGE_ITEMS_IN_TOTAL: &str = "clipstream_stage_items_in_total";
/// Items leaving a stage successfully. Labels: `stage`.
pub const STAGE_ITEMS_OUT_TOTAL: &str = "clipstream_stage_items_out_total";
/// Failures of a stage. Labels: `stage`, `code`.
pub const STAGE_ERRORS_TOTAL: &str = "clipstream_stage_errors_total";
/// Time a stage spent on one item. Labels: `stage`.
pub const STAGE_LATENCY_SECONDS: &str = "clipstream_stage_latency_seconds";
/// Items an asynchronous stage has started and not yet answered (downloads, caption requests, score batches).
/// Labels: `stage`.
pub const STAGE_IN_FLIGHT: &str = "clipstream_stage_in_flight";
/// Items waiting at an asynchronous stage for a free slot (`curate.max_inflight_videos`). Labels: `stage`.
pub const STAGE_QUEUED: &str = "clipstream_stage_queued";
/// Videos read from the source. Labels: `outcome` (`accepted`, `skipped_done`, `duplicate`, `invalid`).
pub const SOURCE_VIDEOS_TOTAL: &str = "clipstream_source_videos_total";
/// Clips found by scene cutting. Labels: `outcome` (`kept`, `too_short`, `still`, `dynamic`).
pub const CLIPS_TOTAL: &str = "clipstream_clips_total";
/// Frames decoded by the scene detector.
pub const SCENE_FRAMES_TOTAL: &str = "clipstream_scene_frames_total";
/// Bytes fetched from video URLs.
pub const FETCH_BYTES_TOTAL: &str = "clipstream_fetch_bytes_total";
/// Shards committed (manifest written).
pub const SINK_SHARDS_TOTAL: &str = "clipstream_sink_shards_total";
/// Bytes written to the output store. Labels: `kind` (`tar`, `parquet`, `manifest`, `errors`).
pub const SINK_BYTES_TOTAL: &str = "clipstream_sink_bytes_total";
/// Clips committed in shards.
pub const SINK_CLIPS_TOTAL: &str = "clipstream_sink_clips_total";
/// Time to write one shard (tar + parquet + manifest).
pub const SINK_SHARD_SECONDS: &str = "clipstream_sink_shard_seconds";
/// Error records written.
pub const ERROR_RECORDS_TOTAL: &str = "clipstream_error_records_total";
/// Time to upload one object to the output store. Labels: `kind` (`tar`, `parquet`, `manifest`, `errors`).
pub const SINK_UPLOAD_SECONDS: &str = "clipstream_sink_upload_seconds";
/// Counter, by `what` (`shard`, `errors`, `dead_letters`): writes that failed for good (after every try). A shard
/// that failed costs its videos (retryable error records); error records or dead letters that failed at shutdown
/// stop the job from committing offsets.
pub const SINK_FAILURES_TOTAL: &str = "clipstream_sink_failures_total";
/// Messages read from Kafka. Labels: `outcome` (`accepted`, `invalid`).
pub const KAFKA_MESSAGES_TOTAL: &str = "clipstream_kafka_messages_total";
/// Messages still to read per assigned partition (high watermark - position). Labels: `topic`, `partition`.
pub const KAFKA_CONSUMER_LAG: &str = "clipstream_kafka_consumer_lag";
/// Last offset committed to the consumer group per partition. Labels: `topic`, `partition`.
pub const KAFKA_COMMITTED_OFFSET: &str = "clipstream_kafka_committed_offset";
/// Offset commits to the consumer group. Labels: `outcome` (`ok`, `failed`).
pub const KAFKA_COMMITS_TOTAL: &str = "clipstream_kafka_commits_total";
/// Messages produced to the dead-letter topic.
pub const DLQ_MESSAGES_TOTAL: &str = "clipstream_dlq_messages_total";
/// Clips per model call. Labels: `model` (`similarity`, `aesthetic`, `tags`).
pub const MODEL_BATCH_SIZE: &str = "clipstream_model_batch_size";
/// Time of one batched model call. Labels: `model`.
pub const MODEL_LATENCY_SECONDS: &str = "clipstream_model_latency_seconds";
/// Clips through a model. Labels: `model`. `rate()` of it is clips/s per model.
pub const MODEL_CLIPS_TOTAL: &str = "clipstream_model_clips_total";
/// Clips dropped by the score filter. Labels: `reason` (`similarity`, `aesthetic`).
pub const SCORE_FILTERED_TOTAL: &str = "clipstream_score_filtered_total";
/// Caption requests to a backend. Labels: `backend`, `scale` (`coarse`, `fine`, `summary`), `outcome` (`ok`,
/// `retried`, `failed`).
pub const CAPTION_REQUESTS_TOTAL: &str = "clipstream_caption_requests_total";
/// Time one caption request held a request slot (its attempts, not the wait for a slot or between retries).
/// Labels: `backend`, `scale`.
pub const CAPTION_LATENCY_SECONDS: &str = "clipstream_caption_latency_seconds";
/// Optimizer steps done by `clipstream train`.
pub const TRAIN_STEP: &str = "clipstream_train_step";
/// InfoNCE loss of the last step.
pub const TRAIN_LOSS: &str = "clipstream_train_loss";
/// The learned temperature after the last step.
pub const TRAIN_TEMPERATURE: &str = "clipstream_train_temperature";
/// Learning rate of the last step.
pub const TRAIN_LEARNING_RATE: &str = "clipstream_train_learning_rate";
/// Clips trained on. `rate()` of it is samples/s.
pub const TRAIN_SAMPLES_TOTAL: &str = "clipstream_train_samples_total";
/// Fraction of the last step's time spent waiting for data.
pub const TRAIN_DATA_WAIT_FRACTION: &str = "clipstream_train_data_wait_fraction";
/// Pairs of clips of one video that met in a batch (0 with clip-per-video sampling).
pub const TRAIN_SAME_VIDEO_PAIRS_TOTAL: &str = "clipstream_train_same_video_pairs_total";
/// Fraction of the last step's time a data-parallel rank spent waiting for collectives (gathers, gradient sums).
pub const TRAIN_COLLECTIVE_WAIT_FRACTION: &str = "clipstream_train_collective_wait_fraction";
/// Ranks of the data-parallel run (1 for a one-process run).
pub const TRAIN_WORLD_SIZE: &str = "clipstream_train_world_size";
