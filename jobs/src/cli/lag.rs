//! `clipstream lag`: the consumer group's committed offsets, high watermarks and lag per partition of the `kafka`
//! section's topic, as JSON (like `kafka-consumer-groups --describe`).

use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;

use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct LagArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

impl LagArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = self.config.load()?.kafka;
        let lags = clipstream_kafka::group_lag(&config)
            .with_context(|| format!("group {} on {}", config.group_id, config.topic))?;
        let total: i64 = lags.iter().map(|l| l.lag).sum();
        let report = serde_json::json!({
            "topic": config.topic, "group": config.group_id, "total_lag": total, "partitions": lags,
        });
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
