//! The clipstream command-line entry point.

fn main() {}
