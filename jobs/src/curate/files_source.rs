//! Driving the dataflow from list files: worker 0 reads every row, closing an epoch every `source.batch_size` rows
//! and keeping at most `source.max_inflight_videos` per worker in flight (in whole epochs, at least two per
//! worker); the other workers only step. A worker with nothing to do
//! parks (timely wakes it when another worker sends it data or progress) instead of spinning.

use std::sync::Mutex;
use std::time::Duration;

use clipstream_schemas::config::SourceConfig;
use timely::worker::Worker;

use super::dataflow::Handles;
use super::inputs::SourceItem;
use super::progress::Counters;

/// The rows of all inputs, taken by worker 0.
pub type SharedRows = Mutex<Option<Box<dyn Iterator<Item = SourceItem> + Send>>>;

/// The longest a worker with nothing to do stays parked: timely unparks it as soon as data or progress arrives,
/// so this only bounds the delay of a missed wakeup.
const PARK: Duration = Duration::from_millis(100);

/// Feeds the rows (worker 0), then closes the input and runs the dataflow to completion.
pub fn drive(worker: &mut Worker, handles: Handles, rows: &SharedRows, source: &SourceConfig, counters: &Counters) {
    let Handles { mut input, flow, durable: _ } = handles;
    if worker.index() == 0 {
        let rows = rows.lock().ok().and_then(|mut r| r.take());
        let (batch_size, in_flight) = (source.batch_size, source.epochs_in_flight(worker.peers()));
        for (n, item) in rows.into_iter().flatten().enumerate() {
            Counters::add(&counters.rows, 1);
            input.send(item);
            if (n + 1) % batch_size == 0 {
                let next = *input.time() + 1;
                input.advance_to(next);
                while flow.less_than(&next.saturating_sub(in_flight)) {
                    worker.step_or_park(Some(PARK));
                }
            }
        }
    }
    drop(input);
    while worker.step_or_park(Some(PARK)) {}
}
