//! Real servers for the integration tests, started through the project's own `deploy/local/*` scripts on
//! 127.0.0.1 with free ports and private data folders, and stopped (killed) when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::{repo_root, run_ok};

/// Access key and secret of the local S3 server (the deploy/local/s3 defaults; not secrets).
pub const S3_ACCESS_KEY: &str = "clipstream";
pub const S3_SECRET_KEY: &str = "clipstream-secret";

/// A free TCP port on 127.0.0.1 (released before use; the race is harmless for tests).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").context("binding a free port")?.local_addr()?.port())
}

/// The tools folder `deploy/local/install` fills (`$CLIPSTREAM_TOOLS`, default ~/.cache/clipstream-tools).
fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let tools = std::env::var_os("CLIPSTREAM_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/clipstream-tools"));
    let path = tools.join(name).join("bin").join(name);
    if path.is_file() {
        return Ok(path);
    }
    bail!("{} is missing: run deploy/local/install (scripts/test does)", path.display())
}

/// A server process started by a deploy/local script; killed on drop.
pub struct Service {
    child: Child,
    name: &'static str,
    pub port: u16,
    /// Data folder and log.
    pub dir: TempDir,
}

impl Service {
    fn start(name: &'static str, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let log = std::fs::File::create(dir.path().join(format!("{name}.log")))?;
        let mut command = Command::new(repo_root().join("deploy/local").join(name));
        command.arg(dir.path().join("data")).arg(port.to_string()).args(args);
        let child = command
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting deploy/local/{name}"))?;
        let mut service = Self { child, name, port, dir };
        service.wait_ready()?;
        Ok(service)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited with {status} before listening:\n{}", self.name, self.log());
            }
            if Instant::now() > deadline {
                bail!("{} did not listen on {} within 30 s:\n{}", self.name, self.port, self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.log", self.name))).unwrap_or_default()
    }

    /// The data folder given to the script.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tansu Kafka-protocol broker (sqlite engine).
pub struct Broker {
    pub service: Service,
}

impl Broker {
    pub fn start() -> anyhow::Result<Self> {
        Ok(Self { service: Service::start("tansu", &[])? })
    }

    /// `host:port` for `kafka.brokers`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.service.port)
    }

    /// Creates `topic` with `partitions` partitions (tansu does not auto-create topics).
    pub fn create_topic(&self, topic: &str, partitions: u32) -> anyhow::Result<()> {
        run_ok(Command::new(tool("tansu")?).args([
            "topic",
            "create",
            topic,
            "--partitions",
            &partitions.to_string(),
            "--broker",
            &format!("tcp://{}", self.address()),
        ]))
        .map(drop)
    }

    /// Points a clipstream command at this broker.
    pub fn configure<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.env("CLIPSTREAM__KAFKA__BROKERS", self.address())
    }
}

/// The s3s-fs S3-protocol server; buckets are folders under its data folder.
pub struct S3 {
    pub service: Service,
}

impl S3 {
    pub fn start() -> anyhow::Result<Self> {
        Ok(Self { service: Service::start("s3", &[])? })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.service.port)
    }

    /// Creates a bucket (s3s-fs: a folder) and returns its folder.
    pub fn create_bucket(&self, bucket: &str) -> anyhow::Result<PathBuf> {
        let dir = self.service.data().join(bucket);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The standard AWS environment of object_store, pointed at this server.
    pub fn configure<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command
            .env("AWS_ENDPOINT", self.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    }
}

/// A Prometheus server scraping one target every second.
pub struct Prometheus {
    pub service: Service,
}

impl Prometheus {
    /// Starts the server and waits until `/-/ready` answers 200: Prometheus listens before its TSDB is open and
    /// answers queries with 503 until then.
    pub fn start(target: &str) -> anyhow::Result<Self> {
        let service = Service::start("prometheus", &[target])?;
        let port = service.port;
        wait_until(Duration::from_secs(30), || Ok(http_get(port, "/-/ready").is_ok()))
            .with_context(|| format!("prometheus was not ready:\n{}", service.log()))?;
        Ok(Self { service })
    }

    /// Runs an instant query through the HTTP API; returns the `data.result` array.
    pub fn query(&self, expr: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        let encoded: String = expr
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let body = http_get(self.service.port, &format!("/api/v1/query?query={encoded}"))?;
        let reply: serde_json::Value = serde_json::from_str(&body).with_context(|| format!("query reply {body}"))?;
        if reply["status"] != "success" {
            bail!("query {expr} failed: {reply}");
        }
        Ok(reply["data"]["result"].as_array().cloned().unwrap_or_default())
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1; returns the body of a 200 reply.
pub fn http_get(port: u16, path: &str) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).with_context(|| format!("connecting to {port}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        bail!("GET {path}: {head}");
    }
    Ok(body.to_string())
}

/// Waits until `ready` returns true, checking every 200 ms for at most `limit`.
pub fn wait_until(limit: Duration, mut ready: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if ready()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("not ready within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
