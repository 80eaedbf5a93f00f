//! `clipstream eval`: zero-shot text-to-video and video-to-text retrieval (R@1/5/10, median rank) and zero-shot
//! classification (top1/top5/AVG over the clips' categories) of a training checkpoint on held-out shards; prints a
//! table and writes JSON.

use std::process::ExitCode;

use clipstream_jobs::cli::eval::EvalArgs;
use clipstream_jobs::cli::out::outln;
use clipstream_train::eval::evaluate;

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let report = evaluate(&args.checkpoints, &args.step_dir, &args.data, args.limit, args.batch_size)?;
    outln!("{} on {} ({} clips of {} videos)", report.checkpoint, report.data, report.clips, report.videos)?;
    outln!("{:<6}{:>8}{:>8}{:>8}{:>8}", "", "R@1", "R@5", "R@10", "MdR")?;
    for (name, r) in [("T2V", &report.t2v), ("V2T", &report.v2t), ("T2V=c", &report.t2v_same_caption)] {
        outln!("{name:<6}{:>8.3}{:>8.3}{:>8.3}{:>8.1}", r.r1, r.r5, r.r10, r.median_rank)?;
    }
    let ceiling = &report.ceiling;
    outln!(
        "(T2V=c: any clip with the query's caption counts) ceiling: T2V R@1 {:.3} for an oracle that knows \
         the captions; {:.3} of the clips have a caption of their own",
        ceiling.t2v_r1,
        ceiling.unique_captions
    )?;
    if !report.confusions.is_empty() {
        outln!("most frequent T2V misses (query words -> words of the clip ranked first):")?;
        for c in &report.confusions {
            outln!("  {:>5}  {} -> {}", c.count, c.wanted, c.got)?;
        }
    }
    if let Some(c) = &report.classification {
        outln!(
            "zero-shot classification over {} classes ({} clips): top1 {:.3} top5 {:.3} AVG {:.3}",
            c.classes.len(),
            c.clips,
            c.top1,
            c.top5,
            c.avg
        )?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
