//! `shard_sink`: the timely wrapper around [`ShardSink`]. It holds the capabilities of the videos in the open shard,
//! so the frontier downstream passes an epoch only once every shard holding that epoch's videos is committed (the
//! signal for committing source offsets). The partial shard is committed when the input closes, or on any
//! activation once it is older than `sink.max_shard_age_s` (epochs keep advancing in continuous mode, so a quiet
//! source still commits).

use clipstream_schemas::{CuratedVideo, ErrorRecord, ShardManifest};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::operators::generic::Operator;
use timely::progress::Timestamp;

use crate::sink::{ShardSink, SinkFailure};

type Outcome = Result<ShardManifest, ErrorRecord>;

/// Extension trait writing a stream of curated videos into shards.
pub trait ShardSinkExt<'scope, T: Timestamp> {
    /// Feeds every video to `sink`; returns the committed manifests and the error records of videos that could not
    /// be written (a bad video alone, or every video of a shard whose commit failed after all its tries). Both are
    /// emitted at the times of the videos they cover, so the epoch of a failed video is released only once its error
    /// record flows on: route it to the error sink (and the dead-letter topic) so the failure is stored, not lost.
    ///
    /// ```
    /// use clipstream_schemas::{CuratedVideo, VideoRequest, config::SinkConfig};
    /// use clipstream_sink::{ShardSink, ShardSinkExt};
    /// use clipstream_store::{Output, shard_name};
    /// use timely::dataflow::operators::{Capture, ToStream, capture::Extract, core::Map};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let sink = ShardSink::new(Output::open(dir.path().to_str().unwrap()).unwrap(), SinkConfig::default());
    /// let video = CuratedVideo {
    ///     request: VideoRequest::new("/videos/v.mp4"),
    ///     video_id: "v".into(),
    ///     video_key: "v".into(),
    ///     clips: vec![],
    ///     scratch: None,
    /// };
    /// let shards = timely::example(move |scope| {
    ///     let (manifests, _errors) = vec![video].to_stream(scope).container::<Vec<_>>().shard_sink_with(sink);
    ///     manifests.map::<Vec<String>, _, _>(|m| m.shard).capture()
    /// });
    /// assert_eq!(shards.extract()[0].1, vec![shard_name(["v"])]);
    /// assert!(dir.path().join(format!("manifests/{}.json", shard_name(["v"]))).is_file());
    /// ```
    fn shard_sink_with(
        self,
        sink: ShardSink,
    ) -> (Stream<'scope, T, Vec<ShardManifest>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

impl<'scope, T: Timestamp> ShardSinkExt<'scope, T> for Stream<'scope, T, Vec<CuratedVideo>> {
    fn shard_sink_with(
        self,
        mut sink: ShardSink,
    ) -> (Stream<'scope, T, Vec<ShardManifest>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        let outcomes = self.unary_frontier::<CapacityContainerBuilder<Vec<Outcome>>, _, _, _>(
            Pipeline,
            "ShardSink",
            |initial, _info| {
                drop(initial);
                // Capabilities of the videos in the open shard.
                let mut held = CapabilitySet::<T>::new();
                move |(input, frontier), output| {
                    let mut outcomes = Vec::new();
                    input.for_each(|capability, videos| {
                        let stamp = capability.retain_stamp(0);
                        for video in videos.drain(..) {
                            stamp.iter().for_each(|cap| held.insert(cap.clone()));
                            collect(sink.push(video), &mut outcomes);
                            release(&held, &mut outcomes, output);
                            if sink.pending_videos() == 0 {
                                held = CapabilitySet::new();
                            }
                        }
                    });
                    collect(sink.finish_if_stale(), &mut outcomes);
                    if frontier.is_empty() {
                        collect(sink.finish(), &mut outcomes);
                    }
                    release(&held, &mut outcomes, output);
                    if sink.pending_videos() == 0 {
                        held = CapabilitySet::new();
                    }
                }
            },
        );
        outcomes.ok_err::<Vec<ShardManifest>, _, Vec<ErrorRecord>, _, _>(|outcome| outcome)
    }
}

fn collect(result: Result<Option<ShardManifest>, SinkFailure>, outcomes: &mut Vec<Outcome>) {
    match result {
        Ok(Some(manifest)) => outcomes.push(Ok(manifest)),
        Ok(None) => {}
        Err(failure) => outcomes.extend(failure.records.into_iter().map(Err)),
    }
}

/// Sends pending outcomes at the held times. Callers drop `held` once the shard those times belong to is closed.
fn release<T: Timestamp>(
    held: &CapabilitySet<T>,
    outcomes: &mut Vec<Outcome>,
    output: &mut timely::dataflow::operators::generic::OutputBuilderSession<
        '_,
        T,
        CapacityContainerBuilder<Vec<Outcome>>,
    >,
) {
    if !outcomes.is_empty() {
        output.session(held).give_iterator(outcomes.drain(..));
    }
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::config::SinkConfig;
    use timely::dataflow::operators::capture::Extract;
    use timely::dataflow::operators::core::Map;
    use timely::dataflow::operators::{Capture, Input, Probe, ToStream};

    use super::*;
    use clipstream_store::fixtures::{temp_output, video};

    fn config(max_shard_clips: u64) -> SinkConfig {
        SinkConfig { max_shard_bytes: 1 << 30, max_shard_clips, ..SinkConfig::default() }
    }

    #[test]
    fn writes_shards_and_routes_failures() {
        let (_dir, output) = temp_output();
        let sink = ShardSink::new(output.clone(), config(4));
        let mut bad = video("bad", 1, false);
        bad.clips[0].record.key = "../x".into();
        let videos = vec![video("v1", 2, true), video("v2", 2, false), bad, video("v3", 1, false)];
        let (manifests, errors) = timely::example(move |scope| {
            let (manifests, errors) = videos.to_stream(scope).container::<Vec<_>>().shard_sink_with(sink);
            let manifests = manifests.map::<Vec<(String, String)>, _, _>(|m| (m.video_keys.join(","), m.shard));
            (manifests.capture(), errors.map::<Vec<String>, _, _>(|e| e.video_id).capture())
        });
        let manifests: Vec<(String, String)> = manifests.extract().into_iter().flat_map(|(_, m)| m).collect();
        let errors: Vec<String> = errors.extract().into_iter().flat_map(|(_, e)| e).collect();
        let keys: Vec<&str> = manifests.iter().map(|(keys, _)| keys.as_str()).collect();
        assert_eq!(keys, ["v1,v2", "v3"]);
        assert_eq!(errors, ["id/bad"]);
        for (_, shard) in &manifests {
            assert!(output.get(&ShardManifest::path_for(shard)).is_ok());
        }
    }

    #[test]
    fn one_video_per_shard() {
        let (_dir, output) = temp_output();
        let sink = ShardSink::new(output.clone(), config(1));
        let videos = vec![video("s1", 1, false), video("s2", 1, false)];
        let shards = timely::example(move |scope| {
            let (manifests, _errors) = videos.to_stream(scope).container::<Vec<_>>().shard_sink_with(sink);
            manifests.map::<Vec<String>, _, _>(|m| m.shard).capture()
        });
        let shards: Vec<String> = shards.extract().into_iter().flat_map(|(_, s)| s).collect();
        assert_eq!(shards.len(), 2);
        assert_eq!(clipstream_store::committed_videos(&output).unwrap().len(), 2);
    }

    #[test]
    fn a_shard_that_cannot_be_committed_becomes_error_records() {
        let (dir, output) = temp_output();
        let sink = ShardSink::new(output.clone(), SinkConfig { commit_attempts: 2, commit_backoff_ms: 1, ..config(2) });
        let name = clipstream_store::shard_name(["f1", "f2"]);
        std::fs::create_dir_all(dir.path().join("out").join(clipstream_store::tar_key(&name)).join("blocker")).unwrap();
        let videos = vec![video("f1", 1, false), video("f2", 1, false)];
        let (manifests, errors) = timely::example(move |scope| {
            let (manifests, errors) = videos.to_stream(scope).container::<Vec<_>>().shard_sink_with(sink);
            let manifests = manifests.map::<Vec<String>, _, _>(|m| m.shard);
            (manifests.capture(), errors.map::<Vec<(String, String)>, _, _>(|e| (e.video_id, e.code)).capture())
        });
        assert!(manifests.extract().into_iter().all(|(_, m)| m.is_empty()));
        let mut errors: Vec<(String, String)> = errors.extract().into_iter().flat_map(|(_, e)| e).collect();
        errors.sort();
        let code = "sink.store".to_string();
        assert_eq!(errors, [("id/f1".to_string(), code.clone()), ("id/f2".to_string(), code)]);
        assert!(clipstream_store::committed_videos(&output).unwrap().is_empty());
    }

    #[test]
    fn holds_the_epochs_of_the_open_shard() {
        let (_dir, output) = temp_output();
        let sink = ShardSink::new(output, config(3));
        let held = timely::execute_directly(move |worker| {
            let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, stream) = scope.new_input::<Vec<CuratedVideo>>();
                let (manifests, _errors) = stream.shard_sink_with(sink);
                let (probe, _) = manifests.probe();
                (input, probe)
            });
            let mut observed = Vec::new();
            let settle = |worker: &mut timely::worker::Worker| {
                for _ in 0..20 {
                    worker.step();
                }
            };
            input.send(video("e0", 2, false));
            input.advance_to(1);
            settle(worker);
            // The open shard holds epoch 0 although the input moved on.
            observed.push(probe.less_equal(&0));
            input.send(video("e1", 2, false));
            input.advance_to(2);
            settle(worker);
            // The shard with the videos of epochs 0 and 1 is committed: both epochs are done.
            observed.push(probe.less_equal(&1));
            input.close();
            worker.step_while(|| !probe.done());
            observed.push(probe.done());
            observed
        });
        assert_eq!(held, [true, false, true]);
    }
}
