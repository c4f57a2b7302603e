//! Local history: every version of a resource the app loaded, met on the server during a save,
//! or saved, kept on disk per resource (bounded), so yesterday's version — or a change someone
//! wrote over — can be found, compared and restored.
//!
//! One folder per resource (named by a hash of its URL), holding `index.json` and one file per
//! version. Only document texts and what the window shows about them (time, kind, validator,
//! the URL without credentials) are written, readable by the owner only.
//!
//! Must never: fail a save because the history could not be written (callers ignore errors),
//! or keep more than `MAX_ENTRIES` versions / `MAX_BYTES` per resource.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Versions kept per resource (the oldest go first).
pub const MAX_ENTRIES: usize = 50;
/// Bytes of versions kept per resource (the oldest go first; the newest is always kept).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One version in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    /// When it was recorded (RFC 3339, UTC).
    pub at: String,
    /// "loaded", "server" (met during a save: someone else's version) or "saved".
    pub kind: String,
    /// Its validator as the window shows it.
    pub validator: Option<String>,
    pub bytes: usize,
    /// Its file in the resource's folder (what `text` takes).
    pub file: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// The resource, without credentials.
    url: String,
    /// Oldest first.
    entries: Vec<HistoryEntry>,
    /// The number the next file gets.
    next: u64,
}

/// The history folder.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

/// A stable folder name for a URL (FNV-1a, 64 bit: not for security, only for naming).
fn key(url: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl History {
    /// The history kept under `dir`.
    pub fn new(dir: &Path) -> History {
        History {
            dir: dir.to_path_buf(),
        }
    }

    fn folder(&self, url: &str) -> PathBuf {
        self.dir.join(key(&display_url(url)))
    }

    fn index(&self, url: &str) -> Index {
        std::fs::read_to_string(self.folder(url).join("index.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records a version (nothing when it is the same text as the newest one recorded).
    pub fn record(
        &self,
        url: &str,
        kind: &str,
        validator: Option<String>,
        text: &str,
    ) -> std::io::Result<()> {
        let folder = self.folder(url);
        let mut index = self.index(url);
        if let Some(last) = index.entries.last() {
            if std::fs::read_to_string(folder.join(&last.file)).is_ok_and(|t| t == text) {
                return Ok(());
            }
        }
        let file = format!("v{:06}.json", index.next);
        index.next += 1;
        crate::files::write_private(&folder.join(&file), text.as_bytes())?;
        index.url = display_url(url);
        index.entries.push(HistoryEntry {
            at: ifmatch_engine::trail::rfc3339_now(),
            kind: kind.into(),
            validator,
            bytes: text.len(),
            file,
        });
        // Bounded: drop the oldest beyond the count or the bytes (the newest always stays).
        while index.entries.len() > MAX_ENTRIES
            || (index.entries.len() > 1
                && index.entries.iter().map(|e| e.bytes).sum::<usize>() > MAX_BYTES)
        {
            let old = index.entries.remove(0);
            let _ = std::fs::remove_file(folder.join(&old.file));
        }
        let json = serde_json::to_string_pretty(&index).expect("the index serialises");
        crate::files::write_private(&folder.join("index.json"), json.as_bytes())
    }

    /// The versions of `url`, newest first.
    pub fn list(&self, url: &str) -> Vec<HistoryEntry> {
        let mut e = self.index(url).entries;
        e.reverse();
        e
    }

    /// The text of one version (`file` as `list` gave it).
    pub fn text(&self, url: &str, file: &str) -> std::io::Result<String> {
        let known = self.index(url).entries.iter().any(|e| e.file == file);
        if !known {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "that version is not in this resource's history (it may have been dropped as \
                 the oldest)",
            ));
        }
        std::fs::read_to_string(self.folder(url).join(file))
    }
}

/// The URL as stored and shown: no user info, no secret-looking query values.
fn display_url(url: &str) -> String {
    url.parse::<ifmatch_engine::Url>()
        .map(|u| ifmatch_engine::trail::redact_url(&u))
        .unwrap_or_else(|_| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ifmatch-history-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn versions_are_kept_newest_first_without_repeats() {
        let d = dir("basic");
        let h = History::new(&d);
        let url = "http://h/settings";
        h.record(url, "loaded", Some("\"a\"".into()), "{\"v\": 1}")
            .unwrap();
        h.record(url, "loaded", Some("\"a\"".into()), "{\"v\": 1}")
            .unwrap();
        h.record(url, "saved", Some("\"b\"".into()), "{\"v\": 2}")
            .unwrap();
        let l = History::new(&d).list(url);
        assert_eq!(
            l.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            vec!["saved", "loaded"]
        );
        assert_eq!(h.text(url, &l[1].file).unwrap(), "{\"v\": 1}");
        assert!(
            h.text(url, "../../etc/passwd").is_err(),
            "only files of the index"
        );
        assert!(h.list("http://h/other").is_empty());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_history_is_bounded_and_holds_no_credentials() {
        let d = dir("bounded");
        let h = History::new(&d);
        let url = "http://user:secret-pw@h/x";
        for i in 0..(MAX_ENTRIES + 5) {
            h.record(url, "saved", None, &format!("{{\"v\": {i}}}"))
                .unwrap();
        }
        let l = h.list(url);
        assert_eq!(l.len(), MAX_ENTRIES);
        assert_eq!(
            h.text(url, &l[0].file).unwrap(),
            format!("{{\"v\": {}}}", MAX_ENTRIES + 4)
        );
        let folder = std::fs::read_dir(&d)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), MAX_ENTRIES + 1);
        let index = std::fs::read_to_string(folder.join("index.json")).unwrap();
        assert!(!index.contains("secret-pw"), "{index}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
