//! A small closed-loop HTTP/1.1 load generator over loopback: `concurrency` keep-alive
//! connections each POST their next body as soon as the previous answer arrives, for a fixed
//! time. Requests are serialized up front and answers are parsed only as far as the status and
//! length, so the generator takes little of the CPU it shares with the server under test (as
//! `wrk` would; a general HTTP client costs several times more per request).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one run measured.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    pub ok: usize,
    pub failed: usize,
    pub seconds: f64,
    /// Sorted latencies in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// (body index, when its request was sent), for end-to-end latency.
    pub sent_at: Vec<(usize, std::time::SystemTime)>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.seconds.max(0.001)
    }
}

/// A request to send: body and extra headers.
pub struct Request {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// The bytes of `req` as an HTTP/1.1 POST to `path` on `host`.
fn serialize(host: &str, path: &str, req: &Request) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in &req.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", req.body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    bytes
}

/// Reads one response; returns its status and whether the connection stays open.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, bool)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("no status line"))?;
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            };
            let length: usize = match header("content-length:") {
                Some(v) => v.parse().map_err(|_| bad("bad content-length"))?,
                None if header("transfer-encoding:").is_some() => {
                    return Err(bad("chunked answers are not supported"));
                }
                None => 0,
            };
            let keep = header("connection:").as_deref() != Some("close");
            let total = end + 4 + length;
            while buf.len() < total {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(bad("closed mid-answer"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Ok((status, keep));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("closed before answering"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// POSTs `requests` (each at most once, in order) to `url` (`http://host:port/path`) for up to
/// `duration`.
pub async fn run(
    url: &str,
    requests: Arc<Vec<Request>>,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let Some((host, path)) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(host, path)| (host.to_string(), format!("/{path}")))
    else {
        return LoadResult::default();
    };
    let wire: Arc<Vec<Vec<u8>>> = Arc::new(
        requests
            .iter()
            .map(|r| serialize(&host, &path, r))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, wire, host) = (next.clone(), wire.clone(), host.clone());
            tokio::spawn(async move {
                let mut r = LoadResult::default();
                let mut conn: Option<TcpStream> = None;
                let mut buf = Vec::with_capacity(8192);
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(bytes) = wire.get(i) else { break };
                    if conn.is_none() {
                        buf.clear();
                        conn = TcpStream::connect(&host).await.ok();
                        if let Some(c) = &conn {
                            let _ = c.set_nodelay(true);
                        }
                    }
                    let Some(stream) = conn.as_mut() else {
                        r.failed += 1;
                        continue;
                    };
                    let t = Instant::now();
                    r.sent_at.push((i, std::time::SystemTime::now()));
                    let answer = match stream.write_all(bytes).await {
                        Ok(()) => read_response(stream, &mut buf).await,
                        Err(e) => Err(e),
                    };
                    match answer {
                        Ok((status, keep)) => {
                            if (200..300).contains(&status) {
                                r.ok += 1;
                                r.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                            } else {
                                r.failed += 1;
                            }
                            if !keep {
                                conn = None;
                            }
                        }
                        Err(_) => {
                            r.failed += 1;
                            conn = None;
                        }
                    }
                }
                r
            })
        })
        .collect();
    let mut total = LoadResult::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.ok += r.ok;
            total.failed += r.failed;
            total.latencies_ms.extend(r.latencies_ms);
            total.sent_at.extend(r.sent_at);
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total.latencies_ms.sort_by(f64::total_cmp);
    total
}
