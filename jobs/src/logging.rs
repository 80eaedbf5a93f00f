//! Tracing setup: `RUST_LOG` wins; otherwise `info` (or `debug` with `-v`) for clipstream crates, `warn` elsewhere.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber writing to stderr (colours only on a terminal).
pub fn init(verbose: bool) {
    let default = if verbose { "warn,clipstream=debug" } else { "warn,clipstream=info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
