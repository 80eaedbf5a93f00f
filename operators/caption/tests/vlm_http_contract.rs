//! Contract tests of the `vlm-http` captioner against a local OpenAI-compatible test server (tiny_http on
//! 127.0.0.1): every request the captioner sends is checked for the chat-completions shape (path, method, bearer
//! token, model, messages, content parts, a JPEG data URL), and the server answers like an OpenAI server, or fails
//! on purpose (500, 429, 400, slow, malformed) to check retries, timeouts and error reporting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clipstream_caption::{CaptionError, Captioner, Captioners, VlmHttpCaptioner, caption_video};
use clipstream_core::SpillFile;
use clipstream_schemas::config::VlmHttpConfig;
use clipstream_schemas::error::StageError;
use clipstream_schemas::{
    ClipPayload, ClipRecord, CuratedVideo, Jpeg, Stage, VideoRequest, clip_key, format_timestamp,
};
use serde_json::{Value, json};

/// A 16x16 grey baseline JPEG (ffmpeg mjpeg).
const TINY_JPEG: [u8; 220] = [
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xFF, 0xFE, 0x00, 0x10, 0x4C, 0x61, 0x76, 0x63, 0x35, 0x39, 0x2E, 0x33, 0x37, 0x2E, 0x31, 0x30, 0x30, 0x00,
    0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x3E, 0x3E, 0x49, 0x3E, 0x49, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x64, 0x5D,
    0x64, 0x68, 0x68, 0x68, 0x64, 0x64, 0x64, 0x64, 0x68, 0x68, 0x68, 0x70, 0x70, 0x70, 0x83, 0x83, 0x83, 0x70, 0x70,
    0x70, 0x68, 0x68, 0x70, 0x70, 0x7C, 0x7C, 0x83, 0x83, 0x8F, 0x93, 0x8F, 0x87, 0x87, 0x83, 0x87, 0x93, 0x93, 0x9B,
    0x9B, 0x9B, 0xBA, 0xBA, 0xB2, 0xB2, 0xD9, 0xD9, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF, 0xC4, 0x00, 0x4A, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10,
    0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00, 0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00,
    0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00, 0x00, 0x0F, 0xFF, 0xD9,
];

const API_KEY: &str = "test-key";
const MODEL: &str = "test-vlm";
const COARSE_PROMPT: &str = "Describe the middle frame.";
const FRAME_PROMPT: &str = "Describe this frame.";
const SUMMARY_PROMPT: &str = "Summarise these frame captions.";

/// `TINY_JPEG` with a comment segment naming it, so the server can tell the frames apart (still a valid JPEG).
fn tagged_jpeg(tag: &str) -> Vec<u8> {
    let length = u16::try_from(tag.len() + 2).expect("short tag");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xFE];
    jpeg.extend_from_slice(&length.to_be_bytes());
    jpeg.extend_from_slice(tag.as_bytes());
    jpeg.extend_from_slice(&TINY_JPEG[2..]);
    jpeg
}

/// A tagged JPEG spilled to `spill`, as the frames stage leaves them: the captioner reads it back.
fn spilled_jpeg(spill: &Arc<SpillFile>, tag: &str) -> Jpeg {
    spill.append(&tagged_jpeg(tag)).expect("spill")
}

/// The tag written by [`tagged_jpeg`].
fn jpeg_tag(jpeg: &[u8]) -> Option<String> {
    if jpeg.get(2..4)? != [0xFF, 0xFE] {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    String::from_utf8(jpeg.get(6..4 + length)?.to_vec()).ok()
}

/// One request as the server saw it, after the shape checks.
#[derive(Debug, Clone)]
struct Seen {
    /// `coarse`, `frame` or `summary`, from the prompt.
    kind: &'static str,
    /// The image's tag, or the summary's text.
    subject: String,
}

/// What the server does with request number `n` (0-based, in arrival order) of kind `kind`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reply {
    /// 200 with a chat completion whose content is the caption of the request.
    Caption,
    Status(u16),
    /// Sleep this long, then answer the caption.
    Slow(Duration),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with an empty message content.
    Empty,
}

type Script = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A local OpenAI-compatible chat-completions server.
struct TestServer {
    server: Arc<tiny_http::Server>,
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Shape violations found by the handlers (an empty list is the contract kept).
    violations: Arc<Mutex<Vec<String>>>,
    max_in_flight: Arc<AtomicUsize>,
    handlers: Vec<thread::JoinHandle<()>>,
}

impl TestServer {
    /// A server whose every answer takes `delay` (to make concurrency visible) and follows `script`.
    fn start(delay: Duration, script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind a local port"));
        let port = server.server_addr().to_ip().expect("ip address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let handlers = (0..16)
            .map(|_| {
                let (server, seen, violations) = (server.clone(), seen.clone(), violations.clone());
                let (max_in_flight, in_flight, script) = (max_in_flight.clone(), in_flight.clone(), script.clone());
                thread::spawn(move || {
                    while let Ok(mut request) = server.recv() {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max_in_flight.fetch_max(now, Ordering::SeqCst);
                        let mut body = String::new();
                        let read = std::io::Read::read_to_string(request.as_reader(), &mut body);
                        let checked = read.map_err(|e| e.to_string()).and_then(|_| check_request(&request, &body));
                        let (status, answer) = match checked {
                            Err(violation) => {
                                violations.lock().expect("lock").push(violation.clone());
                                (400, json!({"error": {"message": violation}}).to_string())
                            }
                            Ok(one) => {
                                let n = {
                                    let mut seen = seen.lock().expect("lock");
                                    seen.push(one.clone());
                                    seen.len() - 1
                                };
                                std::thread::sleep(delay);
                                match script(n, &one) {
                                    Reply::Caption => (200, completion(&caption_for(&one))),
                                    Reply::Slow(wait) => {
                                        std::thread::sleep(wait);
                                        (200, completion(&caption_for(&one)))
                                    }
                                    Reply::Status(status) => {
                                        (status, json!({"error": {"message": "scripted failure"}}).to_string())
                                    }
                                    Reply::Malformed => (200, "<html>not json</html>".to_string()),
                                    Reply::Empty => (200, completion("")),
                                }
                            }
                        };
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                            .expect("static header");
                        // One request per connection: tiny_http serves a kept-alive connection on one of its pool
                        // threads until the client closes it, so a client holding idle connections could leave a
                        // new one waiting for a thread until the request timeout.
                        let close = tiny_http::Header::from_bytes(&b"Connection"[..], &b"close"[..]).expect("static");
                        let response = tiny_http::Response::from_string(answer)
                            .with_status_code(status)
                            .with_header(header)
                            .with_header(close);
                        // The client may have given up (timeouts); that is not the server's problem.
                        let _ = request.respond(response);
                    }
                })
            })
            .collect();
        Self { server, base_url: format!("http://127.0.0.1:{port}/v1"), seen, violations, max_in_flight, handlers }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Checks that every request kept the contract and returns what was seen.
    fn finish(self) -> (Vec<Seen>, usize) {
        for _ in &self.handlers {
            self.server.unblock();
        }
        let violations = self.violations.lock().expect("lock").clone();
        assert!(violations.is_empty(), "requests broke the chat-completions contract: {violations:#?}");
        (self.seen(), self.max_in_flight.load(Ordering::SeqCst))
    }
}

/// An OpenAI chat-completions answer with `content`, padded with whitespace (the client trims).
fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": format!(" {content}\n")},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })
    .to_string()
}

/// The server's caption: `coarse <tag>`, `frame <tag>`, or `summary[<frame captions joined by |>]`.
fn caption_for(seen: &Seen) -> String {
    match seen.kind {
        "summary" => {
            let captions = seen.subject.strip_prefix(SUMMARY_PROMPT).unwrap_or("?").trim_start_matches('\n');
            format!("summary[{}]", captions.lines().collect::<Vec<_>>().join("|"))
        }
        kind => format!("{kind} {}", seen.subject),
    }
}

/// The chat-completions contract of one request.
fn check_request(request: &tiny_http::Request, body: &str) -> Result<Seen, String> {
    if request.method() != &tiny_http::Method::Post {
        return Err(format!("method {}", request.method()));
    }
    if request.url() != "/v1/chat/completions" {
        return Err(format!("path {}", request.url()));
    }
    let header = |name: &'static str| {
        request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str().to_string())
    };
    if header("Authorization").as_deref() != Some("Bearer test-key") {
        return Err(format!("authorization {:?}", header("Authorization")));
    }
    if !header("Content-Type").is_some_and(|v| v.starts_with("application/json")) {
        return Err(format!("content type {:?}", header("Content-Type")));
    }
    let json: Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    if json["model"] != MODEL {
        return Err(format!("model {}", json["model"]));
    }
    if !json["max_tokens"].is_u64() || !json["temperature"].is_number() {
        return Err(format!("max_tokens/temperature {} {}", json["max_tokens"], json["temperature"]));
    }
    let messages = json["messages"].as_array().ok_or("messages is not an array")?;
    let [message] = messages.as_slice() else { return Err(format!("{} messages", messages.len())) };
    if message["role"] != "user" {
        return Err(format!("role {}", message["role"]));
    }
    match &message["content"] {
        // The text-only summary request.
        Value::String(text) if text.starts_with(SUMMARY_PROMPT) => Ok(Seen { kind: "summary", subject: text.clone() }),
        Value::Array(parts) => {
            let [text, image] = parts.as_slice() else { return Err(format!("{} content parts", parts.len())) };
            if text["type"] != "text" || image["type"] != "image_url" {
                return Err(format!("part types {} {}", text["type"], image["type"]));
            }
            let kind = match text["text"].as_str() {
                Some(COARSE_PROMPT) => "coarse",
                Some(FRAME_PROMPT) => "frame",
                other => return Err(format!("prompt {other:?}")),
            };
            let url = image["image_url"]["url"].as_str().ok_or("image_url.url is not a string")?;
            let data = url.strip_prefix("data:image/jpeg;base64,").ok_or("not a JPEG data URL")?;
            let jpeg = STANDARD.decode(data).map_err(|e| format!("bad base64: {e}"))?;
            if !jpeg.starts_with(&[0xFF, 0xD8]) || !jpeg.ends_with(&[0xFF, 0xD9]) {
                return Err("the image is not a JPEG".to_string());
            }
            Ok(Seen { kind, subject: jpeg_tag(&jpeg).unwrap_or_else(|| "untagged".to_string()) })
        }
        other => Err(format!("content {other}")),
    }
}

fn config(server: &TestServer) -> VlmHttpConfig {
    VlmHttpConfig {
        base_url: server.base_url.clone(),
        model: MODEL.into(),
        api_key_env: String::new(),
        concurrency: 4,
        timeout_s: 10.0,
        retries: 2,
        backoff_ms: 10,
        max_tokens: 32,
        temperature: 0.0,
        coarse_prompt: COARSE_PROMPT.into(),
        frame_prompt: FRAME_PROMPT.into(),
        summary_prompt: SUMMARY_PROMPT.into(),
    }
}

fn captioner(config: &VlmHttpConfig) -> VlmHttpCaptioner {
    VlmHttpCaptioner::with_api_key(config, Some(API_KEY)).expect("captioner")
}

/// Video `v` with one clip per entry of `fine_frames` (that many fine frames each); frames are tagged
/// `c<clip>-mid`, `c<clip>-s<i>` (stored) and `c<clip>-f<i>` (fine).
fn video(fine_frames: &[usize]) -> CuratedVideo {
    let spill = SpillFile::new_in(&std::env::temp_dir()).expect("spill file");
    let clips = fine_frames
        .iter()
        .enumerate()
        .map(|(index, &fine)| {
            let index32 = u32::try_from(index).expect("few clips");
            let start = index as f64 * 3.0;
            let record = ClipRecord {
                video_id: "v".into(),
                video_key: "v".into(),
                clip_index: index32,
                key: clip_key("v", index32),
                url: "file:///v.mp4".into(),
                start_s: start,
                end_s: start + 3.0,
                start_ts: format_timestamp(start),
                end_ts: format_timestamp(start + 3.0),
                duration_s: 3.0,
                start_frame: index as u64 * 75,
                end_frame: index as u64 * 75 + 75,
                fps: 25.0,
                width: 16,
                height: 16,
                num_frames: 2,
                motion: 1.0,
                caption: Some("the request's caption".into()),
                ..Default::default()
            };
            ClipPayload {
                record,
                middle_jpeg: spilled_jpeg(&spill, &format!("c{index}-mid")),
                frames_jpeg: (0..2).map(|i| spilled_jpeg(&spill, &format!("c{index}-s{i}"))).collect(),
                fine_frames_jpeg: (0..fine).map(|i| spilled_jpeg(&spill, &format!("c{index}-f{i}"))).collect(),
                video_mp4: None,
            }
        })
        .collect();
    CuratedVideo {
        request: VideoRequest::new("file:///v.mp4"),
        video_id: "v".into(),
        video_key: "v".into(),
        clips,
        scratch: None,
    }
}

fn refs(video: &CuratedVideo) -> Vec<&ClipPayload> {
    video.clips.iter().collect()
}

fn count_subject(seen: &[Seen], subject: &str) -> usize {
    seen.iter().filter(|s| s.subject == subject).count()
}

fn count(seen: &[Seen], kind: &str) -> usize {
    seen.iter().filter(|s| s.kind == kind).count()
}

#[test]
fn contract_coarse_captions_the_middle_frame_of_every_clip() {
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Caption);
    let mut vlm = captioner(&config(&server));
    let input = video(&[0, 0, 0]);
    let captions: Vec<String> = vlm.coarse(&refs(&input)).into_iter().map(|r| r.expect("caption")).collect();
    assert_eq!(captions, vec!["coarse c0-mid", "coarse c1-mid", "coarse c2-mid"]);
    let (seen, _) = server.finish();
    assert_eq!((seen.len(), count(&seen, "coarse")), (3, 3));
}

#[test]
fn contract_fine_captions_each_frame_then_summarises() {
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Caption);
    let mut vlm = captioner(&config(&server));
    // The last clip has no fine frames: its stored frames are captioned instead.
    let input = video(&[3, 1, 0]);
    let captions: Vec<String> = vlm.fine(&refs(&input)).into_iter().map(|r| r.expect("caption")).collect();
    assert_eq!(
        captions,
        vec![
            "summary[frame c0-f0|frame c0-f1|frame c0-f2]",
            "summary[frame c1-f0]",
            "summary[frame c2-s0|frame c2-s1]",
        ]
    );
    let (seen, _) = server.finish();
    // Frames + 1 summary per clip.
    assert_eq!(seen.len(), (3 + 1) + (1 + 1) + (2 + 1));
    assert_eq!((count(&seen, "frame"), count(&seen, "summary")), (6, 3));
}

#[test]
fn contract_requests_in_flight_stay_under_the_concurrency_limit() {
    let server = TestServer::start(Duration::from_millis(100), |_, _| Reply::Caption);
    let mut vlm = captioner(&VlmHttpConfig { concurrency: 3, ..config(&server) });
    let input = video(&[4, 4, 4]);
    assert!(vlm.fine(&refs(&input)).iter().all(Result::is_ok));
    let (seen, max_in_flight) = server.finish();
    assert_eq!(seen.len(), 15);
    // 12 frame requests of 100 ms each are sent as fast as the limit allows.
    assert_eq!(max_in_flight, 3);
}

#[test]
fn contract_the_requests_of_several_videos_interleave() {
    // Clip c2 of the third video gets a 400: that video fails, the others are captioned.
    let server = TestServer::start(Duration::from_millis(150), |_, seen| {
        if seen.subject == "c2-mid" { Reply::Status(400) } else { Reply::Caption }
    });
    let vlm = captioner(&VlmHttpConfig { concurrency: 5, ..config(&server) });
    let mut captioners = Captioners::with_vlm(vlm, true, false);
    let (answers, answered) = std::sync::mpsc::channel();
    for (index, input) in [video(&[0, 0]), video(&[0, 0]), video(&[0, 0, 0])].into_iter().enumerate() {
        let answers = answers.clone();
        captioners.start(input, move |result| answers.send((index, result)).expect("send"));
    }
    let mut answers: Vec<_> = (0..3).map(|_| answered.recv_timeout(Duration::from_secs(30)).expect("answer")).collect();
    answers.sort_by_key(|(index, _)| *index);
    let results: Vec<_> = answers.into_iter().map(|(_, result)| result).collect();
    let (seen, max_in_flight) = server.finish();
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    let failed = results[2].as_ref().expect_err("clip c2 failed");
    assert_eq!(failed.code, "caption.http_status");
    let first = results[0].as_ref().expect("captioned");
    let captions: Vec<&str> = first.clips.iter().filter_map(|c| c.record.caption.as_deref()).collect();
    assert_eq!(captions, vec!["coarse c0-mid", "coarse c1-mid"], "each video's captions in clip order");
    // Every clip of the captioned videos and the failing one were asked for; a clip of the failed video not yet
    // sent when c2 failed may have been cancelled.
    assert_eq!(count_subject(&seen, "c2-mid"), 1);
    assert!((count_subject(&seen, "c0-mid"), count_subject(&seen, "c1-mid")) >= (2, 2), "{seen:?}");
    assert!(seen.len() <= 7);
    // The clips' requests were sent together up to the limit: more than any one video has clips.
    assert!((4..=5).contains(&max_in_flight), "{max_in_flight} in flight");
}

#[test]
fn contract_videos_are_captioned_in_the_background_both_scales_at_once() {
    // Video 1's clip c1 gets a 400 on its coarse frame: that video fails, video 0 is captioned.
    let server = TestServer::start(Duration::from_millis(300), |_, seen| {
        if seen.subject == "c1-mid" { Reply::Status(400) } else { Reply::Caption }
    });
    let vlm = captioner(&VlmHttpConfig { concurrency: 16, ..config(&server) });
    let mut captioners = Captioners::with_vlm(vlm, true, true);
    let (answers, answered) = std::sync::mpsc::channel();
    for (index, input) in [video(&[2]), video(&[2, 2])].into_iter().enumerate() {
        let answers = answers.clone();
        captioners.start(input, move |result| answers.send((index, result)).expect("send"));
    }
    assert!(answered.try_recv().is_err(), "start returns before the server answers");
    let mut results: Vec<_> = (0..2).map(|_| answered.recv_timeout(Duration::from_secs(30)).expect("answer")).collect();
    results.sort_by_key(|(index, _)| *index);
    let first = results[0].1.as_ref().expect("video 0 captioned");
    let record = &first.clips[0].record;
    assert_eq!(record.caption_coarse.as_deref(), Some("coarse c0-mid"));
    assert_eq!(record.caption.as_deref(), Some("summary[frame c0-f0|frame c0-f1]"), "fine wins");
    let failed = results[1].1.as_ref().expect_err("clip c1 failed");
    assert_eq!(failed.code, "caption.http_status", "the real failure, not the other scale's cancellation");
    let (_, max_in_flight) = server.finish();
    // Coarse (1 + 2 clips) and fine frames (2 + 4) of both videos are sent together: up to 9 (the test server's
    // thread pool may deliver fewer at once under load), more than either video alone has coarse clips.
    assert!(max_in_flight > 3, "{max_in_flight} in flight");
}

#[test]
fn contract_the_request_limit_is_shared_by_the_workers_of_a_process() {
    let server = TestServer::start(Duration::from_millis(150), |_, _| Reply::Caption);
    let config = VlmHttpConfig { concurrency: 3, ..config(&server) };
    // Two workers, each with its own captioner (as curate builds them), captioning at the same time.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut vlm = captioner(&config);
            thread::spawn(move || {
                let input = video(&[0, 0, 0, 0]);
                vlm.coarse(&refs(&input)).iter().all(Result::is_ok)
            })
        })
        .collect();
    assert!(workers.into_iter().all(|w| w.join().expect("worker")));
    let (seen, max_in_flight) = server.finish();
    assert_eq!(seen.len(), 8);
    assert_eq!(max_in_flight, 3, "caption.vlm.concurrency bounds the process, not each worker");
}

#[test]
fn contract_500_and_429_are_retried_until_success() {
    let server = TestServer::start(Duration::ZERO, |n, _| match n {
        0 => Reply::Status(500),
        1 => Reply::Status(429),
        _ => Reply::Caption,
    });
    let mut vlm = captioner(&config(&server));
    let input = video(&[0]);
    let results = vlm.coarse(&refs(&input));
    assert_eq!(results[0].as_deref().expect("caption after two retries"), "coarse c0-mid");
    let (seen, _) = server.finish();
    assert_eq!(seen.len(), 3, "two failed attempts and the successful one");

    // Retries run out: the last error is reported, retryable.
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Status(503));
    let mut vlm = captioner(&VlmHttpConfig { retries: 1, ..config(&server) });
    let results = vlm.coarse(&refs(&input));
    let error = results[0].as_ref().expect_err("fails");
    assert!(matches!(error, CaptionError::Exhausted { attempts: 2, .. }), "{error:?}");
    assert_eq!((error.code(), error.retryable()), ("caption.http_status", true));
    assert_eq!(server.finish().0.len(), 2);
}

#[test]
fn contract_400_fails_without_retry() {
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Status(400));
    let mut vlm = captioner(&config(&server));
    let input = video(&[0]);
    let results = vlm.coarse(&refs(&input));
    let error = results[0].as_ref().expect_err("fails");
    assert!(matches!(error, CaptionError::Status { status: 400, .. }), "{error:?}");
    assert!(error.to_string().contains("scripted failure"), "the server's message is kept: {error}");
    assert_eq!((error.code(), error.retryable()), ("caption.http_status", false));
    assert_eq!(server.finish().0.len(), 1, "no retry after a 4xx");
}

#[test]
fn contract_timeout_is_a_retryable_error() {
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Slow(Duration::from_secs(2)));
    let mut vlm = captioner(&VlmHttpConfig { timeout_s: 0.3, retries: 1, ..config(&server) });
    let input = video(&[0]);
    let results = vlm.coarse(&refs(&input));
    let error = results[0].as_ref().expect_err("times out");
    assert!(matches!(error.root(), CaptionError::Timeout { .. }), "{error:?}");
    assert_eq!((error.code(), error.retryable()), ("caption.timeout", true));
    assert_eq!(server.finish().0.len(), 2, "the timed-out request is tried once more");
}

#[test]
fn contract_malformed_or_empty_answers_are_errors() {
    let server = TestServer::start(Duration::ZERO, |_, seen| match seen.subject.as_str() {
        "c0-mid" => Reply::Malformed,
        _ => Reply::Empty,
    });
    // One request at a time, so the first failure cannot cancel the other clip before it was sent.
    let mut vlm = captioner(&VlmHttpConfig { concurrency: 1, ..config(&server) });
    let input = video(&[0, 0]);
    let results = vlm.coarse(&refs(&input));
    let malformed = results[0].as_ref().expect_err("malformed");
    assert_eq!((malformed.code(), malformed.retryable()), ("caption.bad_response", false));
    assert!(malformed.to_string().contains("not a chat completion"), "{malformed}");
    assert!(matches!(results[1], Err(CaptionError::Cancelled)), "{:?}", results[1]);
    assert_eq!(server.finish().0.len(), 1, "the second clip is not sent after the first failed");

    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Empty);
    let mut vlm = captioner(&config(&server));
    let results = vlm.coarse(&refs(&video(&[0])));
    let empty = results[0].as_ref().expect_err("empty");
    assert_eq!(empty.code(), "caption.bad_response");
    assert!(empty.to_string().contains("empty caption"), "{empty}");
    server.finish();
}

#[test]
fn contract_caption_video_fills_the_records() {
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Caption);
    let mut coarse = captioner(&config(&server));
    // Clones share the client, the runtime and the request limit.
    let mut fine = coarse.clone();
    let curated = caption_video(video(&[2, 0]), Some(&mut coarse), Some(&mut fine)).expect("captions");
    let records: Vec<&ClipRecord> = curated.clips.iter().map(|c| &c.record).collect();
    assert_eq!(records[0].caption_coarse.as_deref(), Some("coarse c0-mid"));
    assert_eq!(records[0].caption_fine.as_deref(), Some("summary[frame c0-f0|frame c0-f1]"));
    assert_eq!(records[0].caption, records[0].caption_fine);
    assert_eq!(records[1].caption_fine.as_deref(), Some("summary[frame c1-s0|frame c1-s1]"));
    assert!(curated.clips.iter().all(|c| c.fine_frames_jpeg.is_empty()));
    // Coarse only: the coarse caption replaces the request's.
    let coarse_only = caption_video(video(&[0]), Some(&mut coarse), None).expect("captions");
    assert_eq!(coarse_only.clips[0].record.caption.as_deref(), Some("coarse c0-mid"));
    assert_eq!(server.finish().0.len(), 2 + (3 + 3) + 1);

    // A failing server fails the video with one caption record.
    let server = TestServer::start(Duration::ZERO, |_, _| Reply::Status(401));
    let mut coarse = captioner(&config(&server));
    let record = caption_video(video(&[0, 0]), Some(&mut coarse), None).expect_err("fails");
    assert_eq!((record.stage, record.code.as_str(), record.retryable), (Stage::Caption, "caption.http_status", false));
    assert_eq!((record.video_id.as_str(), record.url.as_str()), ("v", "file:///v.mp4"));
    assert!(record.reason.contains("vlm-http coarse caption: POST http://127.0.0.1:"), "{}", record.reason);
    assert!(record.reason.contains("answered HTTP 401"), "{}", record.reason);
    server.finish();
}
