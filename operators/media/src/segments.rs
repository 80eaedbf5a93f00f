//! Timed annotations in a request's metadata: `"segments": [{"start_s", "end_s", "caption", "category"}, ...]` (subtitles,
//! timed descriptions, or `clipstream synth`'s per-shot ground truth). A clip takes the text fields of the segment
//! that overlaps it longest; without segments the request's own `caption` / `category` apply.

use std::collections::BTreeMap;

use serde_json::Value;

/// The `field` of the segment overlapping `[start_s, end_s)` the longest, if any overlaps.
pub fn segment_text(metadata: &BTreeMap<String, Value>, start_s: f64, end_s: f64, field: &str) -> Option<String> {
    let segments = metadata.get("segments")?.as_array()?;
    segments
        .iter()
        .filter_map(|segment| {
            let (from, to) = (segment.get("start_s")?.as_f64()?, segment.get("end_s")?.as_f64()?);
            let overlap = to.min(end_s) - from.max(start_s);
            let text = segment.get(field)?.as_str()?;
            (overlap > 0.0).then(|| (overlap, text.to_string()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_overlap_wins() {
        let metadata = serde_json::json!({"segments": [
            {"start_s": 0.0, "end_s": 2.0, "caption": "first", "category": "a"},
            {"start_s": 2.0, "end_s": 5.0, "caption": "second"},
            {"start_s": 5.0, "end_s": 6.0, "caption": 7},
        ]});
        let map: BTreeMap<String, Value> = metadata.as_object().expect("object").clone().into_iter().collect();
        let map = &map;
        assert_eq!(segment_text(map, 1.5, 4.0, "caption").as_deref(), Some("second"));
        assert_eq!(segment_text(map, 0.0, 2.1, "caption").as_deref(), Some("first"));
        assert_eq!(segment_text(map, 0.0, 1.0, "category").as_deref(), Some("a"));
        assert_eq!(segment_text(map, 2.5, 3.0, "category"), None);
        assert_eq!(segment_text(map, 5.2, 5.8, "caption"), None, "not a string");
        assert_eq!(segment_text(map, 9.0, 10.0, "caption"), None);
        assert_eq!(segment_text(&BTreeMap::new(), 0.0, 1.0, "caption"), None);
    }
}
