//! `clipstream export`: a dataset's clip metadata in the released InternVid layout (jsonl), or as parquet/csv with
//! the same columns.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::dataset::export::export;
use clipstream_store::metadata::write::RowFormat;

/// Output layouts of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// jsonl with exactly the released columns (YoutubeID, Start_timestamp, End_timestamp, Caption, UMT_Score,
    /// Aesthetic_Score, + Lang, Type when known).
    Internvid,
    /// The same columns as parquet.
    Parquet,
    /// The same columns as csv with a header.
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Dataset root (directory, file://, s3://bucket/prefix, ...) or a metadata file (clip parquet, InternVid
    /// jsonl/parquet).
    #[arg(long, short = 'i')]
    input: String,
    /// File to write (written as FILE.partial, renamed when complete).
    #[arg(long, short = 'o')]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Internvid)]
    format: ExportFormat,
}

impl ExportArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let format = match self.format {
            ExportFormat::Internvid => RowFormat::InternVidJsonl,
            ExportFormat::Parquet => RowFormat::InternVidParquet,
            ExportFormat::Csv => RowFormat::InternVidCsv,
        };
        let summary = export(&self.input, format, &self.out).with_context(|| format!("exporting {}", self.input))?;
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
