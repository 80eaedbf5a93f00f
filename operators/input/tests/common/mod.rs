//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for fetch tests: it counts every accepted connection, so a test can
//! prove that a refused fetch never reached it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// What the server answers to one path.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send the body with chunked transfer encoding (no Content-Length).
    pub chunked: bool,
    /// Announce this Content-Length instead of the body's.
    pub claimed_length: Option<u64>,
    /// Sleep before sending anything.
    pub stall_before_headers: Option<Duration>,
    /// Sleep after sending the headers and the body so far, then close.
    pub stall_after_body: Option<Duration>,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Self {
        Self { status: 200, body, ..Self::default() }
    }

    pub fn status(status: u16) -> Self {
        Self { status, body: b"nope".to_vec(), ..Self::default() }
    }

    pub fn redirect(location: &str) -> Self {
        Self { status: 302, headers: vec![("Location".into(), location.into())], ..Self::default() }
    }
}

/// A running server; its thread lives until the test process ends.
pub struct TestServer {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves `route(path)` for every request.
    pub fn start(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let route = Arc::new(route);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let route = Arc::clone(&route);
                thread::spawn(move || serve(stream, &*route));
            }
        });
        Self { port, accepted }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }
}

fn serve(stream: TcpStream, route: &dyn Fn(&str) -> Reply) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = route(&path);
    let _ = respond(stream, &reply);
}

fn respond(mut stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    if let Some(pause) = reply.stall_before_headers {
        thread::sleep(pause);
    }
    let mut head = format!("HTTP/1.1 {} Test\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes())?;
        for chunk in reply.body.chunks(64) {
            stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            stream.write_all(chunk)?;
            stream.write_all(b"\r\n")?;
        }
        stream.write_all(b"0\r\n\r\n")?;
    } else {
        let length = reply.claimed_length.unwrap_or(reply.body.len() as u64);
        head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
        stream.write_all(head.as_bytes())?;
        stream.write_all(&reply.body)?;
    }
    stream.flush()?;
    if let Some(pause) = reply.stall_after_body {
        thread::sleep(pause);
    }
    Ok(())
}
