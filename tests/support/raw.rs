//! A scripted HTTP/1.1 server over a raw socket: it answers the n-th request with the n-th
//! scripted reply, byte for byte (header spelling, broken bodies and all), and records every
//! request it received. For server behaviour a well-behaved framework will not produce.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One received request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header lines exactly as received ("Name: value").
    pub headers: Vec<String>,
    /// The request head's bytes exactly as received (for byte-exact checks).
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A scripted reply: raw bytes written as they are, then the connection is closed.
#[derive(Debug, Clone)]
pub struct Reply(pub Vec<u8>);

impl Reply {
    /// A complete answer with the given status line, extra header lines and body.
    pub fn new(status: &str, headers: &[&str], body: &str) -> Reply {
        let mut s = format!("HTTP/1.1 {status}\r\n");
        for h in headers {
            s.push_str(h);
            s.push_str("\r\n");
        }
        s.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        Reply(s.into_bytes())
    }

    /// JSON 200 with the given extra headers.
    pub fn json(headers: &[&str], body: &str) -> Reply {
        let mut h = vec!["Content-Type: application/json"];
        h.extend_from_slice(headers);
        Reply::new("200 OK", &h, body)
    }

    /// Raw bytes, e.g. a head promising more body than follows.
    pub fn raw(s: &str) -> Reply {
        Reply(s.as_bytes().to_vec())
    }
}

pub struct RawServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Serves `script` in order; requests beyond it get 500.
    pub async fn start(script: Vec<Reply>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            let mut script = script.into_iter();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let Some(req) = read_request(&mut sock).await else {
                    continue;
                };
                seen2.lock().unwrap().push(req);
                let reply = script
                    .next()
                    .unwrap_or_else(|| Reply::new("500 Script Exhausted", &[], "no more replies"));
                let _ = sock.write_all(&reply.0).await;
                let _ = sock.shutdown().await;
            }
        });
        RawServer { url, seen, task }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request (head and a Content-Length body) from `sock`.
pub async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<String> = lines.map(str::to_string).collect();
    let len = headers
        .iter()
        .find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        head: buf[..head_end].to_vec(),
        body,
    })
}
