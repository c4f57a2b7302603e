//! A fault-injecting HTTP proxy in front of a real server on loopback: it forwards each request
//! to the upstream and then, for requests a scripted fault matches, loses the answer (closes the
//! connection after the upstream committed the write), replaces it with a gateway error, or drops
//! the request before it reaches the upstream, or lets another writer's request land first. For the ambiguous outcomes a real network
//! produces: "the write landed, the answer did not".
//!
//! One request per connection (it answers `Connection: close`), HTTP/1.1 with Content-Length
//! bodies: what the upstreams here (Apache, the demo server) send.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What happens to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded untouched (a placeholder, so a later request of the same method gets the next
    /// fault).
    Pass,
    /// Forwarded; the upstream's answer is thrown away and the connection closed.
    DropAnswer,
    /// Forwarded; the answer is replaced with this status (a gateway error after the commit).
    StatusAfter(u16),
    /// Not forwarded; the connection is closed after the request was read.
    DropRequest,
    /// Another writer's request (method, path, JSON body) reaches the upstream first, then this
    /// one is forwarded: a change that lands between a client's read and its write.
    WriteFirst(&'static str, &'static str, &'static str),
}

#[derive(Default)]
struct Script {
    /// (method, fault) in order; each matches the next request with that method once.
    faults: VecDeque<(String, Fault)>,
    /// "METHOD path → what happened", for assertions and failure messages.
    log: Vec<String>,
}

pub struct Proxy {
    pub url: String,
    script: Arc<Mutex<Script>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy on an ephemeral loopback port in front of `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let script = Arc::new(Mutex::new(Script::default()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s = script.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let accept = async {
                    loop {
                        let Ok((conn, _)) = listener.accept().await else {
                            continue;
                        };
                        let (s, up) = (s.clone(), upstream.clone());
                        tokio::spawn(async move {
                            let _ = serve(conn, &up, &s).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = rx => {}
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        Proxy {
            url: format!("http://{addr}"),
            script,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// The next `method` request gets `fault`.
    pub fn fault(&self, method: &str, fault: Fault) {
        self.script
            .lock()
            .unwrap()
            .faults
            .push_back((method.to_string(), fault));
    }

    /// What the proxy did, one line per request.
    pub fn log(&self) -> Vec<String> {
        self.script.lock().unwrap().log.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request: its head (with Connection rewritten to close) and its body.
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut lines = head.lines().filter(|l| !l.is_empty());
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut out = format!("{request_line}\r\n");
    for l in lines {
        let name = l.split(':').next().unwrap_or_default().trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    Ok(Some((request_line, out, body)))
}

/// The status code of a raw HTTP answer, as text ("?" when there is none).
fn status_of(answer: &[u8]) -> String {
    String::from_utf8_lossy(answer)
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_string()
}

async fn serve(mut conn: TcpStream, upstream: &str, script: &Mutex<Script>) -> std::io::Result<()> {
    let Some((request_line, head, body)) = read_request(&mut conn).await? else {
        return Ok(());
    };
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let fault = {
        let mut s = script.lock().unwrap();
        let i = s.faults.iter().position(|(m, _)| *m == method);
        i.and_then(|i| s.faults.remove(i)).map(|(_, f)| f)
    };
    let note = |what: String| {
        script
            .lock()
            .unwrap()
            .log
            .push(format!("{method} {path} → {what}"))
    };
    if fault == Some(Fault::DropRequest) {
        note("dropped before the upstream".into());
        return Ok(());
    }
    if let Some(Fault::WriteFirst(m, p, b)) = fault {
        let mut other = TcpStream::connect(upstream).await?;
        let req = format!(
            "{m} {p} HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        );
        other.write_all(req.as_bytes()).await?;
        let mut answer = Vec::new();
        other.read_to_end(&mut answer).await?;
        let status = status_of(&answer);
        note(format!("another writer's {m} {p} first: {status}"));
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(head.as_bytes()).await?;
    up.write_all(&body).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    let status = status_of(&answer);
    match fault {
        Some(Fault::DropAnswer) => {
            note(format!("upstream {status}, answer dropped"));
        }
        Some(Fault::StatusAfter(s)) => {
            note(format!("upstream {status}, answered {s}"));
            let body = "{\"error\": \"bad gateway\"}";
            let reply = format!(
                "HTTP/1.1 {s} Gateway Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(reply.as_bytes()).await?;
        }
        _ => {
            note(format!("upstream {status}"));
            conn.write_all(&answer).await?;
        }
    }
    conn.shutdown().await?;
    Ok(())
}
