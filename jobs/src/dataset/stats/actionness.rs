//! Actionness of captions: how many distinct verbs the captions use and how many verbs a caption has, plus the most
//! frequent content words. The tagging is done by a maintained NLP library in Python (TextBlob's PatternTagger for
//! part-of-speech tags, lemminflect for lemmas; both ship their data inside their PyPI packages), run as a child
//! process by the embedded script `actionness.py`: captions go in as JSON lines on stdin, one JSON object comes
//! out. The Python interpreter is `--python`, else `$CLIPSTREAM_PYTHON`, else `python3`.

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The script, embedded so the binary needs no source tree.
const SCRIPT: &str = include_str!("actionness.py");

/// What the tagger found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actionness {
    /// The library and versions that tagged the captions.
    pub tool: String,
    pub captions: u64,
    pub verbs: u64,
    pub distinct_verbs: u64,
    pub verbs_per_caption: f64,
    pub captions_with_verb: u64,
    /// Captions with 0, 1, .. 9 and >= 10 verbs.
    pub verbs_per_caption_counts: Vec<u64>,
    pub top_verbs: Vec<(String, u64)>,
    /// Nouns, verbs and adjectives (lemmas), most frequent first.
    pub top_words: Vec<(String, u64)>,
}

/// The interpreter to run: `explicit`, else `$CLIPSTREAM_PYTHON`, else `python3`.
pub fn python_program(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var("CLIPSTREAM_PYTHON").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "python3".to_string())
}

/// Tags `captions` with the Python tool; `top` entries in the word tables.
pub fn actionness(python: &str, captions: &[String], top: usize) -> anyhow::Result<Actionness> {
    let hint = "actionness needs Python 3 with textblob and lemminflect (scripts/setup installs them into .venv; \
                point --python or CLIPSTREAM_PYTHON at that interpreter), or run stats with --no-actionness";
    let mut child = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(top.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {python}; {hint}"))?;
    let stdin = child.stdin.take().context("the tagger's stdin")?;
    // Captions are written from another thread while this one collects the output, so neither pipe can fill up.
    let written = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut stdin = BufWriter::new(stdin);
            for caption in captions {
                serde_json::to_writer(&mut stdin, caption)?;
                stdin.write_all(b"\n")?;
            }
            stdin.flush()
        });
        let output = child.wait_with_output();
        (writer.join(), output)
    });
    let (writer, output) = written;
    let output = output.context("waiting for the tagger")?;
    if !output.status.success() {
        bail!(
            "the tagger ({python}) failed with {}: {}\n{hint}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    writer.map_err(|_| anyhow::anyhow!("the caption writer panicked"))?.context("sending captions to the tagger")?;
    serde_json::from_slice(&output.stdout).context("reading the tagger's result")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_interpreter_says_what_to_do() {
        let error = actionness("/nonexistent/python3", &["a dog runs".to_string()], 5).expect_err("no python");
        assert!(format!("{error:#}").contains("--no-actionness"), "{error:#}");
    }
}
