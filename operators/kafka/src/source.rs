//! The Kafka source: drives a worker's dataflow from Kafka, with the offset-commit protocol beside it. Each worker reads its own partitions (`p % workers == index`) into its input;
//! an epoch closes after `source.batch_size` messages or `kafka.epoch_ms`, whichever comes first, and remembers the
//! next offset of every partition at that point. Once the `durable` probe has passed an epoch (its shards,
//! error records and dead letters are stored) those offsets are committed to the consumer group. Bad messages are
//! dead-lettered here with their exact bytes (a prefix when longer than `kafka.dlq_payload_bytes`, the whole message
//! then stored under `errors/dead-letters/`) and still flow on as error records (for `errors/`); messages over
//! `kafka.max_message_bytes` are not parsed. No message can stop the loop: a letter that cannot be delivered is
//! kept and retried, and offsets never move past it. Nor do they move once a sink gave up on a record
//! ([`Undurable`]): the job then ends with an error and the next run reads those messages again. The loop ends on
//! SIGTERM/SIGINT, or with `--until-empty` when every owned partition is read to its high watermark at start; either way the
//! input closes, open shards commit, and the final offsets are committed.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clipstream_core::{Backoff, SourceItem, Undurable};
use clipstream_schemas::config::KafkaConfig;
use clipstream_schemas::manifest::ERROR_DIR;
use clipstream_store::Output;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

use crate::consumer::{PartitionReader, RawMessage};
use crate::dlq::DeadLetters;
use crate::error::KafkaFailure;
use crate::metrics::count_message;

/// Pause after a failed poll before trying again (the broker may be restarting).
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Turns a message (its bytes, partition and offset, and the size limit) into a source row; parsing requests is
/// the input crate's job.
pub type ParseMessage = fn(&[u8], i32, i64, usize) -> SourceItem;

/// The dataflow a Kafka source drives: its input, and the probes of its progress.
pub struct Feed {
    pub input: InputHandle<u64, CapacityContainerBuilder<Vec<SourceItem>>>,
    /// Passed an epoch once its videos reached the sinks.
    pub flow: ProbeHandle<u64>,
    /// Passed an epoch once its shards, error records and dead letters are stored.
    pub durable: ProbeHandle<u64>,
}

/// How a Kafka-fed run goes and ends.
#[derive(Clone, Copy)]
pub struct KafkaRun<'a> {
    pub config: &'a KafkaConfig,
    pub batch_size: usize,
    /// Epochs read ahead of the slowest one still before the sinks (`source.max_inflight_videos`).
    pub epochs_in_flight: u64,
    /// Stop once every owned partition is at its high watermark.
    pub until_empty: bool,
    /// Set by SIGTERM/SIGINT: stop reading, drain, commit.
    pub stop: &'a AtomicBool,
    /// Where the originals of long bad messages are stored.
    pub output: &'a Output,
    /// Tries of a store write.
    pub backoff: Backoff,
    /// Records the sinks gave up on; while not 0 no offsets are committed.
    pub undurable: &'a Undurable,
    /// Message to source row.
    pub parse: ParseMessage,
    /// Counts the messages read (progress reports).
    pub rows: &'a AtomicU64,
}

/// Epochs waiting to become durable, with the offsets to commit when they are.
struct Pending {
    epochs: VecDeque<(u64, BTreeMap<i32, i64>)>,
    /// The offsets committed last (nothing is committed again while they do not move).
    committed: BTreeMap<i32, i64>,
}

impl Pending {
    /// The offsets of the newest epoch the probe has passed, removing it and older ones.
    fn take_durable(&mut self, durable: &ProbeHandle<u64>) -> Option<BTreeMap<i32, i64>> {
        let mut ready = None;
        while self.epochs.front().is_some_and(|(epoch, _)| !durable.less_equal(epoch)) {
            ready = self.epochs.pop_front().map(|(_, offsets)| offsets);
        }
        ready
    }
}

/// Reads this worker's partitions until told to stop, feeding the dataflow and committing durable offsets.
pub fn drive(
    worker: &mut Worker,
    feed: Feed,
    run: KafkaRun<'_>,
    letters: Option<&RefCell<DeadLetters>>,
) -> Result<(), KafkaFailure> {
    let Feed { mut input, flow, durable } = feed;
    let (index, peers) = (worker.index(), worker.peers());
    let mut reader = PartitionReader::open(run.config, index, peers)?;
    let mut pending = Pending { epochs: VecDeque::new(), committed: reader.positions() };
    let (poll, epoch_length) = (Duration::from_millis(run.config.poll_ms), Duration::from_millis(run.config.epoch_ms));
    let in_flight = run.epochs_in_flight;
    let (mut epoch_started, mut in_epoch) = (Instant::now(), 0usize);
    while !run.stop.load(Ordering::Relaxed) {
        // Read a burst (until the epoch is full or due, or nothing is waiting), so the stages get deep queues; wait
        // for messages only while the dataflow has nothing else to do.
        let mut wait = if flow.less_than(input.time()) { Duration::ZERO } else { poll };
        let mut idle = false;
        while in_epoch < run.batch_size && epoch_started.elapsed() < epoch_length {
            match reader.poll(wait) {
                Ok(Some(message)) => {
                    in_epoch += 1;
                    wait = Duration::ZERO;
                    run.rows.fetch_add(1, Ordering::Relaxed);
                    let item =
                        (run.parse)(&message.payload, message.partition, message.offset, run.config.max_message_bytes);
                    count_message(item.is_ok());
                    if let (Err(record), Some(letters)) = (&item, letters) {
                        dead_letter(&mut letters.borrow_mut(), record, &message, &run);
                    }
                    input.send(item);
                }
                Ok(None) => {
                    idle = true;
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "kafka poll failed; retrying");
                    std::thread::sleep(RETRY_PAUSE);
                    break;
                }
            }
        }
        if idle && run.until_empty && reader.reached_end() {
            break;
        }
        if in_epoch >= run.batch_size || epoch_started.elapsed() >= epoch_length {
            pending.epochs.push_back((*input.time(), reader.positions()));
            let next = *input.time() + 1;
            input.advance_to(next);
            (epoch_started, in_epoch) = (Instant::now(), 0);
            while flow.less_than(&next.saturating_sub(in_flight)) && !run.stop.load(Ordering::Relaxed) {
                worker.step_or_park(Some(poll));
                commit_durable(&mut pending, &durable, &reader, letters, run.undurable);
            }
        }
        // A worker whose videos are elsewhere in the dataflow parks (timely wakes it when data or progress arrives;
        // `poll` bounds the wait, so the topic is still read); with nothing in flight the next poll waits instead.
        let park = if flow.less_than(input.time()) { poll } else { Duration::ZERO };
        worker.step_or_park(Some(park));
        commit_durable(&mut pending, &durable, &reader, letters, run.undurable);
    }
    tracing::info!(worker = index, "kafka source stopping: draining the dataflow");
    pending.epochs.push_back((*input.time(), reader.positions()));
    drop(input);
    while worker.step_or_park(Some(poll)) {
        commit_durable(&mut pending, &durable, &reader, letters, run.undurable);
    }
    commit_durable(&mut pending, &durable, &reader, letters, run.undurable);
    if run.undurable.count() > 0 {
        return Err(KafkaFailure::Undurable(run.undurable.count()));
    }
    if !pending.epochs.is_empty() {
        return Err(KafkaFailure::Uncommitted(pending.epochs.len()));
    }
    Ok(())
}

/// Dead-letters a bad message: its exact bytes, or a prefix with the whole message stored under
/// `errors/dead-letters/{topic}/{partition}-{offset}.bin` (a store that refuses is counted as undurable).
fn dead_letter(
    letters: &mut DeadLetters,
    record: &clipstream_schemas::ErrorRecord,
    message: &RawMessage,
    run: &KafkaRun,
) {
    let original = letters
        .needs_original(&message.payload)
        .then(|| format!("{ERROR_DIR}/dead-letters/{}/{}-{}.bin", run.config.topic, message.partition, message.offset));
    if let Some(key) = &original {
        let stored = run.backoff.run("dead-letter original", || run.output.put(key, message.payload.clone()), |_| true);
        if let Err(error) = stored {
            run.undurable.add(1);
            tracing::error!(%error, key, "cannot store a dead letter's original; no further offsets are committed");
        }
    }
    letters.send(record, &message.payload, original.as_deref());
}

/// Commits the offsets of the newest durable epoch, after the dead letters of bad messages are confirmed. On a
/// failure the offsets stay pending and are tried again with the next durable epoch. Nothing is committed once a
/// sink gave up on a record.
fn commit_durable(
    pending: &mut Pending,
    durable: &ProbeHandle<u64>,
    reader: &PartitionReader,
    letters: Option<&RefCell<DeadLetters>>,
    undurable: &Undurable,
) {
    if undurable.count() > 0 {
        return;
    }
    let Some(offsets) = pending.take_durable(durable) else { return };
    if offsets == pending.committed {
        return;
    }
    let flushed = letters.map_or(Ok(0), |letters| letters.borrow_mut().flush());
    clipstream_core::crash_point("kafka.before_commit");
    let committed = flushed.and_then(|_| reader.commit(&offsets));
    match committed {
        Ok(()) => pending.committed = offsets,
        Err(error) => {
            let error = clipstream_schemas::error::error_chain(&error);
            tracing::error!(%error, "offset commit failed; will retry");
            pending.epochs.push_front((0, offsets));
        }
    }
}
