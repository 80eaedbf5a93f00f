//! What can go wrong in a rendezvous or a collective.

/// A failed rendezvous, collective or launch variable.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error("launch variable {name}={value:?} is not valid: {reason}")]
    Variable { name: &'static str, value: String, reason: String },
    #[error(
        "{name} is set but {missing} is not: set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT together (torchrun does)"
    )]
    Incomplete { name: &'static str, missing: &'static str },
    #[error("rendezvous of rank {rank} of {world} at {addr}:{port} ({backend}) failed: {message}")]
    Rendezvous { rank: usize, world: usize, addr: String, port: u16, backend: &'static str, message: String },
    #[error("{op} failed on rank {rank} (a peer died or timed out?): {message}")]
    Collective { op: &'static str, rank: usize, message: String },
    #[error("{op} needs {expected}, got {got}")]
    Shape { op: &'static str, expected: String, got: String },
}
