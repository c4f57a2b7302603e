//! Cutting a change stream's bytes into what it says: lines of JSON (Kubernetes watch, CouchDB's
//! continuous feed) and server-sent events (the WHATWG `text/event-stream` format: `event:`,
//! `data:`, `id:` fields, a blank line ends an event, `:` starts a comment).
//!
//! Must never: panic on any byte sequence (a stream is the server's to garble), or hold more
//! than one unfinished line or event.

/// Bytes that are not a stream of the expected shape, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Garbage(pub String);

/// The longest line or event kept while waiting for its end (a stream that never ends a line is
/// garbage, not a reason to grow without bound).
const MAX_PENDING: usize = 64 * 1024 * 1024;

fn excerpt(b: &[u8]) -> String {
    let t = String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned();
    if b.len() > 60 {
        format!("{t}…")
    } else {
        t
    }
}

/// Lines of JSON, one value per line; empty lines are heartbeats.
#[derive(Debug, Default)]
pub struct JsonLines {
    pending: Vec<u8>,
}

impl JsonLines {
    /// The complete lines `chunk` finishes, each parsed; an error for a line that is not JSON.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<serde_json::Value>, Garbage> {
        self.pending.extend_from_slice(chunk);
        let mut out = vec![];
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice(line) {
                Ok(v) => out.push(v),
                Err(_) => {
                    return Err(Garbage(format!(
                        "a line that is not JSON: {:?}",
                        excerpt(line)
                    )))
                }
            }
        }
        if self.pending.len() > MAX_PENDING {
            return Err(Garbage("a line longer than 64 MB".into()));
        }
        Ok(out)
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its type (`message` when the stream named none).
    pub event: String,
    /// Its data lines, joined by `\n`.
    pub data: String,
    /// Its `id:` field, if it had one.
    pub id: Option<String>,
}

/// A `text/event-stream` parser.
#[derive(Debug, Default)]
pub struct EventStream {
    pending: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    seen_first_line: bool,
}

impl EventStream {
    /// The events `chunk` completes; an error for bytes that are not UTF-8 or a line that is
    /// neither a field nor a comment in the format's sense (a JSON document sent as is, say).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, Garbage> {
        self.pending.extend_from_slice(chunk);
        let mut out = vec![];
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n' || b == b'\r') {
            // A CR at the very end may be the first half of CRLF: wait for the next byte.
            if self.pending[end] == b'\r' && end + 1 == self.pending.len() {
                break;
            }
            let skip = if self.pending[end] == b'\r' && self.pending.get(end + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            let raw: Vec<u8> = self.pending.drain(..end + skip).collect();
            let mut line = &raw[..end];
            if !self.seen_first_line {
                self.seen_first_line = true;
                line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
            }
            let line = std::str::from_utf8(line)
                .map_err(|_| Garbage(format!("bytes that are not UTF-8: {:?}", excerpt(line))))?;
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    out.push(Event {
                        event: self.event.take().unwrap_or_else(|| "message".into()),
                        data,
                        id: self.id.clone(),
                    });
                }
                self.event = None;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => self.event = Some(value.to_string()),
                "data" => match &mut self.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => self.data = Some(value.to_string()),
                },
                "id" if !value.contains('\0') => self.id = Some(value.to_string()),
                "id" | "retry" => {}
                _ => {
                    return Err(Garbage(format!(
                        "a line that is not an event field: {:?}",
                        excerpt(line.as_bytes())
                    )))
                }
            }
        }
        if self.pending.len() > MAX_PENDING {
            return Err(Garbage("a line longer than 64 MB".into()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_across_chunks_with_heartbeats() {
        let mut p = JsonLines::default();
        assert!(p.feed(b"{\"a\":").unwrap().is_empty());
        let v = p.feed(b"1}\n\n\n{\"b\":2}\n{\"c\"").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1]["b"], 2);
        assert!(p.feed(b"junk\n").is_err());
    }

    #[test]
    fn events_by_the_format() {
        let mut p = EventStream::default();
        let text = "\u{feff}: hello\r\nevent: put\r\ndata: {\"path\":\"/\",\r\ndata: \"data\":1}\r\nid: 7\r\n\r\ndata:x\n\nevent: keep-alive\ndata: null\n\n";
        let mut all = vec![];
        // Every split point gives the same events.
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut q = EventStream::default();
            let mut evs = q.feed(&text.as_bytes()[..cut]).unwrap();
            evs.extend(q.feed(&text.as_bytes()[cut..]).unwrap());
            if all.is_empty() {
                all = evs.clone();
            }
            assert_eq!(evs, all, "cut at {cut}");
        }
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].event, "put");
        assert_eq!(all[0].data, "{\"path\":\"/\",\n\"data\":1}");
        assert_eq!(all[0].id.as_deref(), Some("7"));
        assert_eq!(all[1].event, "message");
        assert_eq!(all[2].event, "keep-alive");
        assert!(p.feed(b"{\"not\": \"sse\"}\n").is_err());
        assert!(EventStream::default().feed(b"data: \xff\xfe\n").is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut b = vec![];
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b.push(b"ab:\r\n {}\"\xff"[(seed % 10) as usize]);
            }
            let _ = EventStream::default().feed(&b);
            let _ = JsonLines::default().feed(&b);
        }
    }
}
