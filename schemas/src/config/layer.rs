//! Layering (embedded defaults, file, environment, `--set` flags) and validation of [`Config`].

use thiserror::Error;
use toml::{Table, Value};

use super::models::{CaptionBackend, SimilarityModel};
use super::sections::{Config, CutMode};

/// The documented defaults, embedded in the binary (`clipstream check-config --print-defaults` prints it).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Environment variables with this prefix override config keys: `CLIPSTREAM__SCENE__THRESHOLD=30`.
pub const ENV_PREFIX: &str = "CLIPSTREAM__";

/// Why a configuration was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("config file is not valid TOML: {0}")]
    File(#[from] toml::de::Error),
    #[error("override {0:?} is not section.key=value")]
    Override(String),
    #[error("override {0:?} names a section that is not a table")]
    NotATable(String),
    #[error("config is not valid: {0}")]
    Shape(String),
    #[error("config values are out of range:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// Builds the configuration: defaults, then `file` (TOML text), then `env` pairs with [`ENV_PREFIX`], then
/// `sets` (`section.key=value`, the value parsed as TOML and taken as a string if it does not parse).
pub fn load(
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
    sets: &[String],
) -> Result<Config, ConfigError> {
    let mut table: Table = match file {
        Some(text) => toml::from_str(text)?,
        None => Table::new(),
    };
    for (name, value) in env {
        if let Some(path) = name.strip_prefix(ENV_PREFIX) {
            let dotted = path.to_ascii_lowercase().replace("__", ".");
            set_path(&mut table, &dotted, &value, &name)?;
        }
    }
    for set in sets {
        let (path, value) = set.split_once('=').ok_or_else(|| ConfigError::Override(set.clone()))?;
        set_path(&mut table, path.trim(), value.trim(), set)?;
    }
    let config: Config =
        Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::Shape(e.to_string()))?;
    config.validate()?;
    Ok(config)
}

fn set_path(table: &mut Table, path: &str, raw: &str, origin: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::Override(origin.to_string()));
    }
    let value = toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    let (last, sections) = parts.split_last().ok_or_else(|| ConfigError::Override(origin.to_string()))?;
    let mut cursor = table;
    for section in sections {
        let entry = cursor.entry(section.to_string()).or_insert_with(|| Value::Table(Table::new()));
        cursor = entry.as_table_mut().ok_or_else(|| ConfigError::NotATable(origin.to_string()))?;
    }
    cursor.insert(last.to_string(), value);
    Ok(())
}

impl Config {
    /// Checks ranges and combinations; every problem is listed, not just the first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, text: &str| {
            if !ok {
                problems.push(text.to_string());
            }
        };
        check(self.source.batch_size >= 1, "source.batch_size must be >= 1");
        check(self.source.max_inflight_videos >= 1, "source.max_inflight_videos must be >= 1");
        check(self.fetch.max_inflight_bytes > 0, "fetch.max_inflight_bytes must be > 0");
        check(self.sink.max_uploads >= 1, "sink.max_uploads must be >= 1");
        check(self.fetch.max_bytes > 0, "fetch.max_bytes must be > 0");
        check(self.fetch.connect_timeout_s > 0.0, "fetch.connect_timeout_s must be > 0");
        check(self.fetch.read_timeout_s > 0.0, "fetch.read_timeout_s must be > 0");
        check(self.fetch.total_timeout_s > 0.0, "fetch.total_timeout_s must be > 0");
        check(self.probe.min_duration_s >= 0.0, "probe.min_duration_s must be >= 0");
        check(self.probe.max_duration_s > self.probe.min_duration_s, "probe.max_duration_s must exceed min");
        check(self.probe.max_width >= self.probe.min_width, "probe.max_width must be >= probe.min_width");
        check(self.probe.max_height >= self.probe.min_height, "probe.max_height must be >= probe.min_height");
        check(self.probe.max_pixels >= 1, "probe.max_pixels must be >= 1");
        check(self.probe.max_decode_s > 0.0, "probe.max_decode_s must be > 0");
        check(self.scene.threshold > 0.0, "scene.threshold must be > 0");
        check(self.scene.min_scene_len >= 1, "scene.min_scene_len must be >= 1");
        check(self.scene.weights.iter().all(|w| *w >= 0.0), "scene.weights must be >= 0");
        check(self.scene.weights[..3].iter().sum::<f64>() > 0.0, "scene.weights: one of the first three must be > 0");
        check(self.scene.weights[3] == 0.0, "scene.weights[3] (edges) is not supported: set it to 0");
        check(self.scene.stride_s > 0.0, "scene.stride_s must be > 0");
        check(self.clips.min_duration_s >= 0.0, "clips.min_duration_s must be >= 0");
        check(self.clips.max_duration_s > self.clips.min_duration_s, "clips.max_duration_s must exceed min");
        check(
            self.clips.dynamic_min_motion > self.clips.still_max_motion,
            "clips.dynamic_min_motion must exceed clips.still_max_motion",
        );
        check(self.cut.crf <= 51, "cut.crf must be 0..=51");
        check(self.cut.mode != CutMode::Precise || !self.cut.preset.is_empty(), "cut.preset must be set");
        check(self.frames.count >= 1, "frames.count must be >= 1");
        check(self.frames.short_side >= 16, "frames.short_side must be >= 16");
        check((1..=100).contains(&self.frames.jpeg_quality), "frames.jpeg_quality must be 1..=100");
        check(self.sink.max_shard_bytes >= 1 << 20, "sink.max_shard_bytes must be >= 1 MiB");
        check(self.sink.max_shard_clips >= 1, "sink.max_shard_clips must be >= 1");
        check(self.sink.max_shard_age_s >= 0.0, "sink.max_shard_age_s must be >= 0");
        check(self.sink.commit_attempts >= 1, "sink.commit_attempts must be >= 1");
        check(!self.kafka.brokers.trim().is_empty(), "kafka.brokers must be set");
        check(!self.kafka.topic.trim().is_empty(), "kafka.topic must be set");
        check(!self.kafka.group_id.trim().is_empty(), "kafka.group_id must be set");
        check(self.kafka.dlq_topic != self.kafka.topic, "kafka.dlq_topic must differ from kafka.topic");
        check(self.kafka.epoch_ms >= 1, "kafka.epoch_ms must be >= 1");
        check(self.kafka.poll_ms >= 1, "kafka.poll_ms must be >= 1");
        check(self.fetch.concurrency >= 1, "fetch.concurrency must be >= 1");
        check(self.kafka.request_timeout_ms >= 1, "kafka.request_timeout_ms must be >= 1");
        check(self.kafka.max_message_bytes >= 1024, "kafka.max_message_bytes must be >= 1024");
        check(self.kafka.dlq_payload_bytes <= 512 << 10, "kafka.dlq_payload_bytes must be <= 512 KiB");
        check(self.caption.fine_fps > 0.0, "caption.fine_fps must be > 0");
        check(self.caption.max_fine_frames >= 1, "caption.max_fine_frames must be >= 1");
        check(self.caption.vlm.concurrency >= 1, "caption.vlm.concurrency must be >= 1");
        check(self.caption.vlm.timeout_s > 0.0, "caption.vlm.timeout_s must be > 0");
        let uses = |backend| self.caption.coarse == backend || self.caption.fine == backend;
        check(
            !uses(CaptionBackend::VlmHttp) || !self.caption.vlm.base_url.is_empty(),
            "caption.vlm.base_url must be set",
        );
        check(
            !uses(CaptionBackend::Tags) || self.score.similarity != SimilarityModel::None,
            "caption = \"tags\" needs the score model: set score.similarity and score.weights",
        );
        check(self.score.frames >= 1, "score.frames must be >= 1");
        check(self.score.batch_size >= 1, "score.batch_size must be >= 1");
        check(
            self.score.similarity == SimilarityModel::None || !self.score.weights.is_empty(),
            "score.weights must be set when score.similarity is not \"none\"",
        );
        check(
            self.score.aesthetic_weights.is_empty() || !self.score.aesthetic_clip_weights.is_empty(),
            "score.aesthetic_clip_weights must be set with score.aesthetic_weights",
        );
        problems.extend(self.train.problems());
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(problems)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Detector;

    fn keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Table(table) = value {
            for (k, v) in table {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if v.is_table() { keys(v, &path, out) } else { out.push(path) }
            }
        }
    }

    #[test]
    fn embedded_defaults_equal_rust_defaults_and_list_every_key() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).expect("default.toml parses");
        assert_eq!(parsed, Config::default());
        let documented: Value = toml::from_str(DEFAULT_TOML).expect("parses");
        let derived = Value::try_from(Config::default()).expect("serializes");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keys(&documented, "", &mut a);
        keys(&derived, "", &mut b);
        a.sort();
        b.sort();
        assert_eq!(a, b, "default.toml documents exactly the config keys");
    }

    #[test]
    fn layers_apply_in_order() {
        let file = "[scene]\nthreshold = 30.0\ndetector = \"stride\"\n";
        let env = vec![
            ("CLIPSTREAM__SCENE__THRESHOLD".to_string(), "31".to_string()),
            ("CLIPSTREAM__FETCH__ALLOW_HOSTS".to_string(), "[\"127.0.0.1\"]".to_string()),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let sets = vec!["frames.count=4".to_string(), "cut.mode=precise".to_string()];
        let cfg = load(Some(file), env, &sets).expect("valid");
        assert_eq!(cfg.scene.threshold, 31.0);
        assert_eq!(cfg.scene.detector, Detector::Stride);
        assert_eq!(cfg.fetch.allow_hosts, vec!["127.0.0.1".to_string()]);
        assert_eq!(cfg.frames.count, 4);
        assert_eq!(cfg.cut.mode, CutMode::Precise);
        assert_eq!(cfg.probe, Default::default());
    }

    #[test]
    fn typos_and_bad_values_are_refused_with_all_problems() {
        assert!(matches!(load(Some("[scene]\nthreshhold = 3\n"), [], &[]), Err(ConfigError::Shape(_))));
        assert!(matches!(load(None, [], &["nodot=1".to_string()]), Err(ConfigError::Override(_))));
        let err =
            load(None, [], &["frames.count=0".to_string(), "scene.threshold=-1".to_string()]).expect_err("invalid");
        let ConfigError::Invalid(problems) = err else { panic!("expected Invalid") };
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
