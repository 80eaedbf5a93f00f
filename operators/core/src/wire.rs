//! `JsonWire`: records crossing process boundaries in a timely cluster travel as JSON text. timely encodes
//! exchanged data with bincode, which cannot decode the records' serde shapes (fields skipped when empty,
//! free-form `serde_json::Value` metadata); JSON round-trips them exactly.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that serialises as one JSON string.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonWire<T>(pub T);

impl<T: Serialize> Serialize for JsonWire<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(S::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonWire<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str(&text).map(JsonWire).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::{ErrorRecord, Stage, VideoRequest};

    use super::*;

    #[test]
    fn records_survive_bincode_only_inside_json_wire() {
        let mut request = VideoRequest::new("s3://b/v.mp4");
        request.metadata.insert("title".into(), serde_json::json!({"nested": [1, "x"]}));
        let items: Vec<Result<VideoRequest, ErrorRecord>> =
            vec![Ok(request), Err(ErrorRecord::from_parts(Stage::Source, "", "u", "source.bad_row", "line 1: bad"))];
        for item in items {
            let plain = bincode::serialize(&item).expect("serialises");
            assert!(bincode::deserialize::<Result<VideoRequest, ErrorRecord>>(&plain).is_err(), "bincode alone fails");
            let wired = bincode::serialize(&JsonWire(item.clone())).expect("serialises");
            let back: JsonWire<Result<VideoRequest, ErrorRecord>> = bincode::deserialize(&wired).expect("decodes");
            assert_eq!(back.0, item);
        }
    }
}
