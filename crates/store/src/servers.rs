//! What the server check learnt about each server, kept between runs (`servers.json` in the
//! state folder): the safety profile a write consults before it trusts a server's preconditions.
//!
//! A profile belongs to an origin and a folder (`http://host:port/dir/`): resources in one
//! folder are served by the same software; a lookup walks up to the origin.
//!
//! A profile keeps the check's verdict for each kind of write (servers enforce preconditions
//! per method: one may refuse a stale PUT and apply a stale PATCH); a write consults the verdict
//! of its own method (`trusted_for`).
//!
//! Must never: fail a command because the file is missing, unreadable or garbled (an absent
//! profile only means "not known to be protected"); replace a stored verdict with a check that
//! reached none (its resource unreadable, no scratch resource, the server down), or store such
//! a check as a verdict.

use ifmatch_engine::check::{MethodVerdict, Report, Verdict, WriteKind};
use ifmatch_engine::trust::ServerFacts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One server's safety profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerProfile {
    /// The check's verdict.
    pub verdict: Verdict,
    /// When the check ran (seconds since 1970).
    pub checked_at: u64,
    /// The resource the check ran on.
    pub checked_url: String,
    /// The status it answers a stale write with.
    pub stale_write_status: Option<u16>,
    /// Its ETag was seen to stay the same while the content changed.
    pub etag_not_content_derived: bool,
    /// The verdict for each kind of write the check probed (empty in profiles stored before
    /// the check probed each method: those probed PUT, create and DELETE only).
    #[serde(default)]
    pub methods: BTreeMap<WriteKind, MethodVerdict>,
    /// Whether its If-Match check held under bursts of writes carrying one validator (false: a
    /// race was seen); None when not measured (profiles from before that probe).
    #[serde(default)]
    pub atomic: Option<bool>,
    /// Whether it offers an exclusive write lock it enforces (WebDAV class 2).
    #[serde(default)]
    pub lock: Option<bool>,
}

impl ServerProfile {
    /// The profile a check's report gives.
    pub fn from_report(report: &Report) -> ServerProfile {
        ServerProfile {
            verdict: report.verdict,
            checked_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            // Never user info or a secret-looking query value in a file.
            checked_url: report
                .url
                .parse::<ifmatch_engine::Url>()
                .map(|u| ifmatch_engine::trail::redact_url(&u))
                .unwrap_or_default(),
            stale_write_status: report.stale_write_status,
            etag_not_content_derived: report.etag_not_content_derived,
            methods: report
                .methods
                .iter()
                .map(|m| (m.method, m.verdict))
                .collect(),
            atomic: report.atomic,
            lock: report.lock,
        }
    }

    /// The facts a write's trust is decided from (`ifmatch_engine::trust::decide`).
    pub fn facts(&self) -> ServerFacts {
        ServerFacts {
            verdict: self.verdict,
            stale_write_status: self.stale_write_status,
            validators_miss_changes: self.etag_not_content_derived,
            methods: self.methods.clone(),
            atomic: self.atomic,
            lock: self.lock,
        }
    }

    /// Whether saves take the server's write lock around read → compare → write (the check
    /// found one it enforces).
    pub fn saves_under_lock(&self) -> bool {
        self.facts().offers_lock()
    }

    /// Whether an acknowledged write is watched (read again a moment later) although the server
    /// refuses stale writes: its validators miss changes, or its check was seen racing its own
    /// writes and there is no lock to make the write atomic.
    pub fn needs_watch(&self) -> bool {
        self.facts().needs_watch()
    }

    /// Whether this profile is a verdict at all (a check that could not reach one is not).
    pub fn conclusive(&self) -> bool {
        self.verdict != Verdict::Unknown
    }

    /// Whether a write of this kind can rely on the server's own preconditions
    /// (`ServerFacts::trusted_for`).
    pub fn trusted_for(&self, kind: WriteKind) -> bool {
        self.facts().trusted_for(kind)
    }

    /// Whether the check found that a write of this kind overwrites when stale
    /// (`ServerFacts::unprotected_for`).
    pub fn unprotected_for(&self, kind: WriteKind) -> bool {
        self.facts().unprotected_for(kind)
    }

    /// The verdict of each kind of write in words (`PUT: refuses stale writes; …`).
    pub fn method_words(&self) -> Vec<String> {
        self.methods
            .iter()
            .map(|(k, v)| format!("{}: {}", k.words(), v.words()))
            .collect()
    }

    /// Whether the server's own preconditions can be relied on (it refuses stale writes and its
    /// ETag follows the content).
    pub fn trusted(&self) -> bool {
        self.facts().trusted()
    }
}

/// The profiles file.
#[derive(Debug, Default)]
pub struct ServerProfiles {
    path: Option<PathBuf>,
    map: BTreeMap<String, ServerProfile>,
    /// Checks that reached no verdict, for folders with none stored: kept for this process only
    /// (the app does not re-run the check before every save), never written, and never in
    /// front of a stored verdict.
    unsettled: BTreeMap<String, ServerProfile>,
}

/// Where the profiles live: `$IFMATCH_STATE_DIR`, else `$XDG_STATE_HOME/ifmatch`, else
/// `~/.local/state/ifmatch`.
pub fn default_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("IFMATCH_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("ifmatch")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/ifmatch")))
}

/// The key of a URL's folder: origin and path up to the last `/` (query dropped).
pub fn folder_key(url: &str) -> Option<String> {
    let u: ifmatch_engine::Url = url.parse().ok()?;
    let path = u.path();
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(path.len())];
    Some(format!("{}{dir}", u.origin().ascii_serialization()))
}

impl ServerProfiles {
    /// Reads the profiles in `dir` (none when the file is missing or unreadable).
    pub fn open(dir: Option<&Path>) -> ServerProfiles {
        let path = dir.map(|d| d.join("servers.json"));
        let map = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        ServerProfiles {
            path,
            map,
            unsettled: BTreeMap::new(),
        }
    }

    /// The profile for `url`: its folder's, else the nearest parent folder's.
    pub fn lookup(&self, url: &str) -> Option<&ServerProfile> {
        let key = folder_key(url)?;
        walk_up(&self.map, &key).or_else(|| walk_up(&self.unsettled, &key))
    }

    /// Records `profile` for `url`'s folder and writes the file (atomically). A profile without
    /// a verdict (the check could not reach one) is not stored, and leaves what was stored as
    /// it was: returns whether it was stored.
    pub fn remember(&mut self, url: &str, profile: ServerProfile) -> std::io::Result<bool> {
        let Some(key) = folder_key(url) else {
            return Ok(false);
        };
        if !profile.conclusive() {
            self.unsettled.insert(key, profile);
            return Ok(false);
        }
        self.unsettled.remove(&key);
        self.map.insert(key, profile);
        let Some(path) = &self.path else {
            return Ok(true);
        };
        let json = serde_json::to_string_pretty(&self.map).expect("profiles serialise");
        crate::files::write_atomic(path, json.as_bytes()).map(|()| true)
    }
}

/// The profile in `map` for the folder `key` or the nearest folder above it.
fn walk_up<'a>(map: &'a BTreeMap<String, ServerProfile>, key: &str) -> Option<&'a ServerProfile> {
    let mut key = key.to_string();
    loop {
        if let Some(p) = map.get(&key) {
            return Some(p);
        }
        // Up one folder: drop the last segment of "…/a/b/".
        let trimmed = key.trim_end_matches('/');
        let cut = trimmed.rfind('/')?;
        if trimmed[..cut].ends_with('/') {
            // "scheme://host" reached
            return None;
        }
        key = format!("{}/", &trimmed[..cut]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(verdict: Verdict) -> ServerProfile {
        ServerProfile {
            verdict,
            checked_at: 1,
            checked_url: "http://h/a/x.json".into(),
            stale_write_status: Some(412),
            etag_not_content_derived: false,
            methods: BTreeMap::new(),
            atomic: None,
            lock: None,
        }
    }

    #[test]
    fn a_profile_covers_its_folder_and_below_and_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("ifmatch-servers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut p = ServerProfiles::open(Some(&dir));
        assert!(p.lookup("http://h:1/a/x.json").is_none());
        p.remember("http://h:1/a/x.json", profile(Verdict::Unprotected))
            .unwrap();
        let p = ServerProfiles::open(Some(&dir));
        assert_eq!(
            p.lookup("http://h:1/a/y.json?q=1").map(|x| x.verdict),
            Some(Verdict::Unprotected)
        );
        assert!(p.lookup("http://h:1/a/b/z.json").is_some());
        assert!(p.lookup("http://h:1/other/z.json").is_none());
        assert!(p.lookup("http://h:2/a/x.json").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_garbled_file_is_no_profile_not_an_error() {
        let dir = std::env::temp_dir().join(format!("ifmatch-servers-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("servers.json"), "{not json").unwrap();
        assert!(ServerProfiles::open(Some(&dir))
            .lookup("http://h/a")
            .is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_race_without_a_lock_is_watched_a_lock_is_used() {
        let mut p = profile(Verdict::Protected);
        assert!(
            !p.needs_watch() && !p.saves_under_lock(),
            "not measured: nothing"
        );
        p.atomic = Some(false);
        assert!(p.needs_watch(), "a race seen, no lock: watched");
        p.lock = Some(true);
        assert!(
            p.saves_under_lock() && !p.needs_watch(),
            "under the lock: atomic"
        );
        p.etag_not_content_derived = true;
        assert!(p.needs_watch(), "validators that miss changes: watched");
        // Stored and read back: the findings stay.
        let dir = std::env::temp_dir().join(format!("ifmatch-servers-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut ps = ServerProfiles::open(Some(&dir));
        ps.remember("http://h/a/x.json", p.clone()).unwrap();
        let back = ServerProfiles::open(Some(&dir));
        assert_eq!(back.lookup("http://h/a/y.json"), Some(&p));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_a_server_that_refuses_stale_writes_with_a_content_etag_is_trusted() {
        assert!(profile(Verdict::Protected).trusted());
        assert!(profile(Verdict::Caveats).trusted());
        assert!(!profile(Verdict::Unprotected).trusted());
        assert!(!profile(Verdict::Unknown).trusted());
        let mut p = profile(Verdict::Caveats);
        p.etag_not_content_derived = true;
        assert!(!p.trusted());
    }

    fn per_method(verdict: Verdict, methods: &[(WriteKind, MethodVerdict)]) -> ServerProfile {
        ServerProfile {
            methods: methods.iter().copied().collect(),
            ..profile(verdict)
        }
    }

    #[test]
    fn a_write_consults_the_verdict_of_its_own_method() {
        use MethodVerdict::*;
        let p = per_method(
            Verdict::Unprotected,
            &[
                (WriteKind::Create, Protected),
                (WriteKind::Put, Protected),
                (WriteKind::MergePatch, Unprotected),
                (WriteKind::JsonPatch, NotOffered),
                (WriteKind::Delete, Protected),
            ],
        );
        assert!(p.trusted_for(WriteKind::Put));
        assert!(p.trusted_for(WriteKind::Delete));
        assert!(!p.trusted_for(WriteKind::MergePatch));
        assert!(p.unprotected_for(WriteKind::MergePatch));
        assert!(!p.unprotected_for(WriteKind::Put));
        assert!(
            !p.trusted_for(WriteKind::JsonPatch),
            "not offered is not trusted"
        );
        let p = per_method(Verdict::Caveats, &[(WriteKind::Put, NotApplied)]);
        assert!(!p.trusted_for(WriteKind::Put), "acknowledged, not applied");
        // A profile stored before per-method verdicts never speaks for PATCH.
        let old = profile(Verdict::Protected);
        assert!(old.trusted_for(WriteKind::Put));
        assert!(!old.trusted_for(WriteKind::MergePatch));
        assert!(!old.trusted_for(WriteKind::JsonPatch));
        // Such a file still reads.
        let text = r#"{"http://h/a/": {"verdict": "protected", "checked_at": 1,
            "checked_url": "http://h/a/x", "stale_write_status": 412,
            "etag_not_content_derived": false}}"#;
        let map: BTreeMap<String, ServerProfile> = serde_json::from_str(text).unwrap();
        assert!(map["http://h/a/"].methods.is_empty());
        // The per-method verdicts survive the file.
        let dir = std::env::temp_dir().join(format!("ifmatch-servers-pm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut store = ServerProfiles::open(Some(&dir));
        store
            .remember(
                "http://h/a/x.json",
                per_method(
                    Verdict::Unprotected,
                    &[(WriteKind::MergePatch, Unprotected)],
                ),
            )
            .unwrap();
        let back = ServerProfiles::open(Some(&dir));
        let got = back.lookup("http://h/a/x.json").unwrap();
        assert_eq!(got.methods.get(&WriteKind::MergePatch), Some(&Unprotected));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_check_without_a_verdict_neither_replaces_nor_becomes_one() {
        let dir = std::env::temp_dir().join(format!("ifmatch-servers-inc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut p = ServerProfiles::open(Some(&dir));
        // Nothing stored: an inconclusive check is not stored as a verdict.
        assert!(!p
            .remember("http://h/a/x.json", profile(Verdict::Unknown))
            .unwrap());
        assert!(ServerProfiles::open(Some(&dir))
            .lookup("http://h/a/x.json")
            .is_none());
        // This process remembers it was tried (no check before every save), the file does not.
        assert_eq!(
            p.lookup("http://h/a/x.json").map(|x| x.verdict),
            Some(Verdict::Unknown)
        );
        // Never in front of a verdict stored for a folder above.
        let mut q = ServerProfiles::open(None);
        q.remember("http://h/top.json", profile(Verdict::Unprotected))
            .unwrap();
        q.remember("http://h/a/b/x.json", profile(Verdict::Unknown))
            .unwrap();
        assert_eq!(
            q.lookup("http://h/a/b/x.json").map(|x| x.verdict),
            Some(Verdict::Unprotected)
        );
        // A stored "unprotected" survives a later check that could not read its resource.
        assert!(p
            .remember("http://h/a/x.json", profile(Verdict::Unprotected))
            .unwrap());
        assert!(!p
            .remember("http://h/a/x.json", profile(Verdict::Unknown))
            .unwrap());
        for store in [&p, &ServerProfiles::open(Some(&dir))] {
            assert_eq!(
                store.lookup("http://h/a/x.json").map(|x| x.verdict),
                Some(Verdict::Unprotected)
            );
        }
        // A conclusive check replaces it.
        assert!(p
            .remember("http://h/a/x.json", profile(Verdict::Protected))
            .unwrap());
        assert_eq!(
            ServerProfiles::open(Some(&dir))
                .lookup("http://h/a/x.json")
                .map(|x| x.verdict),
            Some(Verdict::Protected)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
