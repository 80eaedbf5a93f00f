//! Decoding memory does not grow with video length: `clipstream scenes` on an hour of real video (demo.mp4 looped,
//! ~140 MB of mp4) stays far below the size of the file. Reusing one packet for `av_read_frame` used to keep every
//! compressed byte (peak RSS grew by the file's size).

use std::process::Command;

use clipstream_tests::{binary, python, real_video, repo_root, run_ok};

#[test]
fn scene_detection_of_an_hour_of_video_keeps_memory_flat() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let long = dir.path().join("hour.mp4");
    let tools = repo_root().join("tests/python");
    run_ok(Command::new(python()?).arg(tools.join("loop_video.py")).arg(real_video("demo.mp4")?).arg(&long).arg("60"))?;
    let file_mib = std::fs::metadata(&long)?.len() >> 20;
    assert!(file_mib >= 100, "the looped video is only {file_mib} MiB");
    let out = run_ok(
        Command::new(python()?)
            .arg(tools.join("peak_rss.py"))
            .arg(binary())
            .args(["scenes", "--threads", "1"])
            .arg(&long),
    )?;
    let peak_mib = String::from_utf8(out.stdout)?.trim().parse::<u64>()? >> 10;
    // About 50 MiB whatever the length (the binary, FFmpeg, one decoded frame); with the leak it was the file's
    // size more.
    assert!(peak_mib < file_mib, "peak RSS {peak_mib} MiB for a {file_mib} MiB video");
    Ok(())
}
