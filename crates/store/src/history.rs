//! Local history: every version of a resource the app loaded, met on the server during a save,
//! or saved, kept on disk per resource (bounded), so yesterday's version — or a change someone
//! wrote over — can be found, compared and restored.
//!
//! One folder per resource, named by a salted SHA-256 of its full URL (the salt: random bytes
//! made once, in the history folder's `salt` file), so two resources that differ only in a
//! secret-looking query value (`?key=eq.theme`, `?key=eq.locale`) have two histories, while a
//! folder name tells nothing guessable about a token in the URL. Each folder holds `index.json`
//! (which records the full digest: a truncated-name collision or an index copied from another
//! folder is detected and never served as this resource's versions) and one file per version.
//! Only document texts and what the window shows about them (time, kind, validator, the URL
//! without credentials) are written, readable by the owner only.
//!
//! Writers (tabs, threads, app processes) take the folder's lock (`.lock`) for a whole
//! `record`; files are written atomically, so readers need no lock. A garbled index is rebuilt
//! from the version files present (it is moved aside, never deleted), and a new version always
//! gets a file name that no file in the folder has yet: nothing in the folder is overwritten.
//!
//! Must never: fail a save because the history could not be written (callers ignore errors),
//! keep more than `MAX_ENTRIES` versions / `MAX_BYTES` per resource, serve one resource's
//! versions as another's, delete or overwrite a file the index does not name, or put a
//! credential into a file or a file name.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

/// Versions kept per resource (the oldest go first).
pub const MAX_ENTRIES: usize = 50;
/// Bytes of versions kept per resource (the oldest go first; the newest is always kept).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Folders tried for one resource when the first ones hold another resource's history.
const PROBES: usize = 16;
const SALT: &str = "salt";
const LOCK: &str = ".lock";
const INDEX: &str = "index.json";
/// The kind of a version found on disk without an index entry (after a garbled index): the
/// window shows it as it is.
const RECOVERED: &str = "recovered";

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

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    /// The resource, without credentials (for a person looking at the folder).
    url: String,
    /// Which resource it is: the salted digest of its full URL (hex).
    resource: String,
    /// Oldest first.
    entries: Vec<HistoryEntry>,
    /// The number the next file gets (a hint: a name already taken is never used).
    next: u64,
}

/// What a resource's folder holds.
struct Found {
    folder: PathBuf,
    index: Index,
    /// The index file was garbled (the index was rebuilt from the version files).
    garbled: bool,
}

/// The history folder.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

/// `e` with what was being done said first.
fn context(e: io::Error, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn not_found() -> io::Error {
    io::Error::new(
        ErrorKind::NotFound,
        "that version is not in this resource's history (it may have been dropped as the oldest)",
    )
}

/// The number of a version file's name (`v000012.json` → 12); None for any other name, so
/// nothing but version files is ever read, listed or removed as one.
fn version_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix('v')?.strip_suffix(".json")?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Makes `dir` (and its parents), readable by the owner only.
fn make_dir(dir: &Path) -> io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(io::Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "the history folder {} is a file, not a folder (nothing was changed)",
                dir.display()
            ),
        ));
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| {
        context(
            e,
            format!("the history folder {} could not be made", dir.display()),
        )
    })
}

/// An exclusive lock on `path` (made if absent), held until the file is dropped.
fn lock(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path).map_err(|e| {
        context(
            e,
            format!("the history lock {} could not be opened", path.display()),
        )
    })?;
    f.lock().map_err(|e| {
        context(
            e,
            format!("the history lock {} could not be taken", path.display()),
        )
    })?;
    Ok(f)
}

/// The versions found in `folder` (oldest first), for an index that is missing or garbled.
fn rebuild(folder: &Path, resource: &str, url: &str) -> io::Result<Index> {
    let mut found: Vec<(u64, HistoryEntry)> = vec![];
    let list = std::fs::read_dir(folder).map_err(|e| {
        context(
            e,
            format!("the history folder {} could not be read", folder.display()),
        )
    })?;
    for item in list.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let (Some(n), Ok(meta)) = (version_number(&name), item.metadata()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let at = meta
            .modified()
            .map(ifmatch_engine::trail::rfc3339)
            .unwrap_or_default();
        found.push((
            n,
            HistoryEntry {
                at,
                kind: RECOVERED.into(),
                validator: None,
                bytes: usize::try_from(meta.len()).unwrap_or(usize::MAX),
                file: name,
            },
        ));
    }
    found.sort_by_key(|(n, _)| *n);
    Ok(Index {
        url: display_url(url),
        resource: resource.into(),
        next: found.last().map_or(0, |(n, _)| n + 1),
        entries: found.into_iter().map(|(_, e)| e).collect(),
    })
}

impl History {
    /// The history kept under `dir`.
    pub fn new(dir: &Path) -> History {
        History {
            dir: dir.to_path_buf(),
        }
    }

    /// The salt of every folder name; None when there is none yet and `create` is false.
    fn salt(&self, create: bool) -> io::Result<Option<Vec<u8>>> {
        let path = self.dir.join(SALT);
        let read = |path: &Path| match std::fs::read(path) {
            Ok(b) if b.len() >= 16 => Ok(Some(b)),
            Ok(_) => Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "the history's salt file {} is damaged (too short); move it away to start a \
                     new history",
                    path.display()
                ),
            )),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(context(e, format!("{} could not be read", path.display()))),
        };
        if create {
            make_dir(&self.dir)?;
        }
        if let Some(s) = read(&path)? {
            return Ok(Some(s));
        }
        if !create {
            return Ok(None);
        }
        // Two processes starting the history at once make one salt.
        let _held = lock(&self.dir.join(LOCK))?;
        if let Some(s) = read(&path)? {
            return Ok(Some(s));
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| {
            io::Error::other(format!("no random bytes for the history's salt: {e}"))
        })?;
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        crate::files::write_private(&path, hex.as_bytes())
            .map_err(|e| context(e, format!("{} could not be written", path.display())))?;
        Ok(Some(hex.into_bytes()))
    }

    /// The folders that may hold `digest`'s history, in the order they are tried.
    fn candidates(&self, digest: &str) -> impl Iterator<Item = PathBuf> + '_ {
        let stem = digest[..32].to_string();
        (0..PROBES).map(move |n| {
            self.dir.join(if n == 0 {
                stem.clone()
            } else {
                format!("{stem}-{n}")
            })
        })
    }

    /// What `folder` holds: Ok(None) when it is another resource's history.
    fn read_folder(folder: &Path, digest: &str, url: &str) -> io::Result<Option<Found>> {
        if !folder.is_dir() {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "the history folder {} is not a folder (nothing was changed)",
                    folder.display()
                ),
            ));
        }
        let path = folder.join(INDEX);
        let index = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str::<Index>(&t).ok(),
            // A folder without an index: a writer stopped between the version and the index.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(Some(Found {
                    folder: folder.to_path_buf(),
                    index: rebuild(folder, digest, url)?,
                    garbled: false,
                }))
            }
            // Not text: as garbled as JSON of another shape.
            Err(e) if e.kind() == ErrorKind::InvalidData => None,
            Err(e) => return Err(context(e, format!("{} could not be read", path.display()))),
        };
        match index {
            Some(ix) if ix.resource != digest => Ok(None),
            Some(mut ix) => {
                // Only names of version files, each once: an index never names a file to read
                // or remove outside them.
                let mut seen = std::collections::HashSet::new();
                ix.entries
                    .retain(|e| version_number(&e.file).is_some() && seen.insert(e.file.clone()));
                Ok(Some(Found {
                    folder: folder.to_path_buf(),
                    index: ix,
                    garbled: false,
                }))
            }
            None => Ok(Some(Found {
                folder: folder.to_path_buf(),
                index: rebuild(folder, digest, url)?,
                garbled: true,
            })),
        }
    }

    /// Where a version before the salted names kept `url`'s history (a folder named by an
    /// unsalted hash of the URL without credentials), with its index; Some only when that name
    /// stands for this URL alone (nothing was taken out of it), so no other resource's versions
    /// are ever served from it.
    fn legacy(&self, url: &str) -> Option<(PathBuf, Index)> {
        #[derive(Deserialize)]
        struct Legacy {
            url: String,
            entries: Vec<HistoryEntry>,
            next: u64,
        }
        let parsed: ifmatch_engine::Url = url.parse().ok()?;
        let shown = ifmatch_engine::trail::redact_url(&parsed);
        if shown != parsed.as_str() || shown.contains("REDACTED") {
            return None;
        }
        let folder = self.dir.join(legacy_key(&shown));
        let text = std::fs::read_to_string(folder.join(INDEX)).ok()?;
        let old: Legacy = serde_json::from_str(&text).ok()?;
        if old.url != shown {
            return None;
        }
        let entries = old
            .entries
            .into_iter()
            .filter(|e| version_number(&e.file).is_some())
            .collect();
        Some((
            folder,
            Index {
                url: shown,
                resource: String::new(),
                entries,
                next: old.next,
            },
        ))
    }

    /// Moves the history an older version kept of `url` (see `legacy`) into its folder now.
    fn adopt_legacy(&self, url: &str, digest: &str) {
        let Some(first) = self.candidates(digest).next() else {
            return;
        };
        if first.exists() {
            return;
        }
        let Some((old, mut index)) = self.legacy(url) else {
            return;
        };
        index.resource = digest.to_string();
        let json = serde_json::to_string_pretty(&index).expect("the index serialises");
        if crate::files::write_private(&old.join(INDEX), json.as_bytes()).is_ok() {
            // Another process may have moved it first or made the new folder: then it stays.
            let _ = std::fs::rename(&old, &first);
        }
    }

    /// `url`'s history as it is on disk (None: nothing recorded yet), for reading.
    fn find(&self, url: &str) -> io::Result<Option<Found>> {
        let from_legacy = |resource: &str| {
            self.legacy(url).map(|(folder, mut index)| {
                index.resource = resource.to_string();
                Found {
                    folder,
                    index,
                    garbled: false,
                }
            })
        };
        let Some(salt) = self.salt(false)? else {
            return Ok(from_legacy(""));
        };
        let digest = digest(&salt, url);
        for (n, folder) in self.candidates(&digest).enumerate() {
            if !folder.exists() {
                return Ok(if n == 0 { from_legacy(&digest) } else { None });
            }
            if let Some(found) = Self::read_folder(&folder, &digest, url)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Records a version (nothing when it is the same text as the newest one recorded).
    pub fn record(
        &self,
        url: &str,
        kind: &str,
        validator: Option<String>,
        text: &str,
    ) -> io::Result<()> {
        let salt = self.salt(true)?.expect("a salt is made when asked");
        let digest = digest(&salt, url);
        self.adopt_legacy(url, &digest);
        let mut mine = None;
        for folder in self.candidates(&digest) {
            make_dir(&folder)?;
            let held = lock(&folder.join(LOCK))?;
            if let Some(found) = Self::read_folder(&folder, &digest, url)? {
                mine = Some((found, held));
                break;
            }
        }
        let Some((found, _held)) = mine else {
            return Err(io::Error::other(format!(
                "{PROBES} history folders for this resource hold other resources' histories"
            )));
        };
        let Found {
            folder,
            mut index,
            garbled,
        } = found;
        if garbled {
            // Kept beside, never deleted: whatever it held is still there to look at.
            let aside = (0..)
                .map(|n| folder.join(format!("index.garbled-{n}.json")))
                .find(|p| !p.exists())
                .expect("a free name");
            std::fs::rename(folder.join(INDEX), &aside).map_err(|e| {
                context(
                    e,
                    format!(
                        "the garbled index in {} could not be moved aside",
                        folder.display()
                    ),
                )
            })?;
        }
        let unchanged = index.entries.last().is_some_and(|last| {
            std::fs::read_to_string(folder.join(&last.file)).is_ok_and(|t| t == text)
        });
        if !unchanged {
            // A name no file has: above the index's hint, every entry and every file present.
            let on_disk = std::fs::read_dir(&folder)
                .map_err(|e| context(e, format!("{} could not be read", folder.display())))?
                .flatten()
                .filter_map(|f| version_number(&f.file_name().to_string_lossy()))
                .max();
            let in_index = index
                .entries
                .iter()
                .filter_map(|e| version_number(&e.file))
                .max();
            let mut n = [on_disk, in_index]
                .into_iter()
                .flatten()
                .map(|n| n.saturating_add(1))
                .fold(index.next, u64::max);
            let mut file = format!("v{n:06}.json");
            while folder.join(&file).exists() {
                n = n.saturating_add(1);
                file = format!("v{n:06}.json");
            }
            crate::files::write_private(&folder.join(&file), text.as_bytes()).map_err(|e| {
                context(
                    e,
                    format!("the version could not be written to {}", folder.display()),
                )
            })?;
            index.next = n.saturating_add(1);
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
        } else if !garbled {
            return Ok(());
        }
        index.url = display_url(url);
        index.resource = digest;
        let json = serde_json::to_string_pretty(&index).expect("the index serialises");
        crate::files::write_private(&folder.join(INDEX), json.as_bytes()).map_err(|e| {
            context(
                e,
                format!(
                    "the history index in {} could not be written",
                    folder.display()
                ),
            )
        })
    }

    /// The versions of `url`, newest first (none when its history cannot be read).
    pub fn list(&self, url: &str) -> Vec<HistoryEntry> {
        let mut e = self
            .find(url)
            .ok()
            .flatten()
            .map(|f| f.index.entries)
            .unwrap_or_default();
        e.reverse();
        e
    }

    /// The text of one version (`file` as `list` gave it).
    pub fn text(&self, url: &str, file: &str) -> io::Result<String> {
        if version_number(file).is_none() {
            return Err(not_found());
        }
        let found = self.find(url)?.ok_or_else(not_found)?;
        if !found.index.entries.iter().any(|e| e.file == file) {
            return Err(not_found());
        }
        // Only a regular file of the history's own size is a version: a link (to /etc/passwd,
        // say) or a giant file put there is not read, let alone restored into an editor.
        let path = found.folder.join(file);
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| context(e, "that version's file could not be read"))?;
        if !meta.file_type().is_file() || meta.len() > MAX_BYTES as u64 {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "that version's file is not one the history wrote (a link, a folder or too \
                 large): it is not read",
            ));
        }
        std::fs::read_to_string(path).map_err(|e| match e.kind() {
            ErrorKind::InvalidData => io::Error::new(
                ErrorKind::InvalidData,
                "that version's file is damaged (it is not UTF-8 text)",
            ),
            _ => context(e, "that version's file could not be read"),
        })
    }
}

/// The folder name an older version gave a URL without credentials (FNV-1a, 64 bit).
fn legacy_key(shown: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shown.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The salted digest of a full URL (hex SHA-256): the first 32 digits name its folder.
fn digest(salt: &[u8], url: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ifmatch history\0");
    h.update(salt);
    h.update(b"\0");
    h.update(url.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL as stored and shown: no user info, no secret-looking query values.
fn display_url(url: &str) -> String {
    url.parse::<ifmatch_engine::Url>()
        .map(|u| ifmatch_engine::trail::redact_url(&u))
        .unwrap_or_else(|_| "(not a URL)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ifmatch-history-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// The resource folders under `d` (not the salt, not the lock).
    fn folders(d: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    }

    /// Every file under `d`, with its name and its text.
    fn everything(d: &Path) -> Vec<(String, String)> {
        let mut out = vec![];
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push((p.display().to_string(), String::new()));
                out.extend(everything(&p));
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
        out
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
        let url = "http://user:secret-pw@h/x?access_token=tok-SECRET&sig=sig-SECRET";
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
        let f = folders(&d);
        assert_eq!(f.len(), 1);
        let versions = std::fs::read_dir(&f[0])
            .unwrap()
            .flatten()
            .filter(|e| version_number(&e.file_name().to_string_lossy()).is_some())
            .count();
        assert_eq!(versions, MAX_ENTRIES);
        for (name, text) in everything(&d) {
            for secret in ["secret-pw", "tok-SECRET", "sig-SECRET"] {
                assert!(
                    !name.contains(secret) && !text.contains(secret),
                    "{name}: {text}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn resources_that_differ_only_in_a_secret_looking_value_have_their_own_history() {
        let d = dir("per-resource");
        let h = History::new(&d);
        for (a, b) in [
            (
                "http://h/rest/v1/prefs?key=eq.theme",
                "http://h/rest/v1/prefs?key=eq.locale",
            ),
            ("http://h/books?author=a", "http://h/books?author=b"),
            ("http://h/shops?zipcode=1", "http://h/shops?zipcode=2"),
            ("http://alice:1@h/x", "http://bob:2@h/x"),
        ] {
            h.record(a, "loaded", None, &format!("{{\"of\": \"{a}\"}}"))
                .unwrap();
            assert!(h.list(b).is_empty(), "{b} shows {a}'s history");
            h.record(b, "loaded", None, &format!("{{\"of\": \"{b}\"}}"))
                .unwrap();
            for u in [a, b] {
                let l = h.list(u);
                assert_eq!(l.len(), 1, "{u}: {l:?}");
                assert_eq!(
                    h.text(u, &l[0].file).unwrap(),
                    format!("{{\"of\": \"{u}\"}}")
                );
            }
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn folder_names_are_salted_per_history() {
        let (d1, d2) = (dir("salt-1"), dir("salt-2"));
        let url = "http://h/x?token=1234";
        History::new(&d1).record(url, "loaded", None, "{}").unwrap();
        History::new(&d2).record(url, "loaded", None, "{}").unwrap();
        let (f1, f2) = (folders(&d1), folders(&d2));
        assert_ne!(
            f1[0].file_name(),
            f2[0].file_name(),
            "the same URL must not give the same folder name in two histories"
        );
        let plain: String = Sha256::digest(url.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!plain.starts_with(&*f1[0].file_name().unwrap().to_string_lossy()));
        for d in [d1, d2] {
            let _ = std::fs::remove_dir_all(&d);
        }
    }

    #[test]
    fn a_history_an_older_version_kept_is_found_only_for_its_own_url() {
        let d = dir("legacy");
        let h = History::new(&d);
        // As the version before salted names wrote them.
        let write_legacy = |shown: &str, text: &str| {
            let f = d.join(legacy_key(shown));
            std::fs::create_dir_all(&f).unwrap();
            std::fs::write(f.join("v000000.json"), text).unwrap();
            let index = serde_json::json!({
                "url": shown,
                "entries": [{"at": "2026-01-01T00:00:00.000Z", "kind": "saved",
                             "validator": "\"1\"", "bytes": text.len(), "file": "v000000.json"}],
                "next": 1,
            });
            std::fs::write(f.join(INDEX), index.to_string()).unwrap();
            f
        };
        let plain = "http://h/settings";
        let old = write_legacy(plain, "{\"old\": true}");
        // Filed under a redacted URL: it may be any of the URLs that redact alike.
        write_legacy("http://h/prefs?key=REDACTED", "{\"whose\": \"?\"}");
        let l = h.list(plain);
        assert_eq!(l.len(), 1);
        assert_eq!(h.text(plain, &l[0].file).unwrap(), "{\"old\": true}");
        assert!(h.list("http://h/prefs?key=eq.theme").is_empty());
        h.record(plain, "loaded", None, "{\"new\": true}").unwrap();
        let l = h.list(plain);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[1].kind, "saved");
        assert_eq!(h.text(plain, &l[1].file).unwrap(), "{\"old\": true}");
        assert!(!old.exists(), "moved into the salted folder");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_foreign_index_is_never_served_and_loses_nothing() {
        let d = dir("foreign");
        let h = History::new(&d);
        let (a, b) = ("http://h/a", "http://h/b");
        h.record(a, "loaded", None, "{\"of\": \"a\"}").unwrap();
        h.record(b, "loaded", None, "{\"of\": \"b\"}").unwrap();
        let fb = folders(&d)
            .into_iter()
            .find(|f| {
                std::fs::read_to_string(f.join(INDEX))
                    .unwrap()
                    .contains("/b")
            })
            .unwrap();
        let fa = folders(&d).into_iter().find(|f| f != &fb).unwrap();
        // B's folder now holds A's index (copied, or a truncated-name collision).
        std::fs::copy(fa.join(INDEX), fb.join(INDEX)).unwrap();
        assert!(h.list(b).is_empty(), "{:?}", h.list(b));
        assert!(h.text(b, "v000000.json").is_err());
        h.record(b, "saved", None, "{\"of\": \"b\", \"v\": 2}")
            .unwrap();
        let l = h.list(b);
        assert_eq!(l.len(), 1);
        assert_eq!(h.text(b, &l[0].file).unwrap(), "{\"of\": \"b\", \"v\": 2}");
        // Nothing lost: B's first version is still in its folder, A's history is whole.
        assert_eq!(
            std::fs::read_to_string(fb.join("v000000.json")).unwrap(),
            "{\"of\": \"b\"}"
        );
        assert_eq!(h.text(a, &h.list(a)[0].file).unwrap(), "{\"of\": \"a\"}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_garbled_index_never_leads_to_overwriting_a_version() {
        for garble in [
            "not json at all {",
            "[1, 2, 3]",
            "{\"url\": \"x\", \"entries\": []}",
            "\u{0}\u{1}binary",
            "lower next",
        ] {
            let d = dir("garbled");
            let h = History::new(&d);
            let url = "http://h/x";
            for i in 0..3 {
                h.record(url, "saved", None, &format!("{{\"v\": {i}}}"))
                    .unwrap();
            }
            let f = folders(&d).pop().unwrap();
            let index = f.join(INDEX);
            let before = std::fs::read_to_string(&index).unwrap();
            let written = if garble == "lower next" {
                before.replace("\"next\": 3", "\"next\": 0")
            } else {
                garble.to_string()
            };
            assert_ne!(written, before);
            std::fs::write(&index, &written).unwrap();
            h.record(url, "saved", None, "{\"v\": 3}").unwrap();
            for i in 0..3 {
                assert_eq!(
                    std::fs::read_to_string(f.join(format!("v{i:06}.json"))).unwrap(),
                    format!("{{\"v\": {i}}}"),
                    "{garble}: an old version was overwritten"
                );
            }
            let l = h.list(url);
            assert_eq!(l.len(), 4, "{garble}: {l:?}");
            assert_eq!(h.text(url, &l[0].file).unwrap(), "{\"v\": 3}");
            for (i, e) in l.iter().rev().enumerate() {
                assert_eq!(h.text(url, &e.file).unwrap(), format!("{{\"v\": {i}}}"));
            }
            if garble != "lower next" {
                let aside = std::fs::read_to_string(f.join("index.garbled-0.json")).unwrap();
                assert_eq!(aside, written, "the garbled index is kept aside");
            }
            let _ = std::fs::remove_dir_all(&d);
        }
    }

    #[test]
    fn an_index_naming_other_files_never_reads_or_removes_them() {
        let d = dir("names");
        let h = History::new(&d);
        let url = "http://h/x";
        h.record(url, "saved", None, "{}").unwrap();
        let f = folders(&d).pop().unwrap();
        let victim = d.join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        std::fs::write(f.join("notes.txt"), "mine").unwrap();
        let mut index: Index =
            serde_json::from_str(&std::fs::read_to_string(f.join(INDEX)).unwrap()).unwrap();
        for file in ["../victim.txt", "notes.txt", "v1.json/../../victim.txt"] {
            index.entries.insert(
                0,
                HistoryEntry {
                    at: String::new(),
                    kind: "saved".into(),
                    validator: None,
                    bytes: 1,
                    file: file.into(),
                },
            );
        }
        std::fs::write(f.join(INDEX), serde_json::to_string(&index).unwrap()).unwrap();
        assert_eq!(h.list(url).len(), 1, "only version files are listed");
        assert!(h.text(url, "../victim.txt").is_err());
        for i in 0..(MAX_ENTRIES + 3) {
            h.record(url, "saved", None, &format!("{{\"v\": {i}}}"))
                .unwrap();
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(
            std::fs::read_to_string(f.join("notes.txt")).unwrap(),
            "mine"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_folder_that_is_a_file_or_a_damaged_version_gives_a_clear_error() {
        let d = dir("is-a-file");
        std::fs::create_dir_all(d.parent().unwrap()).unwrap();
        std::fs::write(&d, "a file where the history should be").unwrap();
        let h = History::new(&d);
        let e = h.record("http://h/x", "saved", None, "{}").unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        assert!(h.list("http://h/x").is_empty());
        assert_eq!(
            std::fs::read_to_string(&d).unwrap(),
            "a file where the history should be"
        );
        std::fs::remove_file(&d).unwrap();

        // The resource's own folder replaced by a file.
        let url = "http://h/x";
        h.record(url, "saved", None, "{}").unwrap();
        let f = folders(&d).pop().unwrap();
        std::fs::remove_dir_all(&f).unwrap();
        std::fs::write(&f, "not a folder").unwrap();
        let e = h.record(url, "saved", None, "{\"v\": 2}").unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        assert!(h.list(url).is_empty());
        assert!(h.text(url, "v000000.json").is_err());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "not a folder");
        std::fs::remove_file(&f).unwrap();

        // A version file that is not text.
        h.record(url, "saved", None, "{}").unwrap();
        let f = folders(&d).pop().unwrap();
        std::fs::write(f.join("v000000.json"), [0xff, 0xfe, 0x00]).unwrap();
        let l = h.list(url);
        let e = h.text(url, &l[0].file).unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        h.record(url, "saved", None, "{\"v\": 3}").unwrap();
        assert_eq!(h.list(url).len(), 2);
        assert_eq!(
            std::fs::read(f.join("v000000.json")).unwrap(),
            vec![0xff, 0xfe, 0x00]
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_damaged_salt_is_said_and_left_as_it_is() {
        let d = dir("salt-damaged");
        let h = History::new(&d);
        h.record("http://h/x", "saved", None, "{}").unwrap();
        std::fs::write(d.join(SALT), "short").unwrap();
        let e = h
            .record("http://h/x", "saved", None, "{\"v\": 2}")
            .unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        assert!(h.list("http://h/x").is_empty());
        assert_eq!(std::fs::read_to_string(d.join(SALT)).unwrap(), "short");
        assert_eq!(folders(&d).len(), 1, "the history stays where it is");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_folder_gives_an_error_and_keeps_every_version() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("unwritable");
        let h = History::new(&d);
        let url = "http://h/x";
        h.record(url, "saved", None, "{\"v\": 1}").unwrap();
        let f = folders(&d).pop().unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o500)).unwrap();
        if std::fs::write(f.join("probe"), "").is_ok() {
            // Running as root: permissions are not enforced; nothing to test here.
            let _ = std::fs::remove_file(f.join("probe"));
            eprintln!("skipped: permissions are not enforced for this user");
        } else {
            let e = h.record(url, "saved", None, "{\"v\": 2}").unwrap_err();
            assert!(e.to_string().contains("could not"), "{e}");
            let l = h.list(url);
            assert_eq!(l.len(), 1);
            assert_eq!(h.text(url, &l[0].file).unwrap(), "{\"v\": 1}");
        }
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o700)).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn threads_recording_at_once_lose_nothing_and_mix_nothing() {
        let d = dir("threads");
        let h = History::new(&d);
        let url = "http://h/x";
        std::thread::scope(|s| {
            for t in 0..4 {
                let h = &h;
                s.spawn(move || {
                    for i in 0..8 {
                        h.record(
                            url,
                            "saved",
                            Some(format!("{t}-{i}")),
                            &format!("[{t}, {i}]"),
                        )
                        .unwrap();
                    }
                });
            }
        });
        let l = h.list(url);
        assert_eq!(l.len(), 32);
        for e in &l {
            let (t, i) = e.validator.as_deref().unwrap().split_once('-').unwrap();
            assert_eq!(h.text(url, &e.file).unwrap(), format!("[{t}, {i}]"));
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
