//! The CLI against a real pouchdb-server (the CouchDB API): the version lives in the body
//! (`_rev`); a stale write is answered 409; DELETE with any If-Match deletes the newest revision.
//! "Another writer" is plain HTTP carrying the current `_rev`, as a CouchDB client does.

use ifmatch_tests::pouchdb::PouchDb;
use ifmatch_tests::run_cli;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Output;

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Setup {
    db: PouchDb,
    state: PathBuf,
    url: String,
}

impl Setup {
    fn new(checked: bool) -> Setup {
        let db = PouchDb::start("admin");
        let (status, body) = db.http(
            "PUT",
            "/admin/settings",
            Some(r#"{"theme": "light", "pageSize": 50}"#),
        );
        assert_eq!(status, 201, "{body}");
        let state = std::env::temp_dir().join(format!(
            "ifmatch-pouch-state-{}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&state);
        let url = format!("{}/admin/settings", db.url);
        let s = Setup { db, state, url };
        if checked {
            let o = s.cli(&["check", &s.url], None);
            assert_eq!(o.status.code(), Some(8), "{}{}", out(&o), err(&o));
        }
        s
    }
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.state, args, stdin)
    }
    /// Body and validator, as a script reads them.
    fn read(&self) -> (String, String) {
        let tag = self.state.join("tag");
        std::fs::create_dir_all(&self.state).unwrap();
        let o = self.cli(
            &["get", &self.url, "--etag-file", tag.to_str().unwrap()],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        (
            out(&o),
            std::fs::read_to_string(tag).unwrap().trim().to_string(),
        )
    }
    /// Another CouchDB client changes `key` (with the current `_rev`, so the server takes it).
    fn other_writer(&self, key: &str, v: Value) {
        let mut doc = self.db.doc("/admin/settings").unwrap();
        doc[key] = v;
        let (status, body) = self
            .db
            .http("PUT", "/admin/settings", Some(&doc.to_string()));
        assert_eq!(status, 201, "{body}");
    }
    fn now(&self) -> Option<Value> {
        self.db.doc("/admin/settings")
    }
}

fn with(text: &str, key: &str, v: Value) -> String {
    let mut doc: Value = serde_json::from_str(text).unwrap();
    doc[key] = v;
    serde_json::to_string_pretty(&doc).unwrap()
}

#[test]
fn the_check_finds_the_stale_delete_and_the_409() {
    let s = Setup::new(false);
    let o = s.cli(&["check", &s.url, "--json"], None);
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "unprotected", "{r}");
    assert_eq!(r["stale_write_status"], 409, "{r}");
    assert_eq!(r["proposed_dialect"], "couchdb", "{r}");
    let marks: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["topic"].as_str().unwrap().into(),
                f["mark"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        marks.contains(&("delete".into(), "bad".into())),
        "{marks:?}"
    );
    assert!(
        marks.contains(&("body_token".into(), "info".into())),
        "{marks:?}"
    );
    assert!(
        r["wrote"][1].as_str().unwrap().starts_with("deleted"),
        "{r}"
    );
    assert_eq!(
        s.now().unwrap()["theme"],
        "light",
        "the real document is untouched"
    );
}

#[test]
fn stale_put_and_stale_delete_are_refused() {
    for checked in [false, true] {
        let s = Setup::new(checked);
        let (body, tag) = s.read();
        s.other_writer("theme", json!("solarized"));
        let o = s.cli(
            &["put", &s.url, "--if-match", &tag],
            Some(&with(&body, "pageSize", json!(100))),
        );
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        let o = s.cli(&["delete", &s.url, "--if-match", &tag], None);
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        let now = s.now().expect("not deleted");
        assert_eq!(
            (now["theme"].clone(), now["pageSize"].clone()),
            (json!("solarized"), json!(50))
        );
    }
}

#[test]
fn create_over_an_existing_document_is_refused() {
    let s = Setup::new(false);
    let o = s.cli(&["create", &s.url], Some("{\"fresh\": true}"));
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert_eq!(s.now().unwrap()["theme"], "light");
}

#[test]
fn save_merges_a_disjoint_change_and_stops_on_a_collision() {
    for checked in [false, true] {
        let s = Setup::new(checked);
        let (body, tag) = s.read();
        std::fs::write(s.state.join("base.json"), &body).unwrap();
        let save = |mine: &str| {
            std::fs::write(s.state.join("mine.json"), mine).unwrap();
            s.cli(
                &[
                    "save",
                    &s.url,
                    s.state.join("mine.json").to_str().unwrap(),
                    "--base",
                    s.state.join("base.json").to_str().unwrap(),
                    "--if-match",
                    &tag,
                ],
                None,
            )
        };
        s.other_writer("theme", json!("solarized"));
        let o = save(&with(&body, "pageSize", json!(100)));
        assert_eq!(o.status.code(), Some(0), "checked={checked}: {}", err(&o));
        let now = s.now().unwrap();
        assert_eq!(
            (now["theme"].clone(), now["pageSize"].clone()),
            (json!("solarized"), json!(100))
        );
        assert!(now["_rev"].as_str().unwrap().starts_with("3-"), "{now}");

        // A collision: exit 3, the other writer's value stays.
        s.other_writer("theme", json!("dusk"));
        let o = save(&with(&body, "theme", json!("dark")));
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        assert_eq!(s.now().unwrap()["theme"], "dusk");
    }
}

/// With `--dialect couchdb` the `_rev` is the validator and `_id` / `_rev` are out of the
/// document the user edits: the scenario set against the real server.
#[test]
fn the_couchdb_dialect_carries_rev_for_every_write() {
    let s = Setup::new(false);
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--dialect", "couchdb"];
        all.extend_from_slice(args);
        s.cli(&all, stdin)
    };
    std::fs::create_dir_all(&s.state).unwrap();
    let read = || {
        let tag = s.state.join("tag");
        let o = cli(&["get", &s.url, "--etag-file", tag.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        (
            out(&o),
            std::fs::read_to_string(tag).unwrap().trim().to_string(),
        )
    };
    let (body, tag) = read();
    assert!(!body.contains("_rev") && !body.contains("_id"), "{body}");
    assert_eq!(
        format!("\"{}\"", s.now().unwrap()["_rev"].as_str().unwrap()),
        tag
    );
    // Fresh put.
    let o = cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&with(&body, "theme", json!("dark"))),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(s.now().unwrap()["theme"], "dark");
    // Stale put: 409 from the server, nothing overwritten.
    let (body, tag) = read();
    s.other_writer("pageSize", json!(25));
    let o = cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&with(&body, "pageSize", json!(99))),
    );
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.now().unwrap()["pageSize"], 25);
    // Create over the existing one.
    let o = cli(&["create", &s.url], Some(r#"{"fresh": true}"#));
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(s.now().unwrap().get("fresh").is_none());
    // Save with a disjoint change, then a colliding one.
    let (base, tag) = read();
    std::fs::write(s.state.join("base.json"), &base).unwrap();
    let save = |mine: &str, tag: &str| {
        std::fs::write(s.state.join("mine.json"), mine).unwrap();
        cli(
            &[
                "save",
                &s.url,
                s.state.join("mine.json").to_str().unwrap(),
                "--base",
                s.state.join("base.json").to_str().unwrap(),
                "--if-match",
                tag,
            ],
            None,
        )
    };
    s.other_writer("theme", json!("solarized"));
    let o = save(&with(&base, "pageSize", json!(100)), &tag);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let now = s.now().unwrap();
    assert_eq!(
        (now["theme"].clone(), now["pageSize"].clone()),
        (json!("solarized"), json!(100))
    );
    let (base, tag) = read();
    std::fs::write(s.state.join("base.json"), &base).unwrap();
    s.other_writer("theme", json!("dusk"));
    let o = save(&with(&base, "theme", json!("dawn")), &tag);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.now().unwrap()["theme"], "dusk");
    // A stale delete carries the old _rev in ?rev= and is refused; a fresh one deletes.
    let (_, tag) = read();
    s.other_writer("theme", json!("noon"));
    let o = cli(&["delete", &s.url, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.now().unwrap()["theme"], "noon");
    let (_, tag) = read();
    let o = cli(&["delete", &s.url, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(s.now().is_none());
}

/// A fresh `put` with the validator `get` printed, without a dialect: the server's own metadata
/// (`_rev`) changes with the write, and that is no "other writer": the put exits 0 (it said
/// "another writer changed it" and exited 3 while the server held exactly the write).
#[test]
fn a_fresh_put_is_not_taken_for_another_writer() {
    let s = Setup::new(false);
    let (body, tag) = s.read();
    let o = s.cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&with(&body, "theme", json!("dark"))),
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(s.now().unwrap()["theme"], "dark");
    assert!(!err(&o).contains("another change landed"), "{}", err(&o));
}
