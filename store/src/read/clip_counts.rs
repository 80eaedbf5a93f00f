//! Clips per video of a dataset, from the shards' parquet files (two columns, no frames): the input of the DIV
//! epoch weights.

use std::collections::HashMap;

use crate::data_error::{Context, Result};
use crate::{Output, parquet_key};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::metadata::columns::required_text;

/// Rows decoded per parquet batch.
const BATCH_ROWS: usize = 8192;

/// For every video of `shards`, how many of its clips have a non-empty caption (the clips a [`super::ShardReader`]
/// can return), keyed by `video_key`. Fetches one parquet at a time.
pub fn captioned_clips_per_video(output: &Output, shards: &[String]) -> Result<HashMap<String, u32>> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for shard in shards {
        count_shard(output, shard, &mut counts)
            .with_context(|| format!("counting the clips of shard {shard} in {}", output.url()))?;
    }
    Ok(counts)
}

fn count_shard(output: &Output, shard: &str, counts: &mut HashMap<String, u32>) -> Result<()> {
    let bytes = output.get(&parquet_key(shard))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).context("reading the parquet footer")?;
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.name().as_str(), "video_key" | "caption"))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().context("opening the parquet")?;
    for batch in reader {
        let batch = batch.context("decoding rows")?;
        let videos = required_text(&batch, "video_key")?;
        let captions = required_text(&batch, "caption")?;
        for row in 0..batch.num_rows() {
            if let Some(video) = videos.get(row)
                && captions.get(row).is_some_and(|c| !c.trim().is_empty())
            {
                *counts.entry(video.to_string()).or_default() += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parquet::records_parquet;
    use clipstream_schemas::ClipRecord;

    use super::*;
    use crate::read::samples::tests::record;

    #[test]
    fn counts_captioned_clips_of_each_video() {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        let records: Vec<ClipRecord> = vec![
            record("va", 0, Some("a"), 1),
            record("va", 1, Some("b"), 1),
            record("va", 2, None, 1),
            record("vb", 0, Some(" "), 1),
            record("vc", 0, Some("c"), 1),
        ];
        output.put(&parquet_key("s1"), records_parquet("s1", &records).unwrap()).unwrap();
        output.put(&parquet_key("s2"), records_parquet("s2", &records[4..]).unwrap()).unwrap();
        let counts = captioned_clips_per_video(&output, &["s1".into(), "s2".into()]).unwrap();
        assert_eq!(counts, HashMap::from([("va".to_string(), 2), ("vc".to_string(), 2)]));
        assert!(captioned_clips_per_video(&output, &["missing".into()]).is_err());
    }
}
