//! `clipstream-torch`: the clipstream command line with the model code linked in. `clipstream` hands it the
//! commands that run a model (see `clipstream_jobs::torch`); it runs those itself and every other command exactly as
//! `clipstream` does.

#[allow(unsafe_code)]
mod allocator;
mod convert;
mod eval;
mod models;
mod train;

use std::process::ExitCode;

use clap::Parser;
use clipstream_jobs::cli::{Cli, Command, exit_code};

fn main() -> ExitCode {
    clipstream_jobs::torch::register(models::load);
    let cli = Cli::parse();
    clipstream_jobs::logging::init(cli.verbose);
    tracing::debug!(allocator = allocator::version(), "clipstream-torch");
    exit_code(match cli.command {
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Convert(args) => convert::run(&args),
        command => command.run(),
    })
}
