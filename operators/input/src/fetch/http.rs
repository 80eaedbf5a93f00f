//! http(s) downloads: every hop (the first request and each redirect) is resolved and checked by the SSRF guard,
//! then the connection is pinned to exactly the checked addresses so a second DNS answer cannot redirect it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode, redirect};
use url::{Host, Url};

use super::download::{Limits, stream_to_temp, suffix_of};
use super::error::FetchError;
use super::fetcher::Fetched;
use super::guard::{AllowList, resolve_checked};

/// Downloads http(s) URLs within limits.
#[derive(Debug, Clone)]
pub(crate) struct HttpFetcher {
    pub allow: AllowList,
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub max_redirects: usize,
    pub limits: Limits,
}

/// A resolver that resolves nothing: only the pinned (checked) addresses can be used.
struct NoResolve;

impl reqwest::dns::Resolve for NoResolve {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let message = format!("host {} was not resolved by the SSRF guard", name.as_str());
        Box::pin(async move { Err(message.into()) })
    }
}

impl HttpFetcher {
    /// Fetches `url`, following up to `max_redirects` redirects, into a temporary file.
    pub async fn fetch(&self, url: Url) -> Result<Fetched, FetchError> {
        let mut current = url;
        let mut redirects = 0;
        loop {
            let addrs = resolve_checked(&current, &self.allow).await?;
            let client = self.pinned_client(&current, &addrs)?;
            let request = client.get(current.clone()).send();
            let response = tokio::time::timeout(self.limits.read_timeout, request)
                .await
                .map_err(|_| FetchError::Timeout(format!("waiting for the response of {current}")))?
                .map_err(|source| http_error(&current, source))?;
            let status = response.status();
            if is_followed_redirect(status) {
                redirects += 1;
                if redirects > self.max_redirects {
                    return Err(FetchError::TooManyRedirects { limit: self.max_redirects });
                }
                current = redirect_target(&current, response.headers().get(LOCATION))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::HttpStatus { url: current.to_string(), status: status.as_u16() });
            }
            if let Some(length) = response.content_length()
                && length > self.limits.max_bytes
            {
                return Err(FetchError::TooLarge { what: current.to_string(), limit: self.limits.max_bytes });
            }
            let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
            let what = current.to_string();
            let suffix = suffix_of(current.path());
            let body = response.bytes_stream();
            let download = stream_to_temp(body, &self.limits, &what, &suffix, |e| http_error(&current, e)).await?;
            return Ok(Fetched::temporary(download.temp, download.bytes, content_type));
        }
    }

    /// A client that connects to `url`'s host only at `addrs`, never follows redirects and ignores proxy settings.
    fn pinned_client(&self, url: &Url, addrs: &[SocketAddr]) -> Result<Client, FetchError> {
        let mut builder = Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .dns_resolver(Arc::new(NoResolve));
        if let Some(Host::Domain(domain)) = url.host() {
            builder = builder.resolve_to_addrs(domain, addrs);
        }
        builder.build().map_err(|e| FetchError::Setup(format!("cannot build the http client: {e}")))
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The absolute http(s) URL a redirect points to.
fn redirect_target(from: &Url, location: Option<&reqwest::header::HeaderValue>) -> Result<Url, FetchError> {
    let text = location.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
    let bad = || FetchError::BadRedirect { from: from.to_string(), location: text.clone() };
    if text.trim().is_empty() {
        return Err(bad());
    }
    let next = from.join(text.trim()).map_err(|_| bad())?;
    match next.scheme() {
        "http" | "https" if next.host_str().is_some_and(|h| !h.is_empty()) => Ok(next),
        _ => Err(bad()),
    }
}

fn http_error(url: &Url, source: reqwest::Error) -> FetchError {
    if source.is_timeout() {
        FetchError::Timeout(format!("connecting to or reading from {url}: {source}"))
    } else {
        FetchError::Http { url: url.to_string(), source }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn connections_go_only_to_pinned_addresses() {
        use std::io::{Read, Write};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).expect("read");
            let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").expect("write");
            head
        });
        let fetcher = HttpFetcher {
            allow: AllowList::default(),
            user_agent: "test-agent/1".into(),
            connect_timeout: Duration::from_secs(2),
            max_redirects: 0,
            limits: Limits { max_bytes: 10, read_timeout: Duration::from_secs(2), temp_dir: std::env::temp_dir() },
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let pinned = Url::parse(&format!("http://pinned.invalid:{}/x", addr.port())).expect("url");
        let client = fetcher.pinned_client(&pinned, &[addr]).expect("client");
        let status = runtime.block_on(client.get(pinned.clone()).send()).expect("pinned name connects").status();
        assert_eq!(status.as_u16(), 204);
        let head = server.join().expect("server");
        assert!(head.contains("user-agent: test-agent/1"), "{head}");

        let other = Url::parse(&format!("http://other.invalid:{}/x", addr.port())).expect("url");
        let unpinned = runtime.block_on(client.get(other).send()).expect_err("no resolver behind the pins");
        assert!(unpinned.is_connect(), "{unpinned:?}");
    }

    #[test]
    fn redirect_targets() {
        let from = Url::parse("http://a.com/x/y.mp4").expect("url");
        let to = |v: &'static str| redirect_target(&from, Some(&HeaderValue::from_static(v)));
        assert_eq!(to("/z.mp4").expect("relative").as_str(), "http://a.com/z.mp4");
        assert_eq!(to("https://b.com/w").expect("absolute").as_str(), "https://b.com/w");
        assert!(matches!(to("file:///etc/passwd"), Err(FetchError::BadRedirect { .. })));
        assert!(matches!(to("ftp://b.com/x"), Err(FetchError::BadRedirect { .. })));
        assert!(matches!(redirect_target(&from, None), Err(FetchError::BadRedirect { .. })));
    }
}
