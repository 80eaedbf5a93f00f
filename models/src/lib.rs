//! Model code of clipstream, in tch: the CLIP byte-level BPE tokenizer, the CLIP image and text towers, ViCLIP
//! (space-time ViT video encoder + CLIP text tower + learned temperature), the LAION aesthetic MLP and the
//! symmetric InfoNCE loss. Parameter names follow the OpenAI/open_clip and released ViCLIP state dicts, and weights
//! load from safetensors with a name-by-name check. Knows nothing of Kafka, S3 or timely.

pub mod aesthetic;
pub mod arch;
pub mod clip;
pub mod embedder;
pub mod flops;
pub mod loss;
pub mod nn;
pub mod preprocess;
pub mod tokenizer;
pub mod viclip;
pub mod weights;

pub use arch::Arch;
pub use embedder::VideoTextModel;
pub use tokenizer::Tokenizer;
