//! The dataset tools around the pipeline: `export` (released InternVid layout), `hydrate` (released metadata to
//! shards), `subset` (DIV / FLT / aesthetics / random), `icl` (interleaved video-text sequences) and `stats`
//! (histograms, actionness, plots). All stream their input in bounded memory; see each module for what it keeps.

pub mod export;
pub mod group;
pub mod histogram;
pub mod hydrate;
pub mod icl;
pub mod stats;
pub mod subset;
