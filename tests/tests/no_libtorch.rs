//! `clipstream` does not link libtorch, and hands the commands that run a model to `clipstream-torch` with the
//! same arguments (see jobs/src/torch.rs).

use std::process::Command;

use clipstream_tests::{binary, clipstream, real_video, run_ok};

/// The shared libraries the dynamic loader maps for `binary` (`ldd`).
fn loaded_libraries(binary: &std::path::Path) -> anyhow::Result<String> {
    Ok(String::from_utf8(run_ok(Command::new("ldd").arg(binary))?.stdout)?)
}

#[test]
fn clipstream_links_no_libtorch_and_clipstream_torch_does() -> anyhow::Result<()> {
    let lite = binary();
    assert!(!loaded_libraries(&lite)?.contains("libtorch"), "{} links libtorch", lite.display());
    let torch = lite.with_file_name("clipstream-torch");
    assert!(loaded_libraries(&torch)?.contains("libtorch_cpu"), "{} lacks libtorch", torch.display());
    // A model-free command runs in the small binary.
    let video = real_video("demo.mp4")?;
    let out = run_ok(clipstream().args(["scenes", "--json"]).arg(&video))?;
    assert!(String::from_utf8(out.stdout)?.contains("cut_frames"));
    Ok(())
}

#[test]
fn model_commands_are_handed_to_clipstream_torch() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("missing.safetensors");
    // `convert` reads the file with the model code: the error can only come from clipstream-torch.
    let output = clipstream().args(["convert", "--arch", "viclip-tiny"]).arg(&missing).output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("missing.safetensors") && !stderr.contains("needs libtorch"), "{stderr}");

    // Without the libtorch binary the error says what to build.
    let output = clipstream()
        .env("CLIPSTREAM_TORCH", dir.path().join("clipstream-torch"))
        .args(["train", "--data", "d", "--train-text"])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("clipstream train needs libtorch"), "{stderr}");
    assert!(stderr.contains("cargo build --release -p clipstream-torch"), "{stderr}");

    // A curate with a score model is handed over too (here it fails loading the weights, in clipstream-torch);
    // pointing CLIPSTREAM_TORCH back at clipstream cannot loop.
    let videos = dir.path().join("in");
    std::fs::create_dir(&videos)?;
    let curate = |torch: &std::path::Path| {
        let mut command = clipstream();
        command
            .env("CLIPSTREAM_TORCH", torch)
            .arg("curate")
            .arg("-i")
            .arg(&videos)
            .arg("-o")
            .arg(dir.path().join("out"));
        for set in
            ["score.similarity=viclip", "score.arch=viclip-tiny", &format!("score.weights={}", missing.display())]
        {
            command.args(["--set", set]);
        }
        command.output()
    };
    let output = curate(&binary().with_file_name("clipstream-torch"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("loading the score models") && stderr.contains("missing.safetensors"), "{stderr}");
    let output = curate(&binary())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("already handed the command"), "{stderr}");
    Ok(())
}

#[test]
fn the_handover_keeps_the_arguments_and_makes_libtorch_threads_sleep_when_idle() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    // A stand-in for clipstream-torch that prints what it was started with.
    let torch = dir.path().join("clipstream-torch");
    std::fs::write(&torch, "#!/bin/sh\necho \"args: $*\"\necho \"wait: ${OMP_WAIT_POLICY-unset}\"\n")?;
    std::fs::set_permissions(&torch, std::fs::Permissions::from_mode(0o755))?;
    let handed = |policy: Option<&str>| -> anyhow::Result<String> {
        let mut command = clipstream();
        command.env("CLIPSTREAM_TORCH", &torch).env_remove("OMP_WAIT_POLICY");
        if let Some(policy) = policy {
            command.env("OMP_WAIT_POLICY", policy);
        }
        Ok(String::from_utf8(run_ok(command.args(["train", "--data", "d", "--train-text"]))?.stdout)?)
    };
    let out = handed(None)?;
    assert!(out.contains("args: train --data d --train-text"), "{out}");
    assert!(out.contains("wait: passive"), "{out}");
    // The user's choice wins.
    let out = handed(Some("active"))?;
    assert!(out.contains("wait: active"), "{out}");
    Ok(())
}
