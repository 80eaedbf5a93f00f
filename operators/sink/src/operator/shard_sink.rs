//! `shard_sink`: the timely wrapper around [`ShardSink`]. It holds the capabilities of the videos in the open shard,
//! so the frontier downstream passes an epoch only once every shard holding that epoch's videos is committed (the
//! signal for committing source offsets). The partial shard is committed when the input closes, or on any
//! activation once it is older than `sink.max_shard_age_s` (epochs keep advancing in continuous mode, so a quiet
//! source still commits).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};

use clipstream_core::in_flight::in_flight_gauge;
use clipstream_schemas::{CuratedVideo, ErrorRecord, ShardManifest, Stage};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::operators::core::OkErr;
use timely::dataflow::operators::generic::{Operator, OutputBuilderSession};
use timely::progress::Timestamp;
use timely::scheduling::SyncActivator;

use crate::sink::{Sealed, ShardSink, SinkFailure, Uploader, upload_not_started};

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
        let worker = self.scope().worker();
        let outcomes = self.unary_frontier::<CapacityContainerBuilder<Vec<Outcome>>, _, _, _>(
            Pipeline,
            "ShardSink",
            |initial, info| {
                drop(initial);
                let activator = worker.sync_activator_for(info.address.to_vec());
                let mut uploads = Uploads::new(sink.uploader(), sink.max_uploads(), activator);
                // Capabilities of the videos in the open shard.
                let mut held = CapabilitySet::<T>::new();
                move |(input, frontier), output| {
                    uploads.release_finished(output);
                    input.for_each(|capability, videos| {
                        let stamp = capability.retain_stamp(0);
                        for video in videos.drain(..) {
                            stamp.iter().for_each(|cap| held.insert(cap.clone()));
                            let sealed = sink.add(video);
                            uploads.start_or_fail(sealed, &mut held, sink.pending_videos(), output);
                        }
                    });
                    let stale = sink.seal_if_stale();
                    uploads.start_or_fail(stale, &mut held, sink.pending_videos(), output);
                    if frontier.is_empty() {
                        let last = sink.seal();
                        uploads.start_or_fail(last, &mut held, sink.pending_videos(), output);
                    }
                }
            },
        );
        outcomes.ok_err::<Vec<ShardManifest>, _, Vec<ErrorRecord>, _, _>(|outcome| outcome)
    }
}

type Session<'a, T> = OutputBuilderSession<'a, T, CapacityContainerBuilder<Vec<Outcome>>>;

/// The shards uploading in the background, each with the capabilities of its videos' epochs (held until its
/// manifest, or its videos' error records, are given at those times).
struct Uploads<T: Timestamp> {
    uploader: Uploader,
    max: usize,
    activator: SyncActivator,
    reply: Sender<(u64, Result<ShardManifest, SinkFailure>)>,
    finished: Receiver<(u64, Result<ShardManifest, SinkFailure>)>,
    uploading: HashMap<u64, CapabilitySet<T>>,
    next: u64,
    gauge: prometheus::IntGauge,
}

impl<T: Timestamp> Uploads<T> {
    fn new(uploader: Uploader, max: usize, activator: SyncActivator) -> Self {
        let (reply, finished) = channel();
        let gauge = in_flight_gauge(Stage::Sink);
        Self { uploader, max: max.max(1), activator, reply, finished, uploading: HashMap::new(), next: 0, gauge }
    }

    /// Gives the outcomes of the uploads that have finished.
    fn release_finished(&mut self, output: &mut Session<'_, T>) {
        while let Ok((id, result)) = self.finished.try_recv() {
            self.release(id, result, output);
        }
    }

    fn release(&mut self, id: u64, result: Result<ShardManifest, SinkFailure>, output: &mut Session<'_, T>) {
        let Some(capabilities) = self.uploading.remove(&id) else { return };
        self.gauge.dec();
        let mut outcomes = Vec::new();
        collect(result, &mut outcomes);
        output.session(&capabilities).give_iterator(outcomes.into_iter());
    }

    /// Handles what the sink did with a video or a seal: a sealed shard starts uploading with the capabilities in
    /// `held` (waiting for a free upload slot first); a failure is given at once at `held`'s times. `held` is
    /// emptied once no video of the open shard needs it (`pending` is the open shard's videos).
    fn start_or_fail(
        &mut self,
        sealed: Result<Option<Sealed>, SinkFailure>,
        held: &mut CapabilitySet<T>,
        pending: usize,
        output: &mut Session<'_, T>,
    ) {
        match sealed {
            Ok(None) => {}
            Ok(Some(sealed)) => self.start(sealed, std::mem::take(held), output),
            Err(failure) => {
                let mut outcomes = Vec::new();
                collect(Err(failure), &mut outcomes);
                output.session(&*held).give_iterator(outcomes.into_iter());
            }
        }
        if pending == 0 {
            *held = CapabilitySet::new();
        }
    }

    fn start(&mut self, sealed: Sealed, capabilities: CapabilitySet<T>, output: &mut Session<'_, T>) {
        while self.uploading.len() >= self.max {
            // Back-pressure: this worker waits for an upload slot (the other shards' outcomes go out meanwhile).
            match self.finished.recv() {
                Ok((id, result)) => self.release(id, result, output),
                Err(_) => break,
            }
        }
        let (id, uploader, reply, activator) =
            (self.next, self.uploader.clone(), self.reply.clone(), self.activator.clone());
        let videos = sealed.videos().to_vec();
        self.next += 1;
        self.uploading.insert(id, capabilities);
        self.gauge.inc();
        let upload = move || {
            let result = uploader.upload(sealed);
            // Both fail only when the dataflow is gone.
            if reply.send((id, result)).is_ok() {
                let _ = activator.activate();
            }
        };
        if let Err(error) = std::thread::Builder::new().name("clipstream-upload".into()).spawn(upload) {
            // The shard went with the failed spawn: its videos become retryable error records.
            self.release(id, Err(upload_not_started(&videos, error)), output);
        }
    }
}

fn collect(result: Result<ShardManifest, SinkFailure>, outcomes: &mut Vec<Outcome>) {
    match result {
        Ok(manifest) => outcomes.push(Ok(manifest)),
        Err(failure) => outcomes.extend(failure.records.into_iter().map(Err)),
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
            // The shard with the videos of epochs 0 and 1 is full and uploads in the background; once it is
            // committed both epochs are done (bounded wait: the upload thread wakes the operator).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while probe.less_equal(&1) && std::time::Instant::now() < deadline {
                worker.step_or_park(Some(std::time::Duration::from_millis(10)));
            }
            observed.push(probe.less_equal(&1));
            input.close();
            worker.step_while(|| !probe.done());
            observed.push(probe.done());
            observed
        });
        assert_eq!(held, [true, false, true]);
    }
}
