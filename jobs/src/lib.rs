//! Job libraries of the clipstream binary.
