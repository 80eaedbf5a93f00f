//! `async_stage`: a stage whose work runs off the worker thread (downloads on a tokio runtime, caption requests,
//! model batches on a device thread) while the worker goes on with other stages. The operator holds a capability
//! for every item it has started and gives the item's result at that item's time once the work answers through
//! its [`Done`]; a `SyncActivator` wakes the operator from whatever thread answered. So an epoch passes the
//! operator (and every probe after it) only when all of its items have answered, exactly as with a blocking stage:
//! the exactly-once argument of docs/delivery.md does not change, only how many videos wait at once.
//!
//! At most `max_in_flight` items are started at once per operator; the rest wait, in arrival order, holding their
//! capabilities too (nothing is dropped while a stage is slow). A [`Done`] dropped without an answer (a panicking
//! task, a closed service) answers with the `abandoned` record of its item, so an item can never be lost.

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use clipstream_schemas::metrics as names;
use clipstream_schemas::{ErrorRecord, Stage};
use prometheus::IntGaugeVec;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::operators::generic::operator::Operator;
use timely::order::TotalOrder;
use timely::progress::Timestamp;
use timely::scheduling::SyncActivator;

use crate::metrics::StageMetrics;
use crate::registry::gauge_vec;

/// How a started item answers, from any thread. Answer once with [`Done::finish`]; dropping it unanswered answers
/// with the item's `abandoned` record.
pub struct Done<R> {
    id: u64,
    reply: Option<Sender<Answer<R>>>,
    activator: SyncActivator,
    started: Instant,
    abandoned: Option<ErrorRecord>,
}

struct Answer<R> {
    id: u64,
    result: Result<R, ErrorRecord>,
    elapsed: Duration,
}

impl<R> Done<R> {
    /// Hands the item's result back to its operator and wakes the operator's worker.
    pub fn finish(mut self, result: Result<R, ErrorRecord>) {
        self.send(result);
    }

    fn send(&mut self, result: Result<R, ErrorRecord>) {
        if let Some(reply) = self.reply.take() {
            let answer = Answer { id: self.id, result, elapsed: self.started.elapsed() };
            // Both fail only when the dataflow is gone (its worker stopped): then nobody waits for the answer.
            if reply.send(answer).is_ok() {
                let _ = self.activator.activate();
            }
        }
    }
}

impl<R> Drop for Done<R> {
    fn drop(&mut self) {
        if let Some(record) = self.abandoned.take() {
            self.send(Err(record));
        }
    }
}

/// Items started and not answered, and items waiting for a slot, per stage (all workers of the process).
fn gauges() -> &'static (IntGaugeVec, IntGaugeVec) {
    static GAUGES: OnceLock<(IntGaugeVec, IntGaugeVec)> = OnceLock::new();
    GAUGES.get_or_init(|| {
        (
            gauge_vec(names::STAGE_IN_FLIGHT, "Items an asynchronous stage has started and not answered", &["stage"]),
            gauge_vec(names::STAGE_QUEUED, "Items waiting at an asynchronous stage for a free slot", &["stage"]),
        )
    })
}

/// The in-flight gauge of `stage` (items started and not answered), for stages that run work in the background
/// without [`AsyncStageExt::async_stage`] (the shard sink's uploads).
pub fn in_flight_gauge(stage: Stage) -> prometheus::IntGauge {
    gauges().0.with_label_values(&[stage.as_str()])
}

/// Extension trait adding [`AsyncStageExt::async_stage`] to streams of items.
pub trait AsyncStageExt<'scope, T: Timestamp + TotalOrder, D> {
    /// Starts `start(item, done)` for every item, at most `max_in_flight` at once, and gives each item's answer at
    /// the item's time: `Ok` on the first stream, failures on the second. `start` must not block: it hands the
    /// work to another thread (or answers at once). `abandoned(item)` is the record given if the work drops its
    /// [`Done`] without answering. Each answer is counted in the stage's metrics with the time from start to
    /// answer.
    fn async_stage<R, S, A>(
        self,
        stage: Stage,
        max_in_flight: usize,
        abandoned: A,
        start: S,
    ) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + Send + 'static,
        S: FnMut(D, Done<R>) + 'static,
        A: Fn(&D) -> ErrorRecord + 'static;
}

impl<'scope, T: Timestamp + TotalOrder, D: Clone + 'static> AsyncStageExt<'scope, T, D> for Stream<'scope, T, Vec<D>> {
    fn async_stage<R, S, A>(
        self,
        stage: Stage,
        max_in_flight: usize,
        abandoned: A,
        mut start: S,
    ) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + Send + 'static,
        S: FnMut(D, Done<R>) + 'static,
        A: Fn(&D) -> ErrorRecord + 'static,
    {
        let metrics = StageMetrics::for_stage(stage);
        let (in_flight_gauge, queued_gauge) = gauges();
        let (in_flight_gauge, queued_gauge) =
            (in_flight_gauge.with_label_values(&[stage.as_str()]), queued_gauge.with_label_values(&[stage.as_str()]));
        let max_in_flight = max_in_flight.max(1);
        let worker = self.scope().worker();
        let name = format!("{}Async", stage.as_str());
        let outcomes = self.unary::<CapacityContainerBuilder<Vec<Result<R, ErrorRecord>>>, _, _, _>(
            Pipeline,
            &name,
            |initial, info| {
                drop(initial);
                let activator = worker.sync_activator_for(info.address.to_vec());
                let (reply, answers): (Sender<Answer<R>>, Receiver<Answer<R>>) = channel();
                let mut waiting: VecDeque<(Capability<T>, D)> = VecDeque::new();
                let mut held: HashMap<u64, Capability<T>> = HashMap::new();
                let mut next_id = 0u64;
                move |input, output| {
                    input.for_each_stamp(|time, batches| {
                        let Some(capability) = time.retain_least(0) else { return };
                        for item in batches.flat_map(|batch| batch.drain(..)) {
                            queued_gauge.inc();
                            waiting.push_back((capability.clone(), item));
                        }
                    });
                    loop {
                        let mut progressed = false;
                        // Answers of older epochs first: the stages after this one take them in this order, and
                        // an epoch passes (letting the source admit the next) only when all of its items have.
                        let mut ready: Vec<(Capability<T>, Result<R, ErrorRecord>)> = answers
                            .try_iter()
                            .filter_map(|Answer { id, result, elapsed }| {
                                Some((held.remove(&id)?, metrics.record(elapsed, result)))
                            })
                            .collect();
                        ready.sort_by(|a, b| a.0.time().cmp(b.0.time()));
                        for (capability, result) in ready {
                            in_flight_gauge.dec();
                            output.session(&capability).give(result);
                            progressed = true;
                        }
                        while held.len() < max_in_flight {
                            let Some((capability, item)) = waiting.pop_front() else { break };
                            queued_gauge.dec();
                            in_flight_gauge.inc();
                            let (id, record) = (next_id, abandoned(&item));
                            next_id += 1;
                            held.insert(id, capability);
                            let done = Done {
                                id,
                                reply: Some(reply.clone()),
                                activator: activator.clone(),
                                started: Instant::now(),
                                abandoned: Some(record),
                            };
                            start(item, done);
                            progressed = true;
                        }
                        if !progressed {
                            break;
                        }
                    }
                }
            },
        );
        outcomes.ok_err(|outcome| outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use timely::dataflow::operators::core::{Map, Probe};
    use timely::dataflow::operators::{Capture, Input, capture::Extract};
    use timely::dataflow::{InputHandle, ProbeHandle};

    use super::*;

    fn failed(n: &u32) -> ErrorRecord {
        ErrorRecord::from_parts(Stage::Filter, &n.to_string(), "u", "filter.abandoned", "no answer")
    }

    /// Work started by the operator, answered later by the test (from other threads).
    type Parked = Arc<Mutex<Vec<(u32, Done<u32>)>>>;

    #[test]
    fn answers_come_out_at_their_items_time_and_hold_the_epoch_until_all_answered() {
        let parked: Parked = Arc::default();
        let started = parked.clone();
        let (ok, err) = timely::execute_directly(move |worker| {
            let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<u32>>>::new();
            let probe = ProbeHandle::new();
            let (ok, err) = worker.dataflow::<u64, _, _>(|scope| {
                let (ok, err) = scope.input_from(&mut input).async_stage(Stage::Filter, 2, failed, move |n, done| {
                    started.lock().expect("parked").push((n, done));
                });
                let ok = ok.probe_with(&probe);
                (ok.capture(), err.map::<Vec<String>, _, _>(|e: ErrorRecord| e.video_id).capture())
            });
            for n in 1..=3 {
                input.send(n);
            }
            input.advance_to(1);
            input.send(4);
            input.advance_to(2);
            for _ in 0..20 {
                worker.step();
            }
            let waiting: Vec<u32> = parked.lock().expect("parked").iter().map(|(n, _)| *n).collect();
            assert_eq!(waiting, vec![1, 2], "at most 2 in flight");
            assert!(probe.less_than(&1), "epoch 0 is held while its items are in flight");
            // Answer out of order from other threads; drop one unanswered.
            let mut work: Vec<_> = parked.lock().expect("parked").drain(..).collect();
            let (two, one) = (work.pop().expect("2"), work.pop().expect("1"));
            std::thread::spawn(move || two.1.finish(Ok(20))).join().expect("thread");
            std::thread::spawn(move || drop(one)).join().expect("thread");
            while parked.lock().expect("parked").len() < 2 {
                worker.step_or_park(Some(Duration::from_millis(10)));
            }
            assert!(probe.less_than(&1), "item 3 of epoch 0 is still in flight");
            for (n, done) in parked.lock().expect("parked").drain(..) {
                std::thread::spawn(move || done.finish(Ok(n * 10))).join().expect("thread");
            }
            drop(input);
            while !probe.done() {
                worker.step_or_park(Some(Duration::from_millis(10)));
            }
            (ok, err)
        });
        let ok = ok.extract();
        assert_eq!(ok, vec![(0, vec![20, 30]), (1, vec![40])], "each answer at its item's time");
        assert_eq!(err.extract(), vec![(0, vec!["1".to_string()])], "a dropped Done answers with its record");
    }

    #[test]
    fn work_answered_at_once_flows_through() {
        let out = timely::example(|scope| {
            use timely::dataflow::operators::ToStream;
            let (ok, _err) =
                (1..=5u32)
                    .to_stream(scope)
                    .container::<Vec<_>>()
                    .async_stage(Stage::Filter, 1, failed, |n, done| done.finish(Ok(n + 1)));
            ok.capture()
        });
        let got: Vec<u32> = out.extract().into_iter().flat_map(|(_, v)| v).collect();
        assert_eq!(got, vec![2, 3, 4, 5, 6]);
    }
}
