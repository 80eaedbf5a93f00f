//! `write_errors`: the timely wrapper around [`ErrorWriter`]. Records are buffered and flushed to one jsonl object
//! when an epoch they belong to completes, when many are waiting, and when the input closes. It outputs the keys
//! written, at the records' times, so a probe downstream sees an epoch done only once its errors are stored.

use clipstream_schemas::ErrorRecord;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::operators::generic::Operator;
use timely::progress::Timestamp;
use timely::progress::frontier::MutableAntichain;

use clipstream_store::ErrorWriter;

/// Buffered records that trigger a flush even within an epoch.
pub const FLUSH_RECORDS: usize = 10_000;

/// Extension trait writing a stream of error records to `errors/`.
pub trait ErrorSinkExt<'scope, T: Timestamp> {
    /// Writes every record through `writer` (to `errors/{run_id}-w{worker:03}-{seq:05}.jsonl` of its output); returns
    /// the keys of the jsonl objects written.
    fn write_errors(self, writer: ErrorWriter) -> Stream<'scope, T, Vec<String>>;
}

impl<'scope, T: Timestamp> ErrorSinkExt<'scope, T> for Stream<'scope, T, Vec<ErrorRecord>> {
    fn write_errors(self, mut writer: ErrorWriter) -> Stream<'scope, T, Vec<String>> {
        self.unary_frontier::<CapacityContainerBuilder<Vec<String>>, _, _, _>(Pipeline, "ErrorSink", |initial, _info| {
            drop(initial);
            // Capabilities of the buffered records.
            let mut held = CapabilitySet::<T>::new();
            move |(input, frontier), output| {
                input.for_each(|capability, records| {
                    capability.retain_stamp(0).iter().for_each(|cap| held.insert(cap.clone()));
                    records.drain(..).for_each(|record| writer.push(record));
                });
                if !should_flush(&held, frontier, writer.pending()) {
                    return;
                }
                if frontier.is_empty() {
                    // The last chance: tried with backoff; what still fails is counted as undurable, which stops
                    // the offset committer, so the epoch can be released without committing past the records.
                    if let Some(key) = writer.flush_at_shutdown() {
                        output.session(&held).give(key);
                    }
                } else {
                    match writer.flush() {
                        Ok(Some(key)) => output.session(&held).give(key),
                        Ok(None) => {}
                        Err(error) => {
                            tracing::error!(%error, pending = writer.pending(), "cannot write error records; will retry");
                            return;
                        }
                    }
                }
                held = CapabilitySet::new();
            }
        })
    }
}

/// Flush when the input closed, when an epoch of a buffered record is complete, or when the buffer is large.
fn should_flush<T: Timestamp>(held: &CapabilitySet<T>, frontier: &MutableAntichain<T>, pending: usize) -> bool {
    pending > 0
        && (frontier.is_empty()
            || pending >= FLUSH_RECORDS
            || held.is_empty()
            || held.iter().any(|cap| !frontier.less_equal(cap.time())))
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::Stage;
    use timely::dataflow::operators::Input;
    use timely::dataflow::operators::core::Probe;

    use super::*;
    use clipstream_store::fixtures::temp_output;

    fn record(id: &str) -> ErrorRecord {
        ErrorRecord::from_parts(Stage::Fetch, id, "u", "fetch.x", "x")
    }

    #[test]
    fn flushes_when_an_epoch_completes_and_at_close() {
        let (_dir, output) = temp_output();
        let writer = ErrorWriter::new(output.clone(), "run", 0);
        let check = output.clone();
        let files = timely::execute_directly(move |worker| {
            let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, stream) = scope.new_input::<Vec<ErrorRecord>>();
                let (probe, _) = stream.write_errors(writer).probe();
                (input, probe)
            });
            let mut counts = Vec::new();
            let list = |output: &clipstream_store::Output| output.list("errors").unwrap().len();
            input.send(record("a"));
            input.send(record("b"));
            worker.step();
            worker.step();
            counts.push(list(&output));
            input.advance_to(1);
            worker.step_while(|| probe.less_equal(&0));
            counts.push(list(&output));
            input.send(record("c"));
            input.close();
            worker.step_while(|| !probe.done());
            counts.push(list(&output));
            counts
        });
        assert_eq!(files, [0, 1, 2]);
        assert_eq!(check.list("errors").unwrap()[0].key, "errors/run-w000-00000.jsonl");
    }
}
