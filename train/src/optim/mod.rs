//! The optimiser side of training, independent of the data: AdamW with CLIP's no-decay rules and a savable state, and the
//! cosine learning-rate schedule with linear warmup.

mod adamw;
mod schedule;

pub use adamw::{AdamW, AdamWConfig, decays};
pub use schedule::cosine_with_warmup;
