//! `clipstream check-config`: validates the layered configuration and prints it, or prints the defaults.

use std::process::ExitCode;

use crate::cli::out::out;
use clap::Args;
use clipstream_schemas::config::DEFAULT_TOML;

use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Print the embedded, documented defaults instead.
    #[arg(long)]
    print_defaults: bool,
}

impl CheckConfigArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.print_defaults {
            out!("{DEFAULT_TOML}")?;
            return Ok(ExitCode::SUCCESS);
        }
        let config = self.config.load()?;
        out!("{}", toml_text(&config)?)?;
        eprintln!("configuration is valid");
        Ok(ExitCode::SUCCESS)
    }
}

fn toml_text(config: &clipstream_schemas::Config) -> anyhow::Result<String> {
    Ok(toml::to_string(config)?)
}
