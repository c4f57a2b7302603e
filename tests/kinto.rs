//! The CLI against a real Kinto: an envelope (`{"data": …, "permissions": …}`), a server-stamped
//! `last_modified` inside `data` that is also the ETag, If-Match / If-None-Match: * enforced with
//! 412, PATCH with JSON Merge Patch and JSON Patch. "Another writer" is plain HTTP as the same
//! account.

use ifmatch_tests::kinto::{Kinto, PASSWORD, USER};
use ifmatch_tests::run_cli_with;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Output;

const RECORD: &str = "/buckets/b/collections/c/records/settings";

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Setup {
    kinto: Kinto,
    state: PathBuf,
    url: String,
}

impl Setup {
    fn new(checked: bool) -> Setup {
        let kinto = Kinto::start();
        let (s, b) = kinto.http(
            "PUT",
            RECORD,
            Some(r#"{"data": {"theme": "light", "pageSize": 50}}"#),
        );
        assert_eq!(s, 201, "{b}");
        let state = std::env::temp_dir().join(format!(
            "ifmatch-kinto-state-{}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let url = format!("{}{RECORD}", kinto.url);
        let s = Setup { kinto, state, url };
        if checked {
            let o = s.cli(&["check", &s.url], None);
            assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
        }
        s
    }
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli_with(
            &self.state,
            &[("IFMATCH_USER", USER), ("IFMATCH_PASSWORD", PASSWORD)],
            args,
            stdin,
        )
    }
    fn read(&self) -> (String, String) {
        let tag = self.state.join("tag");
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
    fn other_writer(&self, key: &str, v: Value) {
        let patch = json!({"data": {key: v}}).to_string();
        let (s, b) = self.kinto.http("PATCH", RECORD, Some(&patch));
        assert_eq!(s, 200, "{b}");
    }
    fn data(&self) -> Value {
        self.kinto.record(RECORD).expect("the record exists")
    }
}

fn with(text: &str, key: &str, v: Value) -> String {
    let mut doc: Value = serde_json::from_str(text).unwrap();
    doc["data"][key] = v;
    serde_json::to_string_pretty(&doc).unwrap()
}

#[test]
fn the_check_finds_kinto_protected() {
    let s = Setup::new(false);
    let o = s.cli(&["check", &s.url, "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "protected", "{r}");
    assert_eq!(r["proposed_dialect"], "kinto", "{r}");
    let good: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["mark"] == "good")
        .map(|f| f["topic"].as_str().unwrap())
        .collect();
    for topic in ["if_match", "if_none_match", "delete", "etag"] {
        assert!(good.contains(&topic), "{topic}: {r}");
    }
    let patches = good.iter().filter(|t| **t == "patch").count();
    assert_eq!(patches, 2, "both PATCH types applied: {r}");
    assert!(
        r["wrote"][1].as_str().unwrap().starts_with("deleted"),
        "{r}"
    );
    assert_eq!(s.data()["theme"], "light");
}

#[test]
fn stale_writes_are_refused_by_the_server() {
    let s = Setup::new(true);
    let (body, tag) = s.read();
    s.other_writer("theme", json!("solarized"));
    let o = s.cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&with(&body, "pageSize", json!(100))),
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains("Conflict (412)"),
        "the server's own refusal: {}",
        err(&o)
    );
    let o = s.cli(&["delete", &s.url, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let o = s.cli(&["create", &s.url], Some(r#"{"data": {"fresh": true}}"#));
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let d = s.data();
    assert_eq!(
        (d["theme"].clone(), d["pageSize"].clone()),
        (json!("solarized"), json!(50))
    );
}

#[test]
fn save_merges_around_the_server_stamps_with_each_method() {
    for method in ["put", "merge-patch", "json-patch"] {
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
                        "--method",
                        method,
                    ],
                    None,
                )
            };
            s.other_writer("theme", json!("solarized"));
            let o = save(&with(&body, "pageSize", json!(100)));
            assert_eq!(
                o.status.code(),
                Some(0),
                "{method} checked={checked}: {}",
                err(&o)
            );
            let d = s.data();
            assert_eq!(
                (d["theme"].clone(), d["pageSize"].clone()),
                (json!("solarized"), json!(100)),
                "{method} checked={checked}"
            );
            s.other_writer("theme", json!("dusk"));
            let o = save(&with(&body, "theme", json!("dark")));
            assert_eq!(
                o.status.code(),
                Some(3),
                "{method} checked={checked}: {}",
                err(&o)
            );
            assert_eq!(s.data()["theme"], "dusk");
        }
    }
}

/// With `--dialect kinto` the user edits the record itself (no envelope, no `id` /
/// `last_modified` stamps); writes go back as `{"data": …}` under If-Match: the scenario set
/// against the real server.
#[test]
fn the_kinto_dialect_edits_the_record_without_its_stamps() {
    let s = Setup::new(false);
    std::fs::create_dir_all(&s.state).unwrap();
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--dialect", "kinto"];
        all.extend_from_slice(args);
        s.cli(&all, stdin)
    };
    let read = || {
        let tag = s.state.join("tag");
        let o = cli(&["get", &s.url, "--etag-file", tag.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        (
            out(&o),
            std::fs::read_to_string(tag).unwrap().trim().to_string(),
        )
    };
    let set = |text: &str, key: &str, v: Value| {
        let mut doc: Value = serde_json::from_str(text).unwrap();
        doc[key] = v;
        doc.to_string()
    };
    let (body, tag) = read();
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc, json!({"theme": "light", "pageSize": 50}), "{body}");
    // Fresh put.
    let o = cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&set(&body, "theme", json!("dark"))),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(s.data()["theme"], "dark");
    // Stale put: 412, nothing overwritten.
    let (body, tag) = read();
    s.other_writer("pageSize", json!(25));
    let o = cli(
        &["put", &s.url, "--if-match", &tag],
        Some(&set(&body, "pageSize", json!(99))),
    );
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.data()["pageSize"], 25);
    // Create over the existing one.
    let o = cli(&["create", &s.url], Some(r#"{"fresh": true}"#));
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    // Save with a disjoint change, then a colliding one.
    let save = |mine: &str, base: &str, tag: &str| {
        std::fs::write(s.state.join("base.json"), base).unwrap();
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
    let (base, tag) = read();
    s.other_writer("theme", json!("solarized"));
    let o = save(&set(&base, "pageSize", json!(100)), &base, &tag);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let d = s.data();
    assert_eq!(
        (d["theme"].clone(), d["pageSize"].clone()),
        (json!("solarized"), json!(100))
    );
    let (base, tag) = read();
    s.other_writer("theme", json!("dusk"));
    let o = save(&set(&base, "theme", json!("dawn")), &base, &tag);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.data()["theme"], "dusk");
    // A stale delete is refused (If-Match, 412).
    let (_, tag) = read();
    s.other_writer("theme", json!("noon"));
    let o = cli(&["delete", &s.url, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(s.data()["theme"], "noon");
}
