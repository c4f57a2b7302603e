//! Drafts: for every open tab, everything needed to bring it back after a crash, a kill -9 or a
//! closed window — connection, resource, the base version and its validator, the user's text, and
//! a conflict round in progress with the resolutions made so far.
//!
//! Written on every edit (the window debounces), atomically: a temporary file in the same folder,
//! flushed to disk, then renamed over the draft, so a crash leaves the old draft or the new one,
//! never half of one. A draft that cannot be read is set aside (`.unreadable`), never deleted.
//! Drafts hold documents, never secrets.

use crate::files::write_atomic;
use ifmatch_engine::round::Decision;
use ifmatch_engine::session::Version;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A conflict or merge round in progress. `V` is what the window was shown (the desktop's view of
/// a save result); this crate only keeps it, so it names no window type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRound<V> {
    /// What the window showed (the three texts, the conflicts).
    pub view: V,
    /// The server version the round merged with (its validator is what a resubmit carries).
    pub current: Version,
    /// Per conflict, the last Accept made (None: none). Edits by hand need no record: they are
    /// in the text.
    #[serde(default)]
    pub decisions: Vec<Option<Decision>>,
}

/// Everything needed to bring one tab back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft<V> {
    pub tab_id: String,
    pub connection_id: String,
    pub url: String,
    pub base: Version,
    /// The editor's text (the Result during a conflict round).
    pub text: String,
    pub round: Option<StoredRound<V>>,
    pub updated_at: String,
}

pub struct DraftStore {
    dir: PathBuf,
}

impl DraftStore {
    pub fn new(dir: PathBuf) -> std::io::Result<DraftStore> {
        std::fs::create_dir_all(&dir)?;
        Ok(DraftStore { dir })
    }

    fn path(&self, tab_id: &str) -> PathBuf {
        let safe: String = tab_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    pub fn put<V: Serialize>(&self, d: &Draft<V>) -> std::io::Result<()> {
        let json = serde_json::to_vec(d).map_err(std::io::Error::other)?;
        write_atomic(&self.path(&d.tab_id), &json)
    }

    pub fn remove(&self, tab_id: &str) {
        let _ = std::fs::remove_file(self.path(tab_id));
    }

    /// Every readable draft, oldest tab first.
    pub fn load_all<V: DeserializeOwned>(&self) -> Vec<Draft<V>> {
        let mut out = vec![];
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Draft<V>>(&b).ok())
            {
                Some(d) => out.push(d),
                None => {
                    let _ = std::fs::rename(&p, p.with_extension("unreadable"));
                }
            }
        }
        out.sort_by_key(|d| natural_id(&d.tab_id));
        out
    }
}

/// Tab ids are "t<millis>-<n>": order by their numbers.
fn natural_id(id: &str) -> (u128, u64) {
    let rest = id.trim_start_matches('t');
    let (a, b) = rest.split_once('-').unwrap_or((rest, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: &str, text: &str) -> Draft<String> {
        Draft {
            tab_id: id.into(),
            connection_id: "demo".into(),
            url: "http://127.0.0.1:1/settings".into(),
            base: Version {
                text: "{}".into(),
                validator: None,
            },
            text: text.into(),
            round: None,
            updated_at: String::new(),
        }
    }

    #[test]
    fn put_load_remove_and_unreadable_set_aside() {
        let dir = std::env::temp_dir().join(format!("ifmatch-drafts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = DraftStore::new(dir.clone()).unwrap();
        s.put(&draft("t200-2", "{\"b\": 1.50}")).unwrap();
        s.put(&draft("t100-1", "{\"a\": 1}")).unwrap();
        s.put(&draft("t100-1", "{\"a\": 2}")).unwrap();
        std::fs::write(dir.join("t300-3.json"), "{ half a draf").unwrap();
        let all = s.load_all::<String>();
        assert_eq!(
            all.iter().map(|d| d.tab_id.as_str()).collect::<Vec<_>>(),
            vec!["t100-1", "t200-2"]
        );
        assert_eq!(all[0].text, "{\"a\": 2}");
        assert_eq!(all[1].text, "{\"b\": 1.50}", "text kept exactly");
        assert!(
            dir.join("t300-3.unreadable").exists(),
            "an unreadable draft is kept aside"
        );
        s.remove("t100-1");
        assert_eq!(s.load_all::<String>().len(), 1);
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
