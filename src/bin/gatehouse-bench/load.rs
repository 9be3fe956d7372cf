//! The load generator's own process: a minimal keep-alive HTTP/1.1 client on one
//! thread, so that the server's process measures only the server, and the client
//! spends as little of the shared CPUs as it can.
//!
//! The parent writes a [`Spec`] as JSON to a file, runs this binary with
//! `--load-spec FILE`, and reads a [`LoadReport`] as JSON from its standard output.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where `{item}` stands in a request body, it is replaced by the worker's input.
pub const ITEM: &str = "{item}";

/// One request, written out once and sent over and over.
#[derive(Serialize, Deserialize, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Serialize, Deserialize)]
pub enum Inputs {
    /// The same request every time.
    Fixed,
    /// Each request takes the next item of a shared list (single-use codes); a
    /// worker stops when the list runs out.
    Drain(Vec<String>),
    /// Each worker carries its own refresh token and replaces it with the
    /// `refresh_token` of every answer (one rotating chain per virtual user).
    Chains(Vec<String>),
}

#[derive(Serialize, Deserialize)]
pub struct Spec {
    pub addr: String,
    pub duration_ms: u64,
    pub workers: usize,
    pub request: Request,
    pub inputs: Inputs,
    /// A string every answer's body must contain (besides status 200).
    pub expect: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
pub struct LoadReport {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub exhausted: bool,
    pub elapsed_ms: f64,
    /// CPU time of the load generator's process.
    pub cpu_ms: Option<f64>,
}

impl LoadReport {
    /// Adds one worker's report, or its failure, to the total.
    pub fn absorb(&mut self, worker: Result<LoadReport, String>) {
        match worker {
            Ok(report) => {
                self.latencies_us.extend(report.latencies_us);
                self.errors += report.errors;
                self.exhausted |= report.exhausted;
                if self.first_error.is_none() {
                    self.first_error = report.first_error;
                }
            }
            Err(err) => {
                self.errors += 1;
                self.first_error
                    .get_or_insert(format!("worker failed: {err}"));
            }
        }
    }
}

/// Entry point of the child process.
pub fn main(spec_path: &str) -> anyhow::Result<()> {
    let spec: Spec = serde_json::from_slice(&std::fs::read(spec_path)?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut report = runtime.block_on(run(spec));
    report.cpu_ms = super::cpu_time().map(|d| d.as_secs_f64() * 1000.0);
    serde_json::to_writer(std::io::stdout().lock(), &report)?;
    Ok(())
}

/// What a worker feeds its requests with.
enum Feed {
    Fixed,
    Drain(Arc<Mutex<Vec<String>>>),
    Chain(String),
}

async fn run(spec: Spec) -> LoadReport {
    let spec = Arc::new(spec);
    let mut feeds: Vec<Feed> = match &spec.inputs {
        Inputs::Fixed => (0..spec.workers).map(|_| Feed::Fixed).collect(),
        Inputs::Drain(items) => {
            let shared = Arc::new(Mutex::new(items.clone()));
            (0..spec.workers)
                .map(|_| Feed::Drain(shared.clone()))
                .collect()
        }
        Inputs::Chains(tokens) => tokens.iter().cloned().map(Feed::Chain).collect(),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_millis(spec.duration_ms);
    let mut tasks = tokio::task::JoinSet::new();
    for feed in feeds.drain(..) {
        let spec = spec.clone();
        tasks.spawn(worker(spec, feed, deadline));
    }
    let mut total = LoadReport::default();
    while let Some(joined) = tasks.join_next().await {
        total.absorb(joined.map_err(|err| err.to_string()));
    }
    total.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    total.latencies_us.sort_unstable();
    total
}

async fn worker(spec: Arc<Spec>, mut feed: Feed, deadline: Instant) -> LoadReport {
    let mut report = LoadReport::default();
    let fixed = encode(&spec.addr, &spec.request, None);
    let mut conn: Option<Connection> = None;
    while Instant::now() < deadline {
        let request = match &mut feed {
            Feed::Fixed => None,
            Feed::Drain(items) => match items.lock().ok().and_then(|mut items| items.pop()) {
                Some(item) => Some(encode(&spec.addr, &spec.request, Some(&item))),
                None => {
                    report.exhausted = true;
                    break;
                }
            },
            Feed::Chain(token) => Some(encode(&spec.addr, &spec.request, Some(token))),
        };
        let bytes = request.as_deref().unwrap_or(&fixed);
        let started = Instant::now();
        let result = match &mut conn {
            Some(c) => c.exchange(bytes).await,
            None => match Connection::open(&spec.addr).await {
                Ok(c) => conn.insert(c).exchange(bytes).await,
                Err(err) => Err(err),
            },
        };
        let latency = started.elapsed();
        let checked = result.and_then(|(status, body)| {
            if status != 200 {
                return Err(format!(
                    "expected 200, got {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ));
            }
            if let Some(expect) = &spec.expect {
                if !super::contains(&body, expect.as_bytes()) {
                    return Err(format!("the answer lacks {expect}"));
                }
            }
            Ok(body)
        });
        match checked {
            Ok(body) => {
                if let Feed::Chain(token) = &mut feed {
                    match json_string(&body, "refresh_token") {
                        Some(next) => *token = next,
                        None => {
                            report.errors += 1;
                            report
                                .first_error
                                .get_or_insert("no refresh_token in the answer".into());
                            // A broken chain cannot go on.
                            break;
                        }
                    }
                }
                report
                    .latencies_us
                    .push(latency.as_micros().min(u32::MAX as u128) as u32);
            }
            Err(err) => {
                report.errors += 1;
                report.first_error.get_or_insert(err);
                conn = None;
                if matches!(feed, Feed::Chain(_)) {
                    break;
                }
            }
        }
    }
    report
}

fn encode(addr: &str, request: &Request, item: Option<&str>) -> Vec<u8> {
    let body = match item {
        Some(item) => request.body.replace(ITEM, item),
        None => request.body.clone(),
    };
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\n",
        request.method, request.path
    );
    for (name, value) in &request.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || request.method == "POST" {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

/// The value of a top-level string member, found by its key (our answers are
/// compact JSON with URL-safe token values, so no unescaping is needed).
fn json_string(body: &[u8], key: &str) -> Option<String> {
    let marker = format!("\"{key}\":\"");
    let start = body
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())?
        + marker.len();
    let end = body[start..].iter().position(|&b| b == b'"')? + start;
    String::from_utf8(body[start..end].to_vec()).ok()
}

/// One keep-alive connection; one request at a time, answers framed by
/// Content-Length (what the server sends for every answer measured here).
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(addr: &str) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>), String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|e| e.to_string())?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line: {}", head.lines().next().unwrap_or("")))?;
        let mut length = None;
        for line in head.split("\r\n").skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err("chunked answers are not supported".into());
                }
            }
        }
        let length = length.ok_or("an answer without content-length")?;
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        Ok((status, self.buf[head_end..head_end + length].to_vec()))
    }

    async fn fill(&mut self) -> Result<(), String> {
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}
