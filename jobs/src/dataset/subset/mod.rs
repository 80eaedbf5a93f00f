//! `clipstream subset`: DIV, FLT, aesthetics and random subsets of clip metadata, written as a list of clips
//! (parquet or jsonl) with a summary, and optionally as new shards holding only the selected clips.

mod reservoir;
mod reshard;
mod select;
mod threshold;

#[cfg(test)]
mod tests;

pub use reservoir::{Reservoir, reservoir_key};
pub use reshard::{ReshardSummary, Resharder};
pub use select::{SubsetMode, SubsetOptions, SubsetSummary, subset};
pub use threshold::TopFraction;
