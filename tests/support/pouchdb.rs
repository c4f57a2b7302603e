//! pouchdb-server (the CouchDB API) on a loopback port, in memory: the version lives in the
//! body (`_rev`), a stale write is answered 409 `{"error":"conflict"}`, GET hands out Express's
//! weak body ETag, and DELETE with any If-Match deletes the newest revision. Installed by
//! scripts/test into tests/pouchdb/node_modules (npm ci); started per test in its own temporary
//! folder (it writes its log and config into its working folder), stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct PouchDb {
    /// The server's root URL.
    pub url: String,
    dir: PathBuf,
    child: Child,
}

/// The installed server, or a message saying how to install it.
pub fn bin() -> PathBuf {
    let bin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pouchdb/node_modules/.bin/pouchdb-server");
    assert!(
        bin.exists(),
        "pouchdb-server is not installed ({} missing): the README's test command (scripts/test) \
         installs it with `npm ci --prefix tests/pouchdb`",
        bin.display()
    );
    bin
}

impl PouchDb {
    /// Starts the server with an empty database `db`.
    pub fn start(db: &str) -> PouchDb {
        let bin = bin();
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-pouchdb-{}-{}",
            std::process::id(),
            crate::unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (port, child) = crate::serve_on_free_port(
            "pouchdb-server",
            Duration::from_secs(30),
            |port| {
                Command::new(&bin)
                    .args(["--in-memory", "--host", "127.0.0.1", "--port"])
                    .arg(port.to_string())
                    .current_dir(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("pouchdb-server starts")
            },
            |child| crate::stderr_and_log(child, Some(&dir.join("log.txt"))),
        );
        let p = PouchDb {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        };
        let (status, body) = p.http("PUT", &format!("/{db}"), None);
        assert_eq!(status, 201, "the database {db} is created: {body}");
        p
    }

    /// One plain HTTP request (another writer, not using ifmatch's rules): status and body.
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        crate::http(
            ifmatch_engine::Auth::None,
            method,
            &format!("{}{path}", self.url),
            body,
        )
    }

    /// The document at `path` as the server holds it (JSON), None when it has none.
    pub fn doc(&self, path: &str) -> Option<serde_json::Value> {
        let (status, body) = self.http("GET", path, None);
        (status == 200).then(|| serde_json::from_str(&body).expect("a JSON document"))
    }
}

impl Drop for PouchDb {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
