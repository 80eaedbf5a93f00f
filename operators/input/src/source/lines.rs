//! A line reader for text-like lists that never holds more than one bounded line in memory and reports invalid
//! UTF-8 and overlong lines per line instead of failing the whole file.

use std::io::{BufRead, Read};

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::error::RowError;
use super::row::{RowAt, reject_raw};

/// Longest accepted line, bytes. Longer lines are reported and skipped.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// One physical line: its 0-based index and its bytes (without the line ending), or why it is unusable.
pub(crate) struct Line {
    pub index: u64,
    pub content: Result<Vec<u8>, LineError>,
}

pub(crate) enum LineError {
    /// The line exceeded [`MAX_LINE_BYTES`]; the prefix that was read.
    TooLong(Vec<u8>),
    /// Reading failed; the iterator ends after this.
    Io(std::io::Error),
}

/// What a line-oriented list makes of one line of text: `None` for a line to skip (blank, comment).
pub(crate) type ParseLine = fn(String, &RowAt) -> Option<Result<VideoRequest, ErrorRecord>>;

/// Requests from a line-oriented list (txt, jsonl); `SourcePosition::offset` is the 0-based line index. Unreadable
/// lines become error records; readable ones go to the format's `parse`.
pub(crate) struct LineRows<R> {
    lines: Lines<R>,
    parse: ParseLine,
}

impl<R: BufRead> LineRows<R> {
    pub fn new(reader: R, parse: ParseLine) -> Self {
        Self { lines: Lines::new(reader), parse }
    }
}

impl<R: BufRead> Iterator for LineRows<R> {
    type Item = Result<VideoRequest, ErrorRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (at, text) = self.lines.next_text()?;
            match text {
                Ok(text) => match (self.parse)(text, &at) {
                    Some(row) => return Some(row),
                    None => continue,
                },
                Err(record) => return Some(Err(record)),
            }
        }
    }
}

/// Iterates the lines of a reader.
pub(crate) struct Lines<R> {
    reader: R,
    next_index: u64,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Self {
        Self { reader, next_index: 0, done: false }
    }

    /// The next line as text, with its position; an unreadable, overlong or non-UTF-8 line becomes its error record.
    pub fn next_text(&mut self) -> Option<(RowAt, Result<String, ErrorRecord>)> {
        let line = self.next()?;
        let at = RowAt::line(line.index);
        let text = match line.content {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                reject_raw(RowError::InvalidUtf8, &at, String::from_utf8_lossy(e.as_bytes()).into_owned())
            }),
            Err(LineError::TooLong(prefix)) => {
                Err(reject_raw(RowError::TooLong(MAX_LINE_BYTES), &at, String::from_utf8_lossy(&prefix).into()))
            }
            Err(LineError::Io(e)) => Err(reject_raw(RowError::Io(e), &at, String::new())),
        };
        Some((at, text))
    }

    /// Reads up to and including the next newline, at most `limit` bytes.
    fn read_bounded(&mut self, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<usize> {
        (&mut self.reader).take(limit as u64).read_until(b'\n', buf)
    }

    /// Discards the rest of an overlong line.
    fn skip_rest_of_line(&mut self) -> std::io::Result<()> {
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let n = self.read_bounded(&mut sink, 64 << 10)?;
            if n == 0 || sink.last() == Some(&b'\n') {
                return Ok(());
            }
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        if self.done {
            return None;
        }
        let index = self.next_index;
        let mut buf = Vec::new();
        let content = match self.read_bounded(&mut buf, MAX_LINE_BYTES + 1) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES => match self.skip_rest_of_line() {
                Ok(()) => Err(LineError::TooLong(buf)),
                Err(e) => {
                    self.done = true;
                    Err(LineError::Io(e))
                }
            },
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                if index == 0 && buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
                Ok(buf)
            }
            Err(e) => {
                self.done = true;
                Err(LineError::Io(e))
            }
        };
        self.next_index += 1;
        Some(Line { index, content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> Vec<(u64, Result<Vec<u8>, usize>)> {
        Lines::new(input)
            .map(|line| {
                let content = match line.content {
                    Ok(bytes) => Ok(bytes),
                    Err(LineError::TooLong(prefix)) => Err(prefix.len()),
                    Err(LineError::Io(_)) => Err(0),
                };
                (line.index, content)
            })
            .collect()
    }

    #[test]
    fn splits_lines_and_strips_endings_and_bom() {
        let got = collect(b"\xEF\xBB\xBFa\r\nb\n\nc");
        assert_eq!(got, vec![(0, Ok(b"a".to_vec())), (1, Ok(b"b".to_vec())), (2, Ok(vec![])), (3, Ok(b"c".to_vec()))]);
    }

    #[test]
    fn skips_overlong_lines() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let got = collect(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (0, Err(MAX_LINE_BYTES + 1)));
        assert_eq!(got[1], (1, Ok(b"next".to_vec())));
    }
}
