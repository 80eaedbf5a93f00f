//! Collective communication for clipstream's data-parallel trainer, on libtorch's own engine: c10d's `TCPStore`
//! for the rendezvous and `ProcessGroupGloo` (CPU tensors) or `ProcessGroupNCCL` (CUDA tensors) for the
//! collectives, reached through a small C++ shim compiled against the libtorch that tch links (tch does not wrap
//! c10d). [`Rendezvous::from_env`] reads torchrun's variables; [`ProcessGroup`] is the safe handle. FFI `unsafe`
//! stays in `ffi` and `group`.

mod error;
#[allow(unsafe_code)]
mod ffi;
#[allow(unsafe_code)]
mod group;
mod rendezvous;

pub use error::DistError;
pub use group::{GradSync, ProcessGroup, Work};
pub use rendezvous::{Backend, Rendezvous};
