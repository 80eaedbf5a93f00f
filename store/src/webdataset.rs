//! The entry grammar of a shard tar (webdataset layout): per clip, entries named `{key}.{ext}`, where the clip key
//! has no `.`: `{key}.json` (the full `ClipRecord`), `{key}.jpg` (middle frame), `{key}.f{i}.jpg` (sampled frame
//! `i`), `{key}.txt` (caption), `{key}.mp4` (the cut clip). The shard writer names entries here, the shard reader
//! and reshard parse them here.

/// What an entry of a clip holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `{key}.json`: the clip's `ClipRecord`.
    Record,
    /// `{key}.jpg`: the middle frame.
    Middle,
    /// `{key}.f{i}.jpg`: sampled frame `i`.
    Frame(u32),
    /// `{key}.txt`: the caption.
    Caption,
    /// `{key}.mp4`: the clip's video.
    Mp4,
}

impl Entry {
    /// The tar entry name of this part of clip `key`.
    pub fn name(self, key: &str) -> String {
        match self {
            Entry::Record => format!("{key}.json"),
            Entry::Middle => format!("{key}.jpg"),
            Entry::Frame(i) => format!("{key}.f{i}.jpg"),
            Entry::Caption => format!("{key}.txt"),
            Entry::Mp4 => format!("{key}.mp4"),
        }
    }

    /// Splits a tar entry name into the clip key and what the entry is; `None` for an extension this grammar does
    /// not know (other tools may add entries; readers skip them). A name without `.` is all key.
    pub fn parse(name: &str) -> (&str, Option<Entry>) {
        let (key, ext) = name.split_once('.').unwrap_or((name, ""));
        let entry = match ext {
            "json" => Some(Entry::Record),
            "jpg" => Some(Entry::Middle),
            "txt" => Some(Entry::Caption),
            "mp4" => Some(Entry::Mp4),
            _ => ext
                .strip_prefix('f')
                .and_then(|rest| rest.strip_suffix(".jpg"))
                .and_then(|i| i.parse().ok())
                .map(Entry::Frame),
        };
        (key, entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_parses_back_to_itself() {
        for entry in [Entry::Record, Entry::Middle, Entry::Frame(0), Entry::Frame(17), Entry::Caption, Entry::Mp4] {
            let name = entry.name("vid_0003");
            assert_eq!(Entry::parse(&name), ("vid_0003", Some(entry)), "{name}");
        }
    }

    #[test]
    fn unknown_extensions_are_not_entries() {
        for name in ["a_0001.png", "a_0001.fx.jpg", "a_0001.f.jpg", "a_0001.f-1.jpg", "a_0001"] {
            assert_eq!(Entry::parse(name).1, None, "{name}");
        }
        assert_eq!(Entry::parse("a_0001.f2.jpg").0, "a_0001");
    }
}
