//! Work per video is bounded whatever a file claims: an mp4 whose header says it is short but decodes past
//! `probe.max_duration_s`, a frame size over the limits, a shard upload that fails for good in file mode (the run
//! says so and exits 1, the videos have sink error records), and `clipstream scenes` on a FIFO (an error, no hang).

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use clipstream_tests::{clipstream, error_records, run_ok, synth};

/// Divides the 32-bit (version 0) durations of every `mvhd`, `tkhd` and `mdhd` box of an mp4 by `by`.
fn shrink_header_durations(mp4: &mut [u8], by: u32) -> usize {
    // Offset of the duration after the box type: version+flags, creation, modification, then timescale (mvhd,
    // mdhd) or track id + reserved (tkhd).
    let mut patched = 0;
    for (name, offset) in [(&b"mvhd"[..], 16), (&b"mdhd"[..], 16), (&b"tkhd"[..], 20)] {
        let mut at = 0;
        while let Some(found) = mp4[at..].windows(4).position(|w| w == name) {
            let start = at + found + 4;
            if mp4[start] == 0 {
                let field = start + offset;
                let duration = u32::from_be_bytes(mp4[field..field + 4].try_into().expect("4 bytes"));
                mp4[field..field + 4].copy_from_slice(&(duration / by).to_be_bytes());
                patched += 1;
            }
            at = start;
        }
    }
    patched
}

fn curate(list: &Path, output: &Path, sets: &[&str]) -> std::process::Command {
    let mut command = clipstream();
    command.args(["curate", "-w", "1", "--metrics-listen", "", "--input"]).arg(list).arg("--output").arg(output);
    for set in sets {
        command.args(["--set", set]);
    }
    command
}

#[test]
fn a_lying_header_and_a_huge_frame_do_not_buy_unbounded_work() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let truth = synth(&dir.path().join("synth"), 2, 23)?;
    let path = |i: usize| dir.path().join("synth").join(truth[i]["path"].as_str().unwrap_or_default());
    let seconds = |i: usize| truth[i]["frames"].as_f64().unwrap_or(0.0) / truth[i]["fps"].as_f64().unwrap_or(1.0);
    let lying = dir.path().join("lying.mp4");
    let mut bytes = fs::read(path(0))?;
    assert!(shrink_header_durations(&mut bytes, 4) >= 3, "mvhd, tkhd and mdhd found");
    fs::write(&lying, bytes)?;
    let list = dir.path().join("videos.txt");
    fs::write(&list, format!("{}\n", lying.display()))?;
    // The header now claims a quarter of the real length, under the limit; the frames go past it.
    let limit = format!("probe.max_duration_s={:.2}", seconds(0) * 0.6);
    let output = dir.path().join("out");
    run_ok(&mut curate(&list, &output, &[&limit, "probe.min_duration_s=0.1"]))?;
    let records = error_records(&output)?;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["code"], "probe.too_long", "{records:?}");
    assert!(records[0]["reason"].as_str().unwrap_or_default().contains("decoded frames"), "{records:?}");

    let width = truth[1]["width"].as_u64().context("width")?;
    fs::write(&list, format!("{}\n", path(1).display()))?;
    let output = dir.path().join("out-large");
    let max_width = format!("probe.max_width={}", width - 2);
    run_ok(&mut curate(&list, &output, &[&max_width]))?;
    let records = error_records(&output)?;
    assert_eq!(records.iter().map(|r| r["code"].as_str().unwrap_or_default()).collect::<Vec<_>>(), ["probe.too_large"]);
    Ok(())
}

#[test]
fn a_shard_that_cannot_be_uploaded_fails_the_run_loudly_in_file_mode() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let truth = synth(&dir.path().join("synth"), 2, 29)?;
    let list = dir.path().join("videos.txt");
    let lines: Vec<String> = truth
        .iter()
        .map(|v| dir.path().join("synth").join(v["path"].as_str().unwrap_or_default()).display().to_string())
        .collect();
    fs::write(&list, lines.join("\n"))?;
    let output = dir.path().join("out");
    let mut job = curate(&list, &output, &["sink.commit_attempts=2", "sink.commit_backoff_ms=10"]);
    let run = job.env("CLIPSTREAM_FAULT", "sink.finish_upload:always").output()?;
    let text = String::from_utf8_lossy(&run.stdout).to_string();
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("0 curated, 2 failed") && text.contains("OUTPUT FAILED: 2 videos"), "{text}");
    let records = error_records(&output)?;
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r["code"] == "sink.store" && r["retryable"] == true), "{records:?}");
    assert!(!output.join("manifests").exists() || fs::read_dir(output.join("manifests"))?.next().is_none());
    // The records are retryable, so a run against a working store curates both.
    let again = run_ok(&mut curate(&list, &output, &[]))?;
    assert!(String::from_utf8_lossy(&again.stdout).contains("2 curated, 0 failed"));
    Ok(())
}

#[test]
fn scenes_on_a_fifo_is_an_error_not_a_hang() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let fifo = dir.path().join("pipe.mp4");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status()?.success());
    let mut child = clipstream().arg("scenes").arg(&fifo).stdout(Stdio::piped()).spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            anyhow::bail!("clipstream scenes hangs on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output()?;
    assert!(!status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a regular file"));
    Ok(())
}
