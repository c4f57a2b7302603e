//! What the server check learnt about each server, kept between runs (`servers.json` in the
//! state folder): the safety profile a write consults before it trusts a server's preconditions.
//!
//! A profile belongs to an origin and a folder (`http://host:port/dir/`): resources in one
//! folder are served by the same software; a lookup walks up to the origin.
//!
//! Must never: fail a command because the file is missing, unreadable or garbled (an absent
//! profile only means "not known to be protected").

use ifmatch_engine::check::{Report, Verdict};
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
        }
    }

    /// Whether the server's own preconditions can be relied on (it refuses stale writes and its
    /// ETag follows the content).
    pub fn trusted(&self) -> bool {
        matches!(self.verdict, Verdict::Protected | Verdict::Caveats)
            && !self.etag_not_content_derived
    }
}

/// The profiles file.
#[derive(Debug, Default)]
pub struct ServerProfiles {
    path: Option<PathBuf>,
    map: BTreeMap<String, ServerProfile>,
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
        ServerProfiles { path, map }
    }

    /// The profile for `url`: its folder's, else the nearest parent folder's.
    pub fn lookup(&self, url: &str) -> Option<&ServerProfile> {
        let mut key = folder_key(url)?;
        loop {
            if let Some(p) = self.map.get(&key) {
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

    /// Records `profile` for `url`'s folder and writes the file (atomically).
    pub fn remember(&mut self, url: &str, profile: ServerProfile) -> std::io::Result<()> {
        let Some(key) = folder_key(url) else {
            return Ok(());
        };
        self.map.insert(key, profile);
        let Some(path) = &self.path else {
            return Ok(());
        };
        let json = serde_json::to_string_pretty(&self.map).expect("profiles serialise");
        crate::files::write_atomic(path, json.as_bytes())
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
    fn only_a_server_that_refuses_stale_writes_with_a_content_etag_is_trusted() {
        assert!(profile(Verdict::Protected).trusted());
        assert!(profile(Verdict::Caveats).trusted());
        assert!(!profile(Verdict::Unprotected).trusted());
        assert!(!profile(Verdict::Unknown).trusted());
        let mut p = profile(Verdict::Caveats);
        p.etag_not_content_derived = true;
        assert!(!p.trusted());
    }
}
