//! `dead_letter`: the timely wrapper around [`DeadLetters`] for videos that failed after their message was parsed.
//! Records wait until their epoch is complete (or the input closes), are produced and confirmed, and only then is
//! the epoch released downstream — so offsets are committed only after the dead letters of their videos are
//! durable. Records of stage `source` are skipped: the reader loop dead-letters bad messages itself, with their
//! exact original bytes, through the same producer (the worker's one `DeadLetters`, shared on its thread).
//! Delivery failures are retried on the next activation (at-least-once).

use std::cell::RefCell;
use std::rc::Rc;

use clipstream_schemas::{ErrorRecord, Stage};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::operators::generic::Operator;
use timely::progress::Timestamp;

use crate::dlq::{DeadLetters, request_payload};

/// Extension trait producing failed videos to the dead-letter topic.
pub trait DeadLetterExt<'scope, T: Timestamp> {
    /// Dead-letters every record not of stage `source`; outputs the video ids sent, at the records' times.
    fn dead_letter(self, letters: Rc<RefCell<DeadLetters>>) -> Stream<'scope, T, Vec<String>>;
}

impl<'scope, T: Timestamp> DeadLetterExt<'scope, T> for Stream<'scope, T, Vec<ErrorRecord>> {
    fn dead_letter(self, letters: Rc<RefCell<DeadLetters>>) -> Stream<'scope, T, Vec<String>> {
        self.unary_frontier::<CapacityContainerBuilder<Vec<String>>, _, _, _>(Pipeline, "DeadLetter", |initial, _| {
            drop(initial);
            let mut held = CapabilitySet::<T>::new();
            let mut waiting: Vec<ErrorRecord> = Vec::new();
            move |(input, frontier), output| {
                input.for_each(|capability, records| {
                    let before = waiting.len();
                    waiting.extend(records.drain(..).filter(|r| r.stage != Stage::Source));
                    if waiting.len() > before {
                        capability.retain_stamp(0).iter().for_each(|cap| held.insert(cap.clone()));
                    }
                });
                let complete = held.iter().any(|cap| !frontier.less_equal(cap.time()));
                if waiting.is_empty() || !(frontier.is_empty() || complete) {
                    return;
                }
                let mut letters = letters.borrow_mut();
                let sent = waiting.iter().try_for_each(|record| letters.send(record, &request_payload(record)));
                match sent.and_then(|()| letters.flush()) {
                    Ok(_) => {
                        let ids: Vec<String> = waiting.drain(..).map(|r| r.video_id).collect();
                        output.session(&held).give_iterator(ids.into_iter());
                        held = CapabilitySet::new();
                    }
                    Err(error) if !frontier.is_empty() => {
                        tracing::error!(%error, waiting = waiting.len(), "cannot produce dead letters; will retry");
                    }
                    Err(error) => {
                        tracing::error!(%error, lost = waiting.len(), "cannot produce dead letters at shutdown");
                        waiting.clear();
                        held = CapabilitySet::new();
                    }
                }
            }
        })
    }
}
