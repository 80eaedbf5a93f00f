//! The Prometheus `/metrics` endpoint: a small HTTP server on its own thread serving the default registry.

use std::net::SocketAddr;

use anyhow::Context;
use prometheus::{Encoder, TextEncoder};

/// [`serve`], except that the default address (`metrics.listen`'s default) falls back to a free port when taken
/// (a second job on the same host), with a warning; any other address must be free.
pub fn serve_or_any_port(listen: &str) -> anyhow::Result<SocketAddr> {
    let default = clipstream_schemas::config::MetricsConfig::default().listen;
    match serve(listen) {
        Err(error) if listen == default => {
            tracing::warn!(error = %format!("{error:#}"), "default metrics port taken; serving on a free port instead");
            serve("127.0.0.1:0")
        }
        served => served,
    }
}

/// Starts serving `/metrics` on `listen` (e.g. `127.0.0.1:9898`; port 0 picks one) and returns the bound address.
pub fn serve(listen: &str) -> anyhow::Result<SocketAddr> {
    let server = tiny_http::Server::http(listen)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("binding the metrics endpoint on {listen}"))?;
    let addr = server.server_addr().to_ip().context("metrics endpoint is not an IP socket")?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = match request.url() {
                    "/metrics" => {
                        let mut body = Vec::new();
                        match TextEncoder::new().encode(&prometheus::gather(), &mut body) {
                            Ok(()) => tiny_http::Response::from_data(body).with_header(
                                tiny_http::Header::from_bytes(&b"Content-Type"[..], TextEncoder::new().format_type())
                                    .expect("static header is valid"),
                            ),
                            Err(e) => tiny_http::Response::from_string(e.to_string()).with_status_code(500),
                        }
                    }
                    _ => tiny_http::Response::from_string("see /metrics\n").with_status_code(404),
                };
                if let Err(e) = request.respond(response) {
                    tracing::debug!("metrics client went away: {e}");
                }
            }
        })
        .context("starting the metrics thread")?;
    Ok(addr)
}
