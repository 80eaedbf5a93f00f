//! The clipstream command-line entry point: parses the subcommand and hands over to its job. This binary does not
//! link libtorch; commands that run a model continue in `clipstream-torch` (see `clipstream_jobs::torch`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = clipstream_jobs::cli::Cli::parse();
    clipstream_jobs::logging::init(cli.verbose);
    clipstream_jobs::cli::exit_code(cli.command.run())
}
