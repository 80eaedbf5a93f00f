//! `stage`: the thin timely wrapper every pipeline stage uses. It applies a plain fallible function to each item,
//! records the stage's metrics, and splits the results into a stream of outputs and a stream of `ErrorRecord`s, so
//! one bad video never stops the dataflow.
//!
//! A stage works for at most [`SLICE`] per activation (at least one item) and holds the capabilities of the items
//! it has not reached, then activates itself again: a worker with many videos at a CPU-heavy stage (decode, scene
//! cut) goes back to its scheduler between them, so a finished video moves on to the next stage, and the
//! asynchronous stages start their requests, while the others are still waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use clipstream_schemas::{ErrorRecord, Stage};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::operators::{Capability, Operator};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::metrics::StageMetrics;

/// The longest a stage works in one activation before it lets the worker run other operators.
pub const SLICE: Duration = Duration::from_millis(20);

/// Extension trait adding [`StageExt::stage`] to streams of items.
pub trait StageExt<'scope, T: Timestamp + TotalOrder, D> {
    /// Applies `logic` to every item; `Ok` results continue on the first stream, failures on the second.
    ///
    /// ```
    /// use clipstream_core::StageExt;
    /// use clipstream_schemas::{ErrorRecord, Stage};
    /// use timely::dataflow::operators::{Capture, ToStream, capture::Extract, core::Map};
    ///
    /// let (ok, err) = timely::example(|scope| {
    ///     let (ok, err) = (1..=4u32).to_stream(scope).container::<Vec<_>>().stage(Stage::Filter, |n| {
    ///         if n % 2 == 0 { Ok(n * 10) } else { Err(ErrorRecord::from_parts(Stage::Filter, "v", "u", "filter.odd", "odd")) }
    ///     });
    ///     (ok.capture(), err.map::<Vec<String>, _, _>(|e: ErrorRecord| e.code).capture())
    /// });
    /// assert_eq!(ok.extract()[0].1, vec![20, 40]);
    /// assert_eq!(err.extract()[0].1, vec!["filter.odd".to_string(); 2]);
    /// ```
    fn stage<R, F>(self, stage: Stage, logic: F) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + 'static,
        F: FnMut(D) -> Result<R, ErrorRecord> + 'static;
}

impl<'scope, T: Timestamp + TotalOrder, D: Clone + 'static> StageExt<'scope, T, D> for Stream<'scope, T, Vec<D>> {
    fn stage<R, F>(self, stage: Stage, mut logic: F) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + 'static,
        F: FnMut(D) -> Result<R, ErrorRecord> + 'static,
    {
        let metrics = StageMetrics::for_stage(stage);
        let worker = self.scope().worker();
        let outcomes = self.unary::<CapacityContainerBuilder<Vec<Result<R, ErrorRecord>>>, _, _, _>(
            Pipeline,
            stage.as_str(),
            |initial, info| {
                drop(initial);
                let activator = worker.activator_for(info.address.clone());
                let mut waiting: VecDeque<(Capability<T>, D)> = VecDeque::new();
                move |input, output| {
                    input.for_each_stamp(|time, batches| {
                        let Some(capability) = time.retain_least(0) else { return };
                        waiting
                            .extend(batches.flat_map(|batch| batch.drain(..)).map(|item| (capability.clone(), item)));
                    });
                    let started = Instant::now();
                    while let Some((capability, item)) = waiting.pop_front() {
                        output.session(&capability).give(metrics.observe(|| logic(item)));
                        if started.elapsed() >= SLICE {
                            break;
                        }
                    }
                    if !waiting.is_empty() {
                        activator.activate();
                    }
                }
            },
        );
        outcomes.ok_err(|outcome| outcome)
    }
}

#[cfg(test)]
mod tests {
    use timely::dataflow::operators::ToStream;

    use super::*;

    #[test]
    fn a_slow_stage_lets_finished_items_move_on_before_the_rest() {
        use std::sync::{Arc, Mutex};
        let log = Arc::new(Mutex::new(Vec::new()));
        let (first, second) = (log.clone(), log.clone());
        timely::example(move |scope| {
            let (slow, _) = (1..=3u32).to_stream(scope).container::<Vec<_>>().stage(Stage::Probe, move |n| {
                std::thread::sleep(SLICE + Duration::from_millis(5));
                first.lock().expect("log").push(format!("slow {n}"));
                Ok(n)
            });
            slow.stage(Stage::SceneCut, move |n| {
                second.lock().expect("log").push(format!("next {n}"));
                Ok::<_, ErrorRecord>(n)
            });
        });
        let log = log.lock().expect("log").clone();
        let next_1 = log.iter().position(|e| e == "next 1").expect("next 1");
        let slow_3 = log.iter().position(|e| e == "slow 3").expect("slow 3");
        assert!(next_1 < slow_3, "item 1 reached the next stage before item 3 was done: {log:?}");
    }
}
