//! How busy a run kept its models and how many requests its I/O stages had in flight, from the process's own
//! Prometheus histograms: a snapshot at the start and one at the end, so only this run's calls count.
//!
//! A model's busy fraction is its summed call time over the run's wall time (calls to one model are serialised by
//! its lock, so at most 1). The mean number in flight of an I/O stage is its summed request time over the wall time
//! (Little's law): 16 concurrent 1-second fetches during a 2-second run are 8 in flight on average.

use std::collections::BTreeMap;

use clipstream_schemas::metrics as names;
use serde::Serialize;

/// One model's calls during a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUse {
    pub model: String,
    pub calls: u64,
    pub mean_batch: f64,
    pub busy_fraction: f64,
}

/// One I/O stage's mean requests in flight during a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InFlight {
    pub stage: String,
    pub mean: f64,
}

/// The model and I/O use of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub models: Vec<ModelUse>,
    pub in_flight: Vec<InFlight>,
}

/// Sample count and sum of each (histogram, label value) of interest.
#[derive(Debug, Clone, Default)]
pub struct Snapshot(BTreeMap<(String, String), (u64, f64)>);

/// The histograms read, with the label that names the series.
const SERIES: [(&str, &str); 4] = [
    (names::MODEL_BATCH_SIZE, "model"),
    (names::MODEL_LATENCY_SECONDS, "model"),
    (names::STAGE_LATENCY_SECONDS, "stage"),
    (names::CAPTION_LATENCY_SECONDS, "backend"),
];

impl Snapshot {
    /// The process's histograms now (summed over other labels).
    pub fn take() -> Self {
        let mut sums = BTreeMap::new();
        for family in prometheus::gather() {
            let Some(&(name, label)) = SERIES.iter().find(|(name, _)| *name == family.name()) else { continue };
            for metric in family.get_metric() {
                let value = metric.get_label().iter().find(|l| l.name() == label).map_or("", |l| l.value());
                let histogram = metric.get_histogram();
                let entry: &mut (u64, f64) = sums.entry((name.to_string(), value.to_string())).or_default();
                entry.0 += histogram.get_sample_count();
                entry.1 += histogram.get_sample_sum();
            }
        }
        Self(sums)
    }

    /// Count and sum of `name{label=value}` since `start`.
    fn delta(&self, start: &Self, name: &str, value: &str) -> (u64, f64) {
        let key = (name.to_string(), value.to_string());
        let (count, sum) = self.0.get(&key).copied().unwrap_or_default();
        let (count0, sum0) = start.0.get(&key).copied().unwrap_or_default();
        (count.saturating_sub(count0), (sum - sum0).max(0.0))
    }

    /// The series of `name` with calls since `start`.
    fn active<'a>(&'a self, start: &'a Self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .keys()
            .filter(move |(n, _)| n == name)
            .map(|(_, value)| value.as_str())
            .filter(move |value| self.delta(start, name, value).0 > 0)
    }

    /// What happened between `start` and this snapshot, over `seconds` of wall time.
    pub fn usage_since(&self, start: &Self, seconds: f64) -> Usage {
        let per_second = |sum: f64| if seconds > 0.0 { sum / seconds } else { 0.0 };
        let models = self
            .active(start, names::MODEL_BATCH_SIZE)
            .map(|model| {
                let (calls, clips) = self.delta(start, names::MODEL_BATCH_SIZE, model);
                let (_, busy) = self.delta(start, names::MODEL_LATENCY_SECONDS, model);
                let mean_batch = if calls > 0 { clips / calls as f64 } else { 0.0 };
                ModelUse { model: model.to_string(), calls, mean_batch, busy_fraction: per_second(busy) }
            })
            .collect();
        let fetch = self.delta(start, names::STAGE_LATENCY_SECONDS, "fetch");
        let captions = self.active(start, names::CAPTION_LATENCY_SECONDS).map(|backend| {
            let (_, sum) = self.delta(start, names::CAPTION_LATENCY_SECONDS, backend);
            InFlight { stage: format!("caption ({backend})"), mean: per_second(sum) }
        });
        let fetch = (fetch.0 > 0).then(|| InFlight { stage: "fetch".into(), mean: per_second(fetch.1) });
        Usage { models, in_flight: fetch.into_iter().chain(captions).collect() }
    }
}

impl Usage {
    /// Summary lines (none when nothing ran).
    pub fn render(&self) -> String {
        let models = self.models.iter().map(|m| {
            format!(
                "  model:    {} {} calls, mean batch {:.1} clips, busy {:.0}% of the run\n",
                m.model,
                m.calls,
                m.mean_batch,
                100.0 * m.busy_fraction
            )
        });
        let io = self.in_flight.iter().map(|f| format!("  in flight: {} {:.1} on average\n", f.stage, f.mean));
        models.chain(io).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(entries: &[(&str, &str, u64, f64)]) -> Snapshot {
        Snapshot(entries.iter().map(|&(n, v, c, s)| ((n.to_string(), v.to_string()), (c, s))).collect())
    }

    #[test]
    fn usage_counts_only_the_run() {
        let start = snapshot(&[
            (names::MODEL_BATCH_SIZE, "similarity", 2, 10.0),
            (names::STAGE_LATENCY_SECONDS, "fetch", 1, 1.0),
        ]);
        let end = snapshot(&[
            (names::MODEL_BATCH_SIZE, "similarity", 6, 42.0),
            (names::MODEL_LATENCY_SECONDS, "similarity", 4, 1.5),
            (names::MODEL_BATCH_SIZE, "aesthetic", 0, 0.0),
            (names::STAGE_LATENCY_SECONDS, "fetch", 17, 17.0),
            (names::STAGE_LATENCY_SECONDS, "probe", 16, 2.0),
            (names::CAPTION_LATENCY_SECONDS, "vlm-http", 8, 5.0),
        ]);
        let usage = end.usage_since(&start, 2.0);
        assert_eq!(
            usage.models,
            vec![ModelUse { model: "similarity".into(), calls: 4, mean_batch: 8.0, busy_fraction: 0.75 }]
        );
        assert_eq!(
            usage.in_flight,
            vec![
                InFlight { stage: "fetch".into(), mean: 8.0 },
                InFlight { stage: "caption (vlm-http)".into(), mean: 2.5 }
            ]
        );
        assert!(usage.render().contains("similarity 4 calls, mean batch 8.0 clips, busy 75% of the run"));
        assert_eq!(Snapshot::default().usage_since(&Snapshot::default(), 1.0), Usage::default());
    }

    #[test]
    fn a_snapshot_reads_the_process_histograms() {
        let before = Snapshot::take();
        clipstream_core::StageMetrics::for_stage(clipstream_schemas::Stage::Fetch)
            .record(std::time::Duration::from_millis(500), Ok::<_, clipstream_schemas::ErrorRecord>(()))
            .expect("ok");
        let usage = Snapshot::take().usage_since(&before, 1.0);
        let fetch = usage.in_flight.iter().find(|f| f.stage == "fetch").expect("fetch counted");
        // Other tests of this process may fetch meanwhile: at least this call's half second.
        assert!(fetch.mean >= 0.5 - 1e-9, "{fetch:?}");
    }
}
