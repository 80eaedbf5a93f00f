//! Model code of clipstream. For now the CLIP byte-level BPE tokenizer ([`Tokenizer`]); the tch CLIP towers,
//! ViCLIP, the aesthetic predictor and the losses come later (issue 5). Knows nothing of Kafka, S3 or timely.

pub mod tokenizer;

pub use tokenizer::Tokenizer;
