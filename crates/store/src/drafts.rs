//! Drafts: for every open tab, everything needed to bring it back after a crash, a kill -9 or a
//! closed window — connection, resource, the base version and its validator, the user's text, and
//! a conflict round in progress with the resolutions made so far.
//!
//! Written on every edit (the window debounces), atomically: a temporary file in the same folder,
//! flushed to disk, then renamed over the draft, so a crash leaves the old draft or the new one,
//! never half of one. A draft that cannot be read is set aside (`.unreadable`), never deleted.
//! Drafts hold documents, never secrets.

use crate::files::write_atomic;
use ifmatch_engine::merge::Stats;
use ifmatch_engine::round::{ConflictInfo, Decision, Round};
use ifmatch_engine::session::Version;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

/// Everything needed to bring one tab back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub tab_id: String,
    pub connection_id: String,
    pub url: String,
    pub base: Version,
    /// The editor's text (the Result during a conflict round).
    pub text: String,
    /// The merge or conflict round in progress, with every Accept made.
    #[serde(default, deserialize_with = "stored_round")]
    pub round: Option<Round>,
    pub updated_at: String,
}

/// A round as a draft holds it: the engine's `Round`, or the shape drafts had before it (what
/// the window was shown, `view`, beside the server version and the decisions; the oldest of
/// those flattened the window's save answer into `view`, with the same field names). Both
/// restore, so an upgrade loses no draft.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredRound {
    Now(Round),
    Then {
        view: ViewThen,
        current: Version,
        #[serde(default)]
        decisions: Vec<Option<Decision>>,
    },
}

/// The fields of the window's round view that a round is rebuilt from.
#[derive(Deserialize)]
struct ViewThen {
    text: String,
    #[serde(default)]
    base_text: Option<String>,
    #[serde(default)]
    mine_text: Option<String>,
    #[serde(default)]
    conflicts: Vec<ConflictInfo>,
    #[serde(default)]
    stats: Stats,
    #[serde(default)]
    positional_arrays: Vec<String>,
}

fn stored_round<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Round>, D::Error> {
    Ok(Option::<StoredRound>::deserialize(d)?.map(|r| match r {
        StoredRound::Now(r) => r,
        StoredRound::Then {
            view,
            current,
            decisions,
        } => Round {
            current,
            start: view.text,
            base: view.base_text,
            mine: view.mine_text,
            conflicts: view.conflicts,
            decisions,
            stats: view.stats,
            positional_arrays: view.positional_arrays,
        },
    }))
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

    pub fn put(&self, d: &Draft) -> std::io::Result<()> {
        let json = serde_json::to_vec(d).map_err(std::io::Error::other)?;
        write_atomic(&self.path(&d.tab_id), &json)
    }

    pub fn remove(&self, tab_id: &str) {
        let _ = std::fs::remove_file(self.path(tab_id));
    }

    /// Every readable draft, oldest tab first.
    pub fn load_all(&self) -> Vec<Draft> {
        self.load_all_telling().0
    }

    /// `load_all`, and where each draft that could not be read was set aside (kept byte for
    /// byte, never deleted): the window tells the user their edits there were not restored.
    pub fn load_all_telling(&self) -> (Vec<Draft>, Vec<PathBuf>) {
        let mut out = vec![];
        let mut set_aside = vec![];
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (out, set_aside);
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Draft>(&b).ok())
            {
                Some(d) => out.push(d),
                None => {
                    let aside = set_aside_name(&p);
                    if std::fs::rename(&p, &aside).is_ok() {
                        set_aside.push(aside);
                    } else {
                        set_aside.push(p);
                    }
                }
            }
        }
        out.sort_by_key(|d| natural_id(&d.tab_id));
        (out, set_aside)
    }
}

/// A name beside `p` for an unreadable draft that no earlier one set aside holds (a rename
/// over it would delete that one): `x.unreadable`, else `x.2.unreadable`, `x.3.unreadable`, …
fn set_aside_name(p: &std::path::Path) -> PathBuf {
    let first = p.with_extension("unreadable");
    if !first.exists() {
        return first;
    }
    (2u32..)
        .map(|n| p.with_extension(format!("{n}.unreadable")))
        .find(|c| !c.exists())
        .expect("a free name")
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

    fn draft(id: &str, text: &str) -> Draft {
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
        let all = s.load_all();
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
        assert_eq!(s.load_all().len(), 1);
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Drafts written before the engine's `Round` existed still restore: the shape with the
    /// window's view beside the server version and the decisions, and the older one whose view
    /// was the flattened save answer.
    #[test]
    fn drafts_of_earlier_shapes_restore_their_round() {
        let then = r#"{"tab_id":"t1-1","connection_id":"demo","url":"http://h/x","base":{"text":"{\"a\": 1}","validator":null},"text":"{\"a\": 3}","round":{"view":{"message":"m","text":"{\n  \"a\": 1\n}\n","validator":"\"v2\"","base_text":"{\"a\": 1}","mine_text":"{\"a\": 2}","theirs_text":"{\"a\": 3}","conflicts":[{"pointer":"/a","kind":"modify/modify","array_hunk":false,"base":"1","mine":"2","theirs":"3","label":"a","lines":{"base":null,"mine":null,"theirs":null}}],"stats":{"from_mine":0,"from_theirs":0,"same_both":0,"conflicts":1},"positional_arrays":[],"mine_hunks":[],"theirs_hunks":[]},"current":{"text":"{\"a\": 3}","validator":{"type":"etag","tag":{"raw":"\"v2\"","weak":false,"opaque":"v2","quoted":true}}},"decisions":[{"choice":"theirs","value":"3"}]},"updated_at":"x"}"#;
        let oldest = r#"{"tab_id":"t1-2","connection_id":"demo","url":"http://h/x","base":{"text":"{\"a\": 1}","validator":null},"text":"{}","round":{"view":{"kind":"conflicts","message":"m","outcome_kind":null,"text":"{\n  \"a\": 1\n}\n","validator":"\"v2\"","base_text":"{\"a\": 1}","mine_text":"{\"a\": 2}","theirs_text":"{\"a\": 3}","conflicts":[{"pointer":"/a","kind":"modify/modify","array_hunk":false,"base":"1","mine":"2","theirs":"3"}],"stats":{"from_mine":0,"from_theirs":0,"same_both":0,"conflicts":1},"positional_arrays":[],"rounds":1},"current":{"text":"{\"a\": 3}","validator":null}},"updated_at":"x"}"#;
        for (json, decided) in [(then, true), (oldest, false)] {
            let d: Draft = serde_json::from_str(json).expect("an earlier draft reads");
            let r = d.round.expect("its round");
            assert_eq!(r.start, "{\n  \"a\": 1\n}\n");
            assert_eq!(r.base.as_deref(), Some("{\"a\": 1}"));
            assert_eq!(r.mine.as_deref(), Some("{\"a\": 2}"));
            assert_eq!(r.current.text, "{\"a\": 3}");
            assert_eq!(r.conflicts.len(), 1);
            assert_eq!(r.conflicts[0].pointer, "/a");
            assert_eq!(r.stats.conflicts, 1);
            assert_eq!(r.decisions.first().is_some_and(|x| x.is_some()), decided);
            // Written again, it is the new shape, and reads back the same.
            let again: Draft = serde_json::from_str(
                &serde_json::to_string(&Draft {
                    round: Some(r.clone()),
                    ..draft("t9-9", "{}")
                })
                .unwrap(),
            )
            .unwrap();
            assert_eq!(again.round, Some(r));
        }
    }
}
