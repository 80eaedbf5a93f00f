//! Scratch files and folders of a process (downloads, cut clips, spooled shards) are named
//! `clipstream-{kind}-p{pid}-*`, so a later run can remove what a crashed run left behind: [`sweep_stale_scratch`]
//! removes the entries whose process is gone, and never those of a process that is still running (another job on
//! the same host).

use std::path::Path;

/// The name prefix of this process's scratch entries of `kind`.
pub fn scratch_prefix(kind: &str) -> String {
    format!("clipstream-{kind}-p{}-", std::process::id())
}

/// The process id in a scratch entry's name, if it is one.
fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("clipstream-")?;
    let (_, after) = rest.split_once("-p")?;
    after.split_once('-')?.0.parse().ok()
}

/// Whether process `pid` is running (Linux `/proc`; elsewhere every process counts as running, so nothing goes).
fn alive(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the scratch entries in `dir` of processes that are gone; returns how many were removed.
pub fn sweep_stale_scratch(dir: &Path) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner(&name) else { continue };
        if alive(pid) {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        match gone {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(path = %path.display(), %error, "cannot remove a stale scratch entry"),
        }
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed scratch files of runs that are gone");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_entries_of_dead_processes_only() {
        let dir = tempfile::tempdir().unwrap();
        // A pid above the kernel's maximum (4194304) is never running.
        let dead = dir.path().join("clipstream-clips-p99999999-abc");
        std::fs::create_dir_all(dead.join("inner")).unwrap();
        std::fs::write(dir.path().join("clipstream-fetch-p99999999-x.mp4"), b"x").unwrap();
        let live = dir.path().join(format!("{}xyz", scratch_prefix("clips")));
        std::fs::create_dir_all(&live).unwrap();
        std::fs::write(dir.path().join("clipstream-notes.txt"), b"not scratch").unwrap();
        assert_eq!(sweep_stale_scratch(dir.path()), 2);
        assert!(!dead.exists() && live.exists() && dir.path().join("clipstream-notes.txt").exists());
        assert_eq!(owner("clipstream-shard-p12-abc"), Some(12));
        assert_eq!(owner("clipstream-shard-abc"), None);
    }
}
