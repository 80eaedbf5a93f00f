//! `GroupBy`: an external group-by of rows by video for inputs that need not be sorted by video and need not fit
//! in memory (the released InternVid metadata has 234M rows). Rows are spilled as JSON lines into `buckets`
//! temporary files by a hash of the video id; then each bucket is read back alone and grouped in memory. Peak
//! memory is one bucket (about input size / buckets); temporary disk is about the input size.
//!
//! Groups come out bucket by bucket, and in id order inside a bucket; rows of a group keep their input order.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

use clipstream_schemas::hash::id_hash;

/// Most buckets (open files) one group-by uses.
pub const MAX_BUCKETS: usize = 512;

/// Bucket count for an input of `input_bytes` so that one bucket holds about `bucket_bytes` of input.
pub fn buckets_for(input_bytes: u64, bucket_bytes: u64) -> usize {
    usize::try_from(input_bytes.div_ceil(bucket_bytes.max(1))).unwrap_or(MAX_BUCKETS).clamp(1, MAX_BUCKETS)
}

/// Collects rows; [`GroupBy::finish`] returns the groups.
pub struct GroupBy<T> {
    dir: tempfile::TempDir,
    writers: Vec<BufWriter<File>>,
    rows: u64,
    _rows: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> GroupBy<T> {
    /// A group-by spilling into `buckets` files under `temp_dir` (the system temp directory when empty).
    pub fn new(buckets: usize, temp_dir: &Path) -> anyhow::Result<Self> {
        let base = if temp_dir.as_os_str().is_empty() { std::env::temp_dir() } else { temp_dir.to_path_buf() };
        let dir = tempfile::Builder::new()
            .prefix("clipstream-group-")
            .tempdir_in(&base)
            .with_context(|| format!("creating a spill folder in {}", base.display()))?;
        let writers = (0..buckets.clamp(1, MAX_BUCKETS))
            .map(|i| {
                let path = bucket_path(dir.path(), i);
                File::create(&path).map(BufWriter::new).with_context(|| format!("creating {}", path.display()))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { dir, writers, rows: 0, _rows: PhantomData })
    }

    /// Adds one row of group `id`.
    pub fn push(&mut self, id: &str, row: &T) -> anyhow::Result<()> {
        let bucket = (id_hash(id) % self.writers.len() as u64) as usize;
        let writer = &mut self.writers[bucket];
        serde_json::to_writer(&mut *writer, &(id, row)).context("spilling a row")?;
        writer.write_all(b"\n").context("spilling a row")?;
        self.rows += 1;
        Ok(())
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the spill files and returns the groups, read back one bucket at a time.
    pub fn finish(self) -> anyhow::Result<Groups<T>> {
        let buckets = self.writers.len();
        for mut writer in self.writers {
            writer.flush().context("flushing a spill file")?;
        }
        Ok(Groups { dir: self.dir, next_bucket: 0, buckets, current: BTreeMap::new().into_iter() })
    }
}

fn bucket_path(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("{bucket:04}.jsonl"))
}

/// The groups of a [`GroupBy`]: `(id, rows)` pairs.
pub struct Groups<T> {
    dir: tempfile::TempDir,
    next_bucket: usize,
    buckets: usize,
    current: std::collections::btree_map::IntoIter<String, Vec<T>>,
}

impl<T: DeserializeOwned> Groups<T> {
    fn load(&self, bucket: usize) -> anyhow::Result<BTreeMap<String, Vec<T>>> {
        let path = bucket_path(self.dir.path(), bucket);
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut groups: BTreeMap<String, Vec<T>> = BTreeMap::new();
        for line in BufReader::new(file).lines() {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            let (id, row): (String, T) =
                serde_json::from_str(&line).with_context(|| format!("reading back a row of {}", path.display()))?;
            groups.entry(id).or_default().push(row);
        }
        // The bucket's rows are in memory now; its file is no longer needed.
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        Ok(groups)
    }
}

impl<T: DeserializeOwned> Iterator for Groups<T> {
    type Item = anyhow::Result<(String, Vec<T>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(group) = self.current.next() {
                return Some(Ok(group));
            }
            if self.next_bucket >= self.buckets {
                return None;
            }
            let bucket = self.next_bucket;
            self.next_bucket += 1;
            match self.load(bucket) {
                Ok(groups) => self.current = groups.into_iter(),
                Err(e) => {
                    self.next_bucket = self.buckets;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_interleaved_rows_keeping_their_order() {
        let mut group = GroupBy::<u32>::new(3, Path::new("")).expect("group-by");
        let ids = ["b", "a", "c", "a", "b", "d", "a"];
        for (i, id) in ids.iter().enumerate() {
            group.push(id, &(i as u32)).expect("push");
        }
        assert_eq!(group.rows(), 7);
        let mut groups: Vec<(String, Vec<u32>)> = group.finish().expect("finish").map(|g| g.expect("group")).collect();
        groups.sort();
        assert_eq!(
            groups,
            vec![
                ("a".to_string(), vec![1, 3, 6]),
                ("b".to_string(), vec![0, 4]),
                ("c".to_string(), vec![2]),
                ("d".to_string(), vec![5]),
            ]
        );
    }

    #[test]
    fn bucket_count_follows_input_size() {
        assert_eq!(buckets_for(0, 100), 1);
        assert_eq!(buckets_for(250, 100), 3);
        assert_eq!(buckets_for(u64::MAX, 1), MAX_BUCKETS);
    }
}
