//! Where connection secrets (tokens, passwords, header values) live: the OS keyring, never the
//! settings store, a draft, a log line or an error message.
//!
//! On Linux desktops that is the Secret Service (GNOME Keyring, KWallet); without one, the
//! kernel's keyutils store (it lasts until logout). macOS and Windows use their native stores. When
//! no keyring works, secrets are kept in memory only — unless the user explicitly opts into a
//! weaker file in the app's data folder (owner-only permissions), which the window then shows.

use keyring::Entry;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

pub const SERVICE: &str = "dev.ifmatch.desktop";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Secret Service over D-Bus (GNOME Keyring, KWallet), or the platform's own store.
    OsKeyring,
    /// The Linux kernel's keyutils store: kept until logout.
    KernelKeyring,
    /// A file in the app's data folder, readable by the user only: chosen explicitly.
    File,
    /// Nothing that persists: secrets last until the app closes.
    MemoryOnly,
}

impl Backend {
    pub fn words(self) -> &'static str {
        match self {
            Backend::OsKeyring => "Secrets are kept in the system keyring.",
            Backend::KernelKeyring => {
                "No desktop keyring (Secret Service) was found: secrets are kept in the kernel keyring until you log out."
            }
            Backend::File => {
                "Weaker storage chosen: secrets are kept in a file in ifmatch's data folder, readable by your user account, not in a keyring."
            }
            Backend::MemoryOnly => {
                "No keyring is available: secrets are kept only until ifmatch closes. You can opt into a weaker file-based storage."
            }
        }
    }
}

/// Why a secret could not be stored (its value is never part of the words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The OS keyring refused it.
    #[error("the keyring refused the secret: {0}")]
    Keyring(String),
    /// The secrets file could not be written.
    #[error("the secrets file could not be written: {0}")]
    File(String),
    /// File storage was chosen but there is no data folder.
    #[error("there is no data folder for the secrets file")]
    NoDataFolder,
}

pub struct Secrets {
    backend: Backend,
    file: Option<PathBuf>,
    memory: Mutex<BTreeMap<String, String>>,
}

fn entry(backend: Backend, user: &str) -> keyring::Result<Entry> {
    match backend {
        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        Backend::OsKeyring => Ok(Entry::new_with_credential(Box::new(
            keyring::secret_service::SsCredential::new_with_target(None, SERVICE, user)?,
        ))),
        // macOS Keychain, Windows Credential Manager: the crate's default store there.
        #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
        Backend::OsKeyring => Entry::new(SERVICE, user),
        #[cfg(target_os = "linux")]
        Backend::KernelKeyring => Ok(Entry::new_with_credential(Box::new(
            keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, user)?,
        ))),
        _ => Err(keyring::Error::NoStorageAccess(
            "not a keyring backend".into(),
        )),
    }
}

/// Stores, reads back and deletes a probe value: does this backend really work here?
fn works(backend: Backend) -> bool {
    let user = format!("probe-{}", std::process::id());
    let Ok(e) = entry(backend, &user) else {
        return false;
    };
    let ok = e.set_password("ifmatch-probe").is_ok()
        && e.get_password().ok().as_deref() == Some("ifmatch-probe");
    let _ = e.delete_credential();
    ok
}

impl Secrets {
    /// Picks the best backend that works. `IFMATCH_KEYRING` (`os`, `kernel`, `none`) forces one
    /// (for tests); `file_opt_in` is the user's explicit choice of the weaker file.
    pub fn detect(data_dir: Option<PathBuf>, file_opt_in: bool) -> Secrets {
        let forced = std::env::var("IFMATCH_KEYRING").ok();
        let order: Vec<Backend> = match forced.as_deref() {
            Some("os") => vec![Backend::OsKeyring],
            Some("kernel") => vec![Backend::KernelKeyring],
            Some("none") => vec![],
            _ => {
                // Only ask D-Bus when there is a session bus: without one, libdbus may try to
                // autolaunch a daemon.
                let mut o = vec![];
                if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
                    || !cfg!(target_os = "linux")
                {
                    o.push(Backend::OsKeyring);
                }
                if cfg!(target_os = "linux") {
                    o.push(Backend::KernelKeyring);
                }
                o
            }
        };
        let mut backend = order
            .into_iter()
            .find(|b| works(*b))
            .unwrap_or(Backend::MemoryOnly);
        let file = data_dir.map(|d| d.join("secrets-weak.json"));
        if backend == Backend::MemoryOnly && file_opt_in && file.is_some() {
            backend = Backend::File;
        }
        Secrets {
            backend,
            file,
            memory: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn file_map(&self) -> BTreeMap<String, String> {
        self.file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn write_file_map(&self, map: &BTreeMap<String, String>) -> Result<(), SecretError> {
        let f = self.file.as_ref().ok_or(SecretError::NoDataFolder)?;
        let text = serde_json::to_string(map).expect("a string map serialises");
        crate::files::write_private(f, text.as_bytes())
            .map_err(|e| SecretError::File(e.to_string()))
    }

    /// Stores a secret under `key` (e.g. "c17/token").
    pub fn set(&self, key: &str, value: &str) -> Result<(), SecretError> {
        match self.backend {
            Backend::OsKeyring | Backend::KernelKeyring => entry(self.backend, key)
                .and_then(|e| e.set_password(value))
                .map_err(|e| SecretError::Keyring(e.to_string())),
            Backend::File => {
                let mut m = self.file_map();
                m.insert(key.into(), value.into());
                self.write_file_map(&m)
            }
            Backend::MemoryOnly => {
                self.memory
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key.into(), value.into());
                Ok(())
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        match self.backend {
            Backend::OsKeyring | Backend::KernelKeyring => {
                entry(self.backend, key).ok()?.get_password().ok()
            }
            Backend::File => self.file_map().get(key).cloned(),
            Backend::MemoryOnly => self
                .memory
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(key)
                .cloned(),
        }
    }

    pub fn delete(&self, key: &str) {
        match self.backend {
            Backend::OsKeyring | Backend::KernelKeyring => {
                if let Ok(e) = entry(self.backend, key) {
                    let _ = e.delete_credential();
                }
            }
            Backend::File => {
                let mut m = self.file_map();
                if m.remove(key).is_some() {
                    let _ = self.write_file_map(&m);
                }
            }
            Backend::MemoryOnly => {
                self.memory
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round trip through one backend: set, read back, overwrite, delete.
    fn round_trip(backend: Backend) {
        let s = Secrets {
            backend,
            file: None,
            memory: Mutex::new(BTreeMap::new()),
        };
        let key = format!("test-{}/token", std::process::id());
        s.set(&key, "s3cret-Ω-1").expect("stored");
        assert_eq!(s.get(&key).as_deref(), Some("s3cret-Ω-1"));
        s.set(&key, "s3cret-2").expect("overwritten");
        assert_eq!(s.get(&key).as_deref(), Some("s3cret-2"));
        s.delete(&key);
        assert_eq!(s.get(&key), None);
    }

    /// Needs a kernel session keyring: scripts/test runs it under `keyctl session -`.
    #[test]
    #[ignore = "run by scripts/test under `keyctl session -`"]
    #[cfg(target_os = "linux")]
    fn kernel_keyring_round_trip() {
        assert!(
            works(Backend::KernelKeyring),
            "the kernel keyring does not work in this session"
        );
        round_trip(Backend::KernelKeyring);
    }

    /// Needs a Secret Service: scripts/test runs it under `dbus-run-session` with an unlocked
    /// gnome-keyring.
    #[test]
    #[ignore = "run by scripts/test under dbus-run-session with gnome-keyring"]
    #[cfg(target_os = "linux")]
    fn secret_service_round_trip() {
        assert!(
            works(Backend::OsKeyring),
            "the Secret Service does not work in this session"
        );
        round_trip(Backend::OsKeyring);
        // And detection prefers it when a session bus is there.
        assert_eq!(Secrets::detect(None, false).backend(), Backend::OsKeyring);
    }

    #[test]
    fn weaker_file_only_by_explicit_choice() {
        let dir = std::env::temp_dir().join(format!("ifmatch-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var("IFMATCH_KEYRING", "none");
        let silent = Secrets::detect(Some(dir.clone()), false);
        assert_eq!(silent.backend(), Backend::MemoryOnly);
        silent.set("c1/token", "in-memory-only").unwrap();
        assert!(
            !dir.join("secrets-weak.json").exists(),
            "never silently on disk"
        );
        let chosen = Secrets::detect(Some(dir.clone()), true);
        assert_eq!(chosen.backend(), Backend::File);
        chosen.set("c1/token", "on-disk-by-choice").unwrap();
        assert_eq!(chosen.get("c1/token").as_deref(), Some("on-disk-by-choice"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secrets-weak.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner-only permissions");
        }
        std::env::remove_var("IFMATCH_KEYRING");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
