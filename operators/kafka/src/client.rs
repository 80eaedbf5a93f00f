//! The librdkafka client configuration shared by consumers and producers.

use clipstream_schemas::config::KafkaConfig;
use rdkafka::ClientConfig;

/// `bootstrap.servers` plus the pass-through properties of `kafka.client`.
pub(crate) fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers);
    for (key, value) in &config.client {
        client.set(key, value);
    }
    client
}
