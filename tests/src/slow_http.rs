//! A slow loopback HTTP server for the end-to-end tests: `GET /<name>` serves a file of one folder and
//! `POST .../chat/completions` answers like an OpenAI-compatible chat server, each after a fixed delay, so a curate
//! run has downloads and caption requests in flight. One thread per connection; every answer closes its connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The running server; stops accepting when dropped.
pub struct SlowHttp {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl SlowHttp {
    /// Serves the files of `dir` and chat completions on 127.0.0.1, each answer after `delay`.
    pub fn start(dir: &Path, delay: Duration) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let (stop, requests) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (dir, stopping, counted) = (dir.to_path_buf(), stop.clone(), requests.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (dir, counted) = (dir.clone(), counted.clone());
                        std::thread::spawn(move || {
                            counted.fetch_add(1, Ordering::Relaxed);
                            // A client that went away (a killed curate run) is not the server's problem.
                            let _ = answer(stream, &dir, delay);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Self { port, stop, requests })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests answered or being answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for SlowHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn answer(stream: TcpStream, dir: &Path, delay: Duration) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    std::thread::sleep(delay);
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (status, content_type, payload) = match method {
        "POST" if path.ends_with("/chat/completions") => {
            let content = format!("a caption of a {}-byte request", body.len());
            let json =
                serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]});
            ("200 OK", "application/json", json.to_string().into_bytes())
        }
        "GET" => match file(dir, path).and_then(|file| std::fs::read(file).ok()) {
            Some(bytes) => ("200 OK", "video/mp4", bytes),
            None => ("404 Not Found", "text/plain", b"not found".to_vec()),
        },
        _ => ("405 Method Not Allowed", "text/plain", b"no".to_vec()),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    stream.write_all(&payload)
}

/// The file a GET path names: one plain name in `dir`, nothing else.
fn file(dir: &Path, path: &str) -> Option<PathBuf> {
    let name = path.trim_start_matches('/');
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (plain && !name.starts_with('.')).then(|| dir.join(name))
}
