//! The OpenAI chat-completions wire format, as far as captioning needs it: request bodies with one user message
//! (text + a base64 JPEG data URL, or text only) and the caption in `choices[0].message.content` of the answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clipstream_schemas::config::VlmHttpConfig;
use serde::Deserialize;
use serde_json::{Value, json};

/// The content of a user message: `prompt` and one image as a `data:image/jpeg;base64,` URL.
pub fn image_content(prompt: &str, jpeg: &[u8]) -> Value {
    json!([
        {"type": "text", "text": prompt},
        {"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{}", STANDARD.encode(jpeg))}},
    ])
}

/// The text of the summary request: `prompt`, a blank line, then the frame captions one per line.
pub fn summary_text(prompt: &str, captions: &[String]) -> String {
    let mut text = prompt.trim_end().to_string();
    text.push_str("\n\n");
    for caption in captions {
        // A caption is one line, whatever the model wrote.
        text.push_str(&caption.split_whitespace().collect::<Vec<_>>().join(" "));
        text.push('\n');
    }
    text.pop();
    text
}

/// The JSON body of a chat-completions request with one user message of `content` (a string or content parts).
pub fn request_body(config: &VlmHttpConfig, content: Value) -> Vec<u8> {
    let body = json!({
        "model": config.model,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
    });
    body.to_string().into_bytes()
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Content>,
}

/// A message's content: a string, or (some servers) a list of text parts.
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

/// The caption in a chat-completions answer: `choices[0].message.content`, trimmed; why not when there is none.
pub fn parse_caption(body: &[u8]) -> Result<String, String> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|e| format!("not a chat completion ({e}); the answer starts {:?}", snippet(body)))?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err("no choices in the answer".to_string());
    };
    let text = match choice.message.content {
        Some(Content::Text(text)) => text,
        Some(Content::Parts(parts)) => parts.into_iter().filter_map(|p| p.text).collect::<Vec<_>>().join(" "),
        None => String::new(),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("empty caption in choices[0].message.content".to_string());
    }
    Ok(text.to_string())
}

/// The start of an answer body as one line of at most 200 characters (for error reasons).
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(800)]);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_shapes() {
        let config = VlmHttpConfig { model: "m".into(), max_tokens: 40, temperature: 0.5, ..VlmHttpConfig::default() };
        let body: Value =
            serde_json::from_slice(&request_body(&config, image_content("Describe.", &[0xFF, 0xD8, 0xFF, 0xD9])))
                .expect("json");
        assert_eq!(
            body,
            json!({
                "model": "m",
                "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "Describe."},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/2Q=="}},
                ]}],
                "max_tokens": 40,
                "temperature": 0.5,
            })
        );
        let summary = summary_text("Summarise.\n", &["a dog\nruns.".to_string(), " a cat ".to_string()]);
        assert_eq!(summary, "Summarise.\n\na dog runs.\na cat");
        let body: Value = serde_json::from_slice(&request_body(&config, Value::String(summary))).expect("json");
        assert_eq!(body["messages"][0]["content"], "Summarise.\n\na dog runs.\na cat");
    }

    #[test]
    fn answers() {
        let ok = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",
            "content":"  A dog runs on a beach.\n"},"finish_reason":"stop"}],"usage":{"total_tokens":9}}"#;
        assert_eq!(parse_caption(ok).as_deref(), Ok("A dog runs on a beach."));
        let parts = br#"{"choices":[{"message":{"content":[{"type":"text","text":"A cat"},{"type":"text","text":"sleeps."}]}}]}"#;
        assert_eq!(parse_caption(parts).as_deref(), Ok("A cat sleeps."));
        let err = |body: &[u8]| parse_caption(body).expect_err("unusable");
        assert_eq!(err(br#"{"choices":[]}"#), "no choices in the answer");
        assert_eq!(
            err(br#"{"choices":[{"message":{"content":"  "}}]}"#),
            "empty caption in choices[0].message.content"
        );
        assert_eq!(
            err(br#"{"choices":[{"message":{"content":null}}]}"#),
            "empty caption in choices[0].message.content"
        );
        assert!(err(b"<html>Bad gateway</html>").ends_with(r#"the answer starts "<html>Bad gateway</html>""#));
        assert!(err(br#"{"error":{"message":"no"}}"#).starts_with("not a chat completion (missing field `choices`"));
        assert_eq!(snippet(&[b'a'; 300]).len(), 203);
        assert_eq!(snippet("é".repeat(300).as_bytes()).chars().count(), 203);
    }
}
