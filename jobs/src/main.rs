//! The clipstream command-line entry point: parses the subcommand and hands over to its job.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = clipstream_jobs::cli::Cli::parse();
    clipstream_jobs::logging::init(cli.verbose);
    match cli.command.run() {
        Ok(code) => code,
        // The reader of stdout went away (`clipstream scenes | head`): it has what it wanted.
        Err(error) if clipstream_jobs::cli::out::is_stdout_closed(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
