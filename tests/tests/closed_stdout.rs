//! A command whose reader goes away (`clipstream scenes VIDEO | head -0`) ends quietly with status 0: no panic,
//! nothing on stderr.

use std::process::Stdio;

use clipstream_tests::{clipstream, real_video};

#[test]
fn a_closed_stdout_ends_the_command_quietly() -> anyhow::Result<()> {
    let video = real_video("bigbuckbunny.mp4")?;
    for args in [vec!["scenes"], vec!["scenes", "--json"]] {
        let mut child = clipstream().args(&args).arg(&video).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        // Close the read end before the command writes anything: its first write meets a broken pipe.
        drop(child.stdout.take());
        let output = child.wait_with_output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {:?}, stderr {stderr}", output.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    Ok(())
}
