//! Building blocks shared by the CLIP towers and ViCLIP, named like the OpenAI/open_clip state dicts.

mod drop_path;
mod normalize;
mod transformer;

pub use drop_path::drop_path;
pub use normalize::normalize;
pub(crate) use transformer::to_kind_of;
pub use transformer::{Activation, Transformer, TransformerConfig};
