//! The CLI against a server that does not protect, Express-style: the demo server with
//! `--careless` accepts If-Match / If-None-Match and ignores them, and acknowledges PATCH (200,
//! with an ETag) without applying it. No scenario may exit 0 with a lost change and an empty
//! stderr, and a patch that was not applied is never "saved".

use ifmatch_tests::{run_cli, DemoProcess};
use std::path::PathBuf;
use std::process::Output;

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn state(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-careless-{}-{name}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_check_finds_it_unprotected_and_its_patches_not_applied() {
    let demo = DemoProcess::start(&[], &["--careless"]);
    let st = state("check");
    let o = run_cli(
        &st,
        &["check", &format!("{}/settings", demo.url), "--json"],
        None,
    );
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    let r: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "unprotected");
    let patch_marks: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["topic"] == "patch")
        .map(|f| f["mark"].as_str().unwrap())
        .collect();
    assert_eq!(patch_marks, vec!["caveat", "caveat"], "{r}");
}

#[test]
fn a_patch_acknowledged_but_not_applied_is_not_saved() {
    let demo = DemoProcess::start(&[], &["--careless"]);
    let url = format!("{}/settings", demo.url);
    let st = state("patch");
    let tag = out(&run_cli(&st, &["get", "--etag", &url], None))
        .trim()
        .to_string();
    let o = run_cli(
        &st,
        &["patch", &url, "--if-match", &tag],
        Some("{\"sessionTimeoutSeconds\": 1200}"),
    );
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("did not apply it"), "{}", err(&o));
}

#[test]
fn save_with_a_patch_the_server_ignores_falls_back_to_put() {
    let demo = DemoProcess::start(&[], &["--careless"]);
    let url = format!("{}/settings", demo.url);
    let st = state("save");
    let base = out(&run_cli(
        &st,
        &["get", &url, "--etag-file", st.join("tag").to_str().unwrap()],
        None,
    ));
    let tag = std::fs::read_to_string(st.join("tag")).unwrap();
    let mine = base.replacen("600", "1200", 1);
    assert_ne!(mine, base, "the seed has a 600 to change");
    std::fs::write(st.join("base.json"), &base).unwrap();
    std::fs::write(st.join("mine.json"), &mine).unwrap();
    for method in ["merge-patch", "json-patch"] {
        let o = run_cli(
            &st,
            &[
                "save",
                &url,
                st.join("mine.json").to_str().unwrap(),
                "--base",
                st.join("base.json").to_str().unwrap(),
                "--if-match",
                tag.trim(),
                "--method",
                method,
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{method}: {}", err(&o));
        assert!(
            err(&o).contains("did not apply it"),
            "{method}: {}",
            err(&o)
        );
        let now = out(&run_cli(&st, &["get", &url], None));
        assert!(
            ifmatch_engine::json::same_text(&now, &mine),
            "{method}: the server holds mine: {now}"
        );
        // Back to base for the next method.
        let o = run_cli(&st, &["put", &url, "--force"], Some(&base));
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
}

#[test]
fn stale_writes_and_creates_are_refused() {
    let demo = DemoProcess::start(&[], &["--careless"]);
    let url = format!("{}/settings", demo.url);
    let st = state("stale");
    let tag = out(&run_cli(&st, &["get", "--etag", &url], None))
        .trim()
        .to_string();
    // Another admin changes it (an unconditional PUT, which this server takes).
    let body = out(&run_cli(&st, &["get", &url], None));
    let theirs = body.replacen("600", "900", 1);
    let o = run_cli(&st, &["put", &url, "--force"], Some(&theirs));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = run_cli(
        &st,
        &["put", &url, "--if-match", &tag],
        Some(&body.replacen("600", "1200", 1)),
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let o = run_cli(&st, &["delete", &url, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let o = run_cli(&st, &["create", &url], Some("{}"));
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let now = out(&run_cli(&st, &["get", &url], None));
    assert!(ifmatch_engine::json::same_text(&now, &theirs), "{now}");
}
