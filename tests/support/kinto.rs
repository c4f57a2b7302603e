//! Kinto (the Firefox Remote Settings server) on a loopback port, all in memory: records are an
//! envelope `{"data": {…, "id", "last_modified"}, "permissions": {…}}`, the ETag is the
//! `last_modified` stamp, If-Match / If-None-Match: * are enforced (412), and PATCH takes JSON
//! Merge Patch and JSON Patch. Installed by scripts/test into tests/kinto/.venv (pip); started
//! per test from tests/kinto/kinto.ini, with an account `admin` (basic auth), stopped when
//! dropped.

use ifmatch_engine::{Auth, Secret};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "ifmatch-tests-password";

pub struct Kinto {
    /// The server's root URL (`…/v1`).
    pub url: String,
    child: Child,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kinto")
}

impl Kinto {
    /// Starts Kinto with the account, bucket `b` and collection `c` made.
    pub fn start() -> Kinto {
        let bin = dir().join(".venv/bin/kinto");
        assert!(
            bin.exists(),
            "Kinto is not installed ({} missing): the README's test command (scripts/test) \
             installs it with pip into tests/kinto/.venv",
            bin.display()
        );
        let (port, child) = crate::serve_on_free_port(
            "Kinto",
            Duration::from_secs(30),
            |port| {
                Command::new(&bin)
                    .arg("start")
                    .arg("--ini")
                    .arg(dir().join("kinto.ini"))
                    .arg("--port")
                    .arg(port.to_string())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("kinto starts")
            },
            |child| crate::stderr_and_log(child, None),
        );
        let k = Kinto {
            url: format!("http://127.0.0.1:{port}/v1"),
            child,
        };
        let account = format!("{{\"data\": {{\"password\": \"{PASSWORD}\"}}}}");
        let (s, b) = k.http_as(
            Auth::None,
            "PUT",
            &format!("/accounts/{USER}"),
            Some(&account),
        );
        assert_eq!(s, 201, "the account is made: {b}");
        for path in ["/buckets/b", "/buckets/b/collections/c"] {
            let (s, b) = k.http("PUT", path, Some("{}"));
            assert!(s == 201 || s == 200, "{path}: {s} {b}");
        }
        k
    }

    /// The account's credentials.
    pub fn auth() -> Auth {
        Auth::Basic {
            user: USER.into(),
            password: Secret::new(PASSWORD.to_string()),
        }
    }

    /// One plain HTTP request as the account (another writer): status and body.
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.http_as(Kinto::auth(), method, path, body)
    }

    fn http_as(&self, auth: Auth, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        crate::http(auth, method, &format!("{}{path}", self.url), body)
    }

    /// The record's `data` as the server holds it, None when there is none.
    pub fn record(&self, path: &str) -> Option<serde_json::Value> {
        let (status, body) = self.http("GET", path, None);
        (status == 200).then(|| {
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            v["data"].clone()
        })
    }
}

impl Drop for Kinto {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
    }
}
