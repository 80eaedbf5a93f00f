//! `clipstream train`: the run behind the flags of `clipstream_jobs::cli::train`; prints the summary and plots
//! the loss curve beside the log.

use std::process::ExitCode;

use clipstream_jobs::cli::out::outln;
use clipstream_jobs::cli::train::TrainArgs;
use clipstream_jobs::dataset::stats::plot::plot_line;
use clipstream_train::trainer::train;

pub fn run(args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let config = args.train_config()?;
    if !args.metrics_listen.is_empty() {
        let addr = clipstream_jobs::metrics_server::serve(&args.metrics_listen)?;
        tracing::info!(%addr, "serving /metrics");
    }
    let mut summary = train(&config, args.resume, &args.log)?;
    // Rank 0 of a data-parallel run writes the log; only it draws the curve beside it.
    if !summary.curve.is_empty() && summary.rank == 0 {
        let png = args.log.with_extension("png");
        plot_line(&png, "training loss (InfoNCE)", "step", "loss", &summary.curve)?;
        summary.loss_curve = Some(png.display().to_string());
    }
    outln!("{}", serde_json::to_string_pretty(&summary)?)?;
    Ok(ExitCode::SUCCESS)
}
