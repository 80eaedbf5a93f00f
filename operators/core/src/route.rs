//! Routing by video: every clip of one video must be handled by one worker so that it lands in one shard.
//! The hash is FNV-1a (stable across processes and builds, unlike `DefaultHasher`). Items cross processes as
//! [`JsonWire`].

use clipstream_schemas::{ErrorRecord, VideoRequest};
use timely::ExchangeData;
use timely::dataflow::Stream;
use timely::dataflow::operators::core::{Exchange, Map};
use timely::progress::Timestamp;

use crate::wire::JsonWire;

/// A source row: a request, or the error record of an unusable row.
pub type SourceItem = Result<VideoRequest, ErrorRecord>;

/// A stable 64-bit hash of a video key (FNV-1a).
pub fn route_hash(key: &str) -> u64 {
    clipstream_schemas::hash::fnv1a64(key.as_bytes())
}

/// The route of a source row: its video id, or the url of a row that has none.
pub fn item_route(item: &SourceItem) -> u64 {
    match item {
        // By key: two ids with one key (a safe id equal to an unsafe id's hashed key) meet on one worker, which
        // refuses the second instead of writing two videos under one key.
        Ok(request) => route_hash(&request.key().unwrap_or_else(|_| request.raw_id())),
        Err(record) => route_hash(&record.url),
    }
}

/// Extension trait sending each source row to the worker that owns its video, in this process or another.
pub trait RouteByVideo<'scope, T: Timestamp> {
    /// Exchanges rows by [`item_route`].
    fn route_by_video(self) -> Stream<'scope, T, Vec<SourceItem>>;
}

impl<'scope, T: Timestamp + ExchangeData> RouteByVideo<'scope, T> for Stream<'scope, T, Vec<SourceItem>> {
    fn route_by_video(self) -> Stream<'scope, T, Vec<SourceItem>> {
        self.map::<Vec<JsonWire<SourceItem>>, _, _>(JsonWire)
            .exchange(|item: &JsonWire<SourceItem>| item_route(&item.0))
            .map::<Vec<SourceItem>, _, _>(|item: JsonWire<SourceItem>| item.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_spreads() {
        assert_eq!(route_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(route_hash("a"), 0xaf63_dc4c_8601_ec8c);
        let buckets = (0..1000).map(|i| route_hash(&format!("video-{i}")) % 4).fold([0; 4], |mut acc, b| {
            acc[b as usize] += 1;
            acc
        });
        assert!(buckets.iter().all(|&n| n > 200), "{buckets:?}");
    }
}
