//! Clip rows of a committed dataset: every committed shard, in shard-name order, its parquet fetched and
//! decoded one at a time (memory: one shard's parquet). Only committed shards are read ([`committed_shards`]).

use crate::data_error::{Context, DataError, Result};
use crate::listing::committed_shards;
use crate::{Output, parquet_key};
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use super::clip_parquet::{clip_rows, open_clip_parquet};
use crate::metadata::row::ClipRow;

/// Streams the clip rows of every committed shard.
pub struct DatasetRows {
    output: Output,
    shards: std::vec::IntoIter<String>,
    reader: Option<(String, ParquetRecordBatchReader)>,
    pending: std::vec::IntoIter<ClipRow>,
    with_text: bool,
}

impl DatasetRows {
    pub fn open(output: Output, with_text: bool) -> Result<Self> {
        let shards = committed_shards(&output)?.into_iter();
        Ok(Self { output, shards, reader: None, pending: Vec::new().into_iter(), with_text })
    }

    /// The next batch of rows, `None` after the last shard.
    fn next_batch(&mut self) -> Option<Result<Vec<ClipRow>>> {
        loop {
            if let Some((shard, reader)) = &mut self.reader {
                match reader.next() {
                    Some(batch) => {
                        let shard = shard.clone();
                        return Some(
                            batch
                                .context("decoding rows")
                                .and_then(|b| clip_rows(&b))
                                .with_context(|| format!("reading the parquet of shard {shard}")),
                        );
                    }
                    None => self.reader = None,
                }
            }
            let shard = self.shards.next()?;
            let opened = self
                .output
                .get(&parquet_key(&shard))
                .map_err(DataError::from)
                .and_then(|bytes| open_clip_parquet(bytes, self.with_text))
                .with_context(|| format!("opening the parquet of shard {shard}"));
            match opened {
                Ok(reader) => self.reader = Some((shard, reader)),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Iterator for DatasetRows {
    type Item = Result<ClipRow>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.pending.next() {
                return Some(Ok(row));
            }
            match self.next_batch()? {
                Ok(rows) => self.pending = rows.into_iter(),
                Err(e) => {
                    self.shards = Vec::new().into_iter();
                    self.reader = None;
                    return Some(Err(e));
                }
            }
        }
    }
}
