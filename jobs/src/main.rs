//! The clipstream command-line entry point: parses the subcommand and hands over to its job.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = clipstream_jobs::cli::Cli::parse();
    clipstream_jobs::logging::init(cli.verbose);
    match cli.command.run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
