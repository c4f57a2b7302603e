//! The server check and dialects against servers that lie, through the real CLI: a server that
//! honours If-Match on PUT and DELETE but ignores it on PATCH, one that acknowledges writes and
//! stores nothing, a check that cannot read its resource after an earlier one found the folder
//! unprotected, a Consul KV read without `?raw`, a version at the top of u64, and dialect files
//! with mistakes. Each test asserts what the user is told and what the server holds afterwards.

use ifmatch_tests::hostile::{Hostile, Knobs};
use ifmatch_tests::run_cli;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

const DOC: &str = r#"{"theme": "light", "pageSize": 20}"#;

/// A fresh state folder (no server profiles) for one test.
fn state(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-hostile-check-{}-{name}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The CLI, run off the async runtime (the server answers on it meanwhile).
async fn cli(st: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let st = st.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&st, &args, stdin.as_deref())
    })
    .await
    .unwrap()
}

fn doc(h: &Hostile, path: &str) -> Value {
    serde_json::from_str(&h.text(path).expect("the resource is there")).unwrap()
}

/// The stored profiles file, parsed.
fn profiles(st: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(st.join("servers.json")).unwrap()).unwrap()
}

/// A server that checks If-Match on PUT and DELETE and ignores it on PATCH: the check says so
/// per method (in its text, its JSON and the stored profile), and a later `ifmatch patch` from a
/// stale validator consults PATCH's verdict, finds the change made since, and overwrites nothing.
/// Before per-method verdicts, the check called this server protected (no probe sent a stale
/// PATCH), the patch trusted it, and another writer's change was overwritten with exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_ignores_if_match_on_patch_only_is_caught_per_method() {
    let h = Hostile::start(
        Knobs {
            ignore_if_match: vec!["PATCH"],
            ..Knobs::default()
        },
        &[("/cfg/settings.json", DOC)],
    )
    .await;
    let url = h.at("/cfg/settings.json");
    let st = state("patch");
    let o = cli(&st, &["check", &url, "--json"], None).await;
    assert_eq!(o.status.code(), Some(8), "{}{}", out(&o), err(&o));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "unprotected", "{r}");
    let verdict_of = |m: &str| {
        r["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["method"] == m)
            .map(|x| x["verdict"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(verdict_of("put"), "protected", "{r}");
    assert_eq!(verdict_of("delete"), "protected", "{r}");
    assert_eq!(verdict_of("create"), "protected", "{r}");
    assert_eq!(verdict_of("merge_patch"), "unprotected", "{r}");
    assert_eq!(verdict_of("json_patch"), "unprotected", "{r}");
    let stored = profiles(&st);
    let folder = &stored[format!("{}/cfg/", h.url)];
    assert_eq!(folder["methods"]["merge_patch"], "unprotected", "{stored}");
    assert_eq!(folder["methods"]["put"], "protected", "{stored}");
    // The text report says it per method too.
    let o = cli(&st, &["check", &url], None).await;
    assert!(
        out(&o).contains("PATCH (merge-patch)") && out(&o).contains("UNPROTECTED"),
        "{}",
        out(&o)
    );
    assert_eq!(
        doc(&h, "/cfg/settings.json"),
        json!({"theme": "light", "pageSize": 20})
    );

    // A stale patch: read, another writer changes the theme, then a patch from the old tag.
    let tag = out(&cli(&st, &["get", "--etag", &url], None).await)
        .trim()
        .to_string();
    assert!(tag.starts_with('"'), "{tag}");
    h.set("/cfg/settings.json", r#"{"theme": "dark", "pageSize": 20}"#);
    let o = cli(
        &st,
        &["patch", &url, "--if-match", &tag],
        Some(r#"{"theme": "solarized"}"#),
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("nothing was sent"), "{}", err(&o));
    assert_eq!(
        doc(&h, "/cfg/settings.json")["theme"],
        "dark",
        "the other writer's change is kept"
    );
    assert!(
        h.seen_method("PATCH")
            .iter()
            .all(|s| !s.path.contains("settings.json")),
        "no PATCH reached the real resource"
    );

    // A PUT consults PUT's verdict: protected, so the server's own 412 is the check and the
    // stale PUT is sent and refused there.
    let puts_before = h.seen_method("PUT").len();
    let f = st.join("mine.json");
    std::fs::write(&f, r#"{"theme": "mine", "pageSize": 20}"#).unwrap();
    let o = cli(
        &st,
        &["put", &url, f.to_str().unwrap(), "--if-match", &tag],
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(doc(&h, "/cfg/settings.json")["theme"], "dark");
    assert_eq!(
        h.seen_method("PUT")[puts_before..].len(),
        1,
        "PUT trusted on its own verdict: the server's 412 refused it"
    );
}

/// A 405 to PATCH means "PATCH not offered", not "unprotected": the verdict is PUT's.
#[tokio::test(flavor = "multi_thread")]
async fn patch_refused_with_405_is_not_offered_not_unprotected() {
    let h = Hostile::start(Knobs::default(), &[("/a/s.json", DOC)]).await;
    // The kit has no knob for 405: every PATCH answers it, as a server without PATCH does.
    for n in 1..=10 {
        h.fail("PATCH", n, 405);
    }
    let st = state("405");
    let o = cli(&st, &["check", &h.at("/a/s.json"), "--json"], None).await;
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(o.status.code(), Some(0), "{r}");
    assert_eq!(r["verdict"], "protected", "{r}");
    let patch: Vec<&Value> = r["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["method"].as_str().unwrap().ends_with("patch"))
        .collect();
    assert_eq!(patch.len(), 2, "{r}");
    assert!(patch.iter().all(|m| m["verdict"] == "not_offered"), "{r}");
}

/// A server that acknowledges every write and stores nothing: the check says which methods
/// it acknowledges without applying, never calls that protected, and does not take its
/// create for an overwrite.
#[tokio::test(flavor = "multi_thread")]
async fn writes_acknowledged_and_never_stored_are_said_per_method() {
    let h = Hostile::start(
        Knobs {
            ack_without_store: true,
            ..Knobs::default()
        },
        &[("/a/s.json", DOC)],
    )
    .await;
    let st = state("ack");
    let o = cli(&st, &["check", &h.at("/a/s.json"), "--json"], None).await;
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    let verdicts: Vec<(String, String)> = r["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap().into(),
                m["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        verdicts.contains(&("create".into(), "not_applied".into())),
        "{r}"
    );
    assert!(
        verdicts.contains(&("put".into(), "not_applied".into())),
        "{r}"
    );
    assert_ne!(r["verdict"], "protected", "{r}");
    assert!(
        r["summary"].as_str().unwrap().contains("without applying"),
        "{r}"
    );
    let create = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["topic"] == "if_none_match")
        .unwrap();
    assert_ne!(create["mark"], "bad", "not an overwrite: {create}");
    // A PUT acknowledged and not stored is not taken for saved.
    let tag = out(&cli(&st, &["get", "--etag", &h.at("/a/s.json")], None).await)
        .trim()
        .to_string();
    let f = st.join("mine.json");
    std::fs::write(&f, r#"{"theme": "mine", "pageSize": 20}"#).unwrap();
    let o = cli(
        &st,
        &[
            "put",
            &h.at("/a/s.json"),
            f.to_str().unwrap(),
            "--if-match",
            &tag,
        ],
        None,
    )
    .await;
    assert_ne!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(
        doc(&h, "/a/s.json"),
        serde_json::from_str::<Value>(DOC).unwrap()
    );
}

/// A stored "unprotected" survives checks that reach no verdict (the resource 404, the read
/// 500, the server gone), and later writes to that folder are still compared before sending.
/// Before, each such check stored "unknown" over it.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_reaches_no_verdict_keeps_the_stored_one() {
    let h = Hostile::start(
        Knobs {
            ignore_if_match: vec!["PUT", "PATCH", "DELETE"],
            ..Knobs::default()
        },
        &[("/a/s.json", DOC)],
    )
    .await;
    let url = h.at("/a/s.json");
    let st = state("keep");
    let o = cli(&st, &["check", &url, "--json"], None).await;
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    let key = format!("{}/a/", h.url);
    assert_eq!(profiles(&st)[&key]["verdict"], "unprotected");

    // 404: a resource in the same folder that does not exist.
    let o = cli(&st, &["check", &h.at("/a/missing.json")], None).await;
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert!(err(&o).contains("no verdict"), "{}", err(&o));
    assert_eq!(profiles(&st)[&key]["verdict"], "unprotected", "after a 404");
    // 500 on the read.
    h.fail("GET", h.seen_method("GET").len() + 1, 500);
    let o = cli(&st, &["check", &url], None).await;
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert_eq!(profiles(&st)[&key]["verdict"], "unprotected", "after a 500");

    // A stale put to that folder is still compared first: nothing overwritten.
    let tag = out(&cli(&st, &["get", "--etag", &url], None).await)
        .trim()
        .to_string();
    h.set("/a/s.json", r#"{"theme": "dark", "pageSize": 20}"#);
    let f = st.join("mine.json");
    std::fs::write(&f, r#"{"theme": "mine", "pageSize": 20}"#).unwrap();
    let o = cli(
        &st,
        &["put", &url, f.to_str().unwrap(), "--if-match", &tag],
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(doc(&h, "/a/s.json")["theme"], "dark");

    // The server gone (connection refused): no verdict, none stored.
    let gone_url = url.clone();
    drop(h);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let o = cli(&st, &["check", &gone_url], None).await;
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert_eq!(profiles(&st)[&key]["verdict"], "unprotected", "server gone");
    // A first check that reaches none stores nothing at all.
    let fresh = state("fresh");
    let o = cli(&fresh, &["check", &gone_url], None).await;
    assert_eq!(o.status.code(), Some(9), "{}", err(&o));
    assert!(!fresh.join("servers.json").exists());
}

/// Consul's KV read without `?raw` is metadata about the key, not its value: `save` with the
/// consul dialect refuses it before any write and says `?raw`, instead of writing the metadata
/// array as the key's value (which the next round nested again).
#[tokio::test(flavor = "multi_thread")]
async fn a_consul_read_without_raw_is_refused_before_any_write() {
    let meta = r#"[{"LockIndex":0,"Key":"settings","Flags":0,"Value":"eyJ0aGVtZSI6ImxpZ2h0In0=","CreateIndex":5,"ModifyIndex":9}]"#;
    let h = Hostile::start(Knobs::default(), &[("/v1/kv/settings", meta)]).await;
    let url = h.at("/v1/kv/settings");
    let st = state("consul");
    let o = cli(&st, &["--dialect", "consul", "get", &url], None).await;
    assert_ne!(o.status.code(), Some(0), "{}", out(&o));
    assert!(err(&o).contains("?raw"), "{}", err(&o));
    std::fs::write(st.join("base.json"), meta).unwrap();
    std::fs::write(st.join("mine.json"), r#"{"theme": "dark"}"#).unwrap();
    let o = cli(
        &st,
        &[
            "--dialect",
            "consul",
            "save",
            &url,
            st.join("mine.json").to_str().unwrap(),
            "--base",
            st.join("base.json").to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert_ne!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("?raw"), "{}", err(&o));
    assert!(h.seen_method("PUT").is_empty(), "nothing written");
    assert_eq!(h.text("/v1/kv/settings").as_deref(), Some(meta));
}

/// Under a dialect whose version is in the body (CouchDB's `_rev`) or that keeps none, the
/// check's If-Match probes say nothing: `check` says so, sends nothing and stores no verdict.
/// Before, it ran them as plain HTTP.
#[tokio::test(flavor = "multi_thread")]
async fn the_check_is_not_run_under_a_dialect_its_probes_do_not_speak() {
    let h = Hostile::start(Knobs::default(), &[("/v1/kv/settings", DOC)]).await;
    for dialect in ["couchdb", "none"] {
        let st = state(dialect);
        let o = cli(
            &st,
            &["--dialect", dialect, "check", &h.at("/v1/kv/settings?raw")],
            None,
        )
        .await;
        assert_eq!(o.status.code(), Some(9), "{dialect}: {}", err(&o));
        assert!(err(&o).contains("not run"), "{dialect}: {}", err(&o));
        assert!(!st.join("servers.json").exists(), "{dialect}");
    }
    assert!(h.seen().is_empty(), "nothing sent: {:?}", h.seen().len());
}

/// A Confluence-style version at u64::MAX: "send it plus one" would wrap to 0. The put is
/// refused with the reason and nothing is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_version_that_cannot_be_advanced_sends_nothing() {
    let page = format!(r#"{{"title": "T", "version": {{"number": {}}}}}"#, u64::MAX);
    let h = Hostile::start(Knobs::default(), &[("/wiki/rest/api/content/1", &page)]).await;
    let url = h.at("/wiki/rest/api/content/1");
    let st = state("max");
    let tag = out(&cli(
        &st,
        &["--dialect", "confluence", "get", "--etag", &url],
        None,
    )
    .await)
    .trim()
    .to_string();
    assert!(tag.contains(&u64::MAX.to_string()), "{tag}");
    let f = st.join("mine.json");
    std::fs::write(&f, r#"{"title": "U"}"#).unwrap();
    let o = cli(
        &st,
        &[
            "--dialect",
            "confluence",
            "put",
            &url,
            f.to_str().unwrap(),
            "--if-match",
            &tag,
        ],
        None,
    )
    .await;
    assert_ne!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("wrap"), "{}", err(&o));
    assert!(h.seen_method("PUT").is_empty(), "nothing sent");
    assert_eq!(
        h.text("/wiki/rest/api/content/1").as_deref(),
        Some(page.as_str())
    );
}

/// A dialect file with a misspelled field, or empty, or not JSON, or with a bare pointer, is a
/// usage error naming the problem, and nothing is sent. Before, a misspelled field was ignored
/// and the command ran without it.
#[tokio::test(flavor = "multi_thread")]
async fn a_dialect_file_with_mistakes_is_refused_before_anything_is_sent() {
    let h = Hostile::start(Knobs::default(), &[("/doc", r#"{"version": 3, "a": 1}"#)]).await;
    let st = state("file");
    let f = st.join("mine.json");
    std::fs::write(&f, r#"{"a": 2}"#).unwrap();
    for (text, says) in [
        (
            r#"{"name": "x", "verison_pointer": "/version", "conflict_statuses": [409]}"#,
            "did you mean `version`",
        ),
        ("", "empty"),
        ("version: /version", "not JSON"),
        (r#"{"versioned": "yes"}"#, "`versioned`"),
        (
            r#"{"version": {"kind": "body", "pointer": "version"}}"#,
            "not a JSON pointer",
        ),
    ] {
        let file = st.join("dialect.json");
        std::fs::write(&file, text).unwrap();
        let o = cli(
            &st,
            &[
                "--dialect",
                file.to_str().unwrap(),
                "put",
                &h.at("/doc"),
                f.to_str().unwrap(),
            ],
            None,
        )
        .await;
        assert_eq!(o.status.code(), Some(2), "{text:?}: {}", err(&o));
        assert!(
            err(&o).contains(says) && err(&o).contains("dialect.json"),
            "{text:?}: {}",
            err(&o)
        );
    }
    assert!(h.seen().is_empty(), "nothing sent");
}
