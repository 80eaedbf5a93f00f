//! Routing by video: every clip of one video must be handled by one worker so that it lands in one shard.
//! The hash is FNV-1a (stable across processes and builds, unlike `DefaultHasher`).

use clipstream_schemas::VideoRequest;
use timely::ExchangeData;
use timely::dataflow::Stream;
use timely::dataflow::operators::Exchange;
use timely::progress::Timestamp;

/// A stable 64-bit FNV-1a hash of a video key.
pub fn route_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Extension trait sending each request to the worker that owns its video.
pub trait RouteByVideo<'scope, T: Timestamp> {
    /// Exchanges requests by the hash of their video id.
    fn route_by_video(self) -> Stream<'scope, T, Vec<VideoRequest>>;
}

impl<'scope, T: Timestamp + ExchangeData> RouteByVideo<'scope, T> for Stream<'scope, T, Vec<VideoRequest>> {
    fn route_by_video(self) -> Stream<'scope, T, Vec<VideoRequest>> {
        self.exchange(|request: &VideoRequest| route_hash(&request.raw_id()))
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
