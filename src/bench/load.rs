//! A small closed-loop HTTP load generator over loopback: `concurrency` tasks each POST their
//! next body as soon as the previous answer arrives, for a fixed time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// POSTs `requests` (each at most once, in order) to `url` for up to `duration`.
pub async fn run(
    url: &str,
    requests: Arc<Vec<Request>>,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let client = match crate::http_client::build(Duration::from_secs(2), Duration::from_secs(10)) {
        Ok(c) => c,
        Err(_) => return LoadResult::default(),
    };
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next, requests, url) = (
                client.clone(),
                next.clone(),
                requests.clone(),
                url.to_string(),
            );
            tokio::spawn(async move {
                let mut r = LoadResult::default();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(req) = requests.get(i) else { break };
                    let mut builder = client.post(&url).body(req.body.clone());
                    for (k, v) in &req.headers {
                        builder = builder.header(*k, v);
                    }
                    let t = Instant::now();
                    r.sent_at.push((i, std::time::SystemTime::now()));
                    match builder.send().await {
                        Ok(res) if res.status().is_success() => {
                            let _ = res.bytes().await;
                            r.ok += 1;
                            r.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => r.failed += 1,
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
