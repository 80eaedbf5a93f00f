//! `dead_letter`: the timely wrapper around [`DeadLetters`] for videos that failed after their message was parsed.
//! Records wait until their epoch is complete (or the input closes), are produced and confirmed, and only then is
//! the epoch released downstream — so offsets are committed only after the dead letters of their videos are
//! durable. Records of messages that could not be read as requests are skipped: the reader loop dead-letters bad
//! messages itself, with their exact original bytes, through the same producer (the worker's one `DeadLetters`,
//! shared on its thread).
//! Delivery failures are retried on the next activation (at-least-once); at shutdown they are tried with backoff,
//! and letters that still fail are counted in [`Undurable`], which stops the offset committer.

use std::cell::RefCell;
use std::rc::Rc;

use clipstream_core::{Backoff, Undurable};
use clipstream_schemas::{ErrorRecord, Stage};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::operators::generic::Operator;
use timely::progress::Timestamp;

use crate::dlq::{DeadLetters, request_payload};

/// Whether `record` is of a message the reader could not parse (stage `source`, with the raw bytes), which the reader
/// dead-letters itself; other source records (a refused key) are dead-lettered here.
fn read_as_bad_message(record: &ErrorRecord) -> bool {
    record.stage == Stage::Source && record.raw.is_some()
}

/// Extension trait producing failed videos to the dead-letter topic.
pub trait DeadLetterExt<'scope, T: Timestamp> {
    /// Dead-letters every record not of stage `source`; outputs the video ids sent, at the records' times. At
    /// shutdown, delivery is tried with `backoff`; letters still undelivered are counted in `undurable`.
    fn dead_letter(
        self,
        letters: Rc<RefCell<DeadLetters>>,
        backoff: Backoff,
        undurable: Undurable,
    ) -> Stream<'scope, T, Vec<String>>;
}

impl<'scope, T: Timestamp> DeadLetterExt<'scope, T> for Stream<'scope, T, Vec<ErrorRecord>> {
    fn dead_letter(
        self,
        letters: Rc<RefCell<DeadLetters>>,
        backoff: Backoff,
        undurable: Undurable,
    ) -> Stream<'scope, T, Vec<String>> {
        self.unary_frontier::<CapacityContainerBuilder<Vec<String>>, _, _, _>(Pipeline, "DeadLetter", |initial, _| {
            drop(initial);
            let mut held = CapabilitySet::<T>::new();
            let mut waiting: Vec<ErrorRecord> = Vec::new();
            move |(input, frontier), output| {
                input.for_each(|capability, records| {
                    let before = waiting.len();
                    waiting.extend(records.drain(..).filter(|r| !read_as_bad_message(r)));
                    if waiting.len() > before {
                        capability.retain_stamp(0).iter().for_each(|cap| held.insert(cap.clone()));
                    }
                });
                let complete = held.iter().any(|cap| !frontier.less_equal(cap.time()));
                // `held` is not empty while records wait or their letters' delivery failed (they stay queued in the
                // producer and are sent again by the next flush).
                if held.is_empty() || !(frontier.is_empty() || complete) {
                    return;
                }
                let mut letters = letters.borrow_mut();
                waiting.iter().for_each(|record| letters.send(record, &request_payload(record), None));
                let flushed = if frontier.is_empty() {
                    backoff.run("dead letters", || letters.flush(), |_| true)
                } else {
                    letters.flush()
                };
                match flushed {
                    Ok(_) => {
                        let ids: Vec<String> = waiting.drain(..).map(|r| r.video_id).collect();
                        output.session(&held).give_iterator(ids.into_iter());
                        held = CapabilitySet::new();
                    }
                    Err(error) if !frontier.is_empty() => {
                        // The letters stay queued in the producer (sent again by the next flush), not sent twice.
                        waiting.clear();
                        tracing::error!(%error, pending = letters.pending(), "cannot produce dead letters; will retry");
                    }
                    Err(error) => {
                        let lost = letters.pending();
                        undurable.add(lost as u64);
                        tracing::error!(%error, lost, "DEAD LETTERS NOT DELIVERED at shutdown; no further offsets are committed");
                        waiting.clear();
                        held = CapabilitySet::new();
                    }
                }
            }
        })
    }
}
