//! The CLI's own output and records: a write error on stdout is a documented non-zero exit, never
//! 0 and never a panic; `--trail FILE` is written even when the command fails early.

use ifmatch_tests::{ifmatch_bin, DemoProcess};
use std::process::{Command, Output, Stdio};

/// Runs ifmatch with stdout going to /dev/full (every write fails with ENOSPC).
fn to_dev_full(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    Command::new(ifmatch_bin())
        .args(args)
        .env_remove("IFMATCH_TOKEN")
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ifmatch-cli-outputs-{}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_full_stdout_is_never_success() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let out = to_dev_full(&["get", &url]);
    assert_eq!(out.status.code(), Some(1), "get: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the output could not be written"),
        "{out:?}"
    );
    // A save that succeeds, printing its validator into a full stdout: exit 1, no panic.
    let tag_file = temp("tag", "");
    let base = String::from_utf8(
        Command::new(ifmatch_bin())
            .args(["get", &url, "--etag-file", tag_file.to_str().unwrap()])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let tag = std::fs::read_to_string(&tag_file).unwrap();
    assert!(!tag.trim().is_empty(), "the demo gives a validator");
    let mine = base.replace("Acme Support", "Acme Full");
    let (b, m) = (temp("base.json", &base), temp("mine.json", &mine));
    let out = to_dev_full(&[
        "save",
        &url,
        m.to_str().unwrap(),
        "--base",
        b.to_str().unwrap(),
        "--if-match",
        tag.trim(),
    ]);
    assert_eq!(out.status.code(), Some(1), "save: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("saved on the server, but the output could not be written"),
        "the write landed and the message says so: {out:?}"
    );
    // merge keeps git merge-file's codes: 2 for a failure of its own.
    let doc = temp("doc.json", "{\"a\": 1}");
    let d = doc.to_str().unwrap();
    let out = to_dev_full(&["merge", d, d, d]);
    assert_eq!(out.status.code(), Some(2), "merge: {out:?}");
}

#[test]
fn the_trail_is_written_when_a_command_fails_early() {
    let demo = DemoProcess::start(&[], &[]);
    let trail = temp("trail.json", "");
    std::fs::remove_file(&trail).unwrap();
    // A 404 before any write: the command fails, the trail still records the GET.
    let out = Command::new(ifmatch_bin())
        .args([
            "put",
            &format!("{}/nothing-here", demo.url),
            temp("x.json", "{}").to_str().unwrap(),
            "--trail",
            trail.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let t = std::fs::read_to_string(&trail).expect("the trail was written");
    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
    let rows = v.as_array().expect("a list of requests");
    assert!(
        rows.iter()
            .any(|r| r["method"] == "GET" && r["status"] == 404),
        "{t}"
    );
}

#[test]
fn unusable_credentials_in_the_environment_are_refused_before_sending() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    for (k, v, says) in [
        ("IFMATCH_TOKEN", "tok-with-newline\n", "line break"),
        ("IFMATCH_USER", "alice", "IFMATCH_PASSWORD is not"),
    ] {
        let out = Command::new(ifmatch_bin())
            .args(["get", &url, "--trail", "-"])
            .env_remove("IFMATCH_TOKEN")
            .env(k, v)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{k}: {err}");
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains("tok-with-newline"),
            "the value is never echoed: {err}"
        );
        assert!(out.stdout.is_empty(), "nothing was fetched");
    }
}

/// `get --etag` against a server whose ETag is unusable names what it sent and why, instead of
/// claiming it sent none.
#[tokio::test(flavor = "multi_thread")]
async fn get_etag_names_an_unusable_etag() {
    use ifmatch_tests::raw::{RawServer, Reply};
    let cases = [
        ("\"with space\"", "not allowed"),
        ("W/", "empty"),
        ("\"open", "no closing quote"),
        ("\"a\", \"b\"", "several entity tags"),
        ("*", "would match any version"),
    ];
    for (etag, why) in cases {
        let header = format!("ETag: {etag}");
        let s = RawServer::start(vec![Reply::json(&[header.as_str()], "{}")]).await;
        let url = format!("{}/x", s.url);
        let out = tokio::task::spawn_blocking(move || {
            Command::new(ifmatch_bin())
                .args(["get", "--etag", &url])
                .env_remove("IFMATCH_TOKEN")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{etag}: {out:?}");
        assert!(out.stdout.is_empty(), "{etag}: nothing on stdout: {out:?}");
        assert!(
            err.contains(&format!("{etag:?}")),
            "{etag}: names it: {err}"
        );
        assert!(err.contains(why), "{etag}: says why ({why}): {err}");
        assert!(!err.contains("no ETag"), "{etag}: not 'no ETag': {err}");
    }
}

/// `save` whose first PUT never reached the server: the second round sends the same write, and
/// stderr does not claim concurrent changes were merged in.
#[tokio::test(flavor = "multi_thread")]
async fn save_retrying_a_write_that_did_not_land_claims_no_merge() {
    let d = ifmatch_tests::demo().await;
    let url = format!("{}/settings", d.url());
    let base = d.text("/settings").unwrap();
    let etag = reqwest::get(&url).await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let base_file = temp("retry-base.json", &base);
    let mine_file = temp(
        "retry-mine.json",
        &base.replace("Acme Support", "Acme Retry"),
    );
    d.add_fault(ifmatch_tests::Fault {
        method: Some("PUT".into()),
        drop_before_apply: true,
        ..ifmatch_tests::fault()
    });
    let out = tokio::task::spawn_blocking(move || {
        Command::new(ifmatch_bin())
            .args(["save", &url, "--base"])
            .arg(&base_file)
            .args(["--if-match", &etag])
            .arg(&mine_file)
            .env_remove("IFMATCH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!err.contains("merged in"), "{err}");
    assert!(err.contains("did not land"), "{err}");
    assert!(d.text("/settings").unwrap().contains("Acme Retry"));
}

/// Input a server would read one way or another is refused before anything is sent: duplicate
/// member names and lone surrogate escapes (exit 1, the place named, the server untouched).
#[tokio::test(flavor = "multi_thread")]
async fn ambiguous_json_input_is_refused_before_sending() {
    let d = ifmatch_tests::demo().await;
    for (body, words) in [
        (
            r#"{"siteName": "A", "siteName": "B"}"#,
            "duplicate member name",
        ),
        (r#"{"siteName": "A\ud800"}"#, "lone UTF-16 surrogate"),
    ] {
        let url = format!("{}/settings", d.url());
        let before = d.text("/settings");
        let out = tokio::task::spawn_blocking(move || {
            let mut child = Command::new(ifmatch_bin())
                .args(["put", &url, "--force"])
                .env_remove("IFMATCH_TOKEN")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(body.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{body}: {err}");
        assert!(
            err.contains(words) && err.contains("nothing was sent"),
            "{err}"
        );
        assert!(err.contains("line 1 column"), "{err}");
        assert_eq!(d.text("/settings"), before, "the server is untouched");
    }
}

/// Runs ifmatch with stderr going to /dev/full and stdout kept.
fn stderr_to_dev_full(args: &[&str], env: &[(&str, &str)]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let mut cmd = Command::new(ifmatch_bin());
    cmd.args(args)
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_DIALECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(full);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// A full stderr: the notes and warnings on it are lost, but a command whose result was delivered
/// keeps exit 0 (only a full stdout fails it), an error keeps its own code, and nothing panics
/// (exit 101).
#[test]
fn a_full_stderr_keeps_every_exit_code_and_never_panics() {
    let (b, m, t) = (
        temp("fe-base.json", r#"{"a": 1}"#),
        temp("fe-mine.json", r#"{"a": 2}"#),
        temp("fe-theirs.json", r#"{"a": 3}"#),
    );
    let (b, m, t) = (
        b.to_str().unwrap(),
        m.to_str().unwrap(),
        t.to_str().unwrap(),
    );
    // Resolved to mine: exit 0 with the conflicts listed on stderr, which is full.
    let out = stderr_to_dev_full(&["merge", b, m, t, "--prefer", "mine"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"a\": 2"));
    // Conflicts left: their own exit code.
    let out = stderr_to_dev_full(&["merge", b, m, t], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // A usage error (an unknown dialect, from the environment): exit 2.
    let out = stderr_to_dev_full(
        &["get", "http://127.0.0.1:9/x"],
        &[("IFMATCH_DIALECT", "nonsense")],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Nothing to report: stderr untouched, exit 0.
    let same = temp("fe-same.json", r#"{"a": 1}"#);
    let s = same.to_str().unwrap();
    let out = stderr_to_dev_full(&["merge", s, s, s], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A command with a warning on success: `save --dialect none` says the risk on stderr.
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let doc = temp("fe-doc.json", "{\"siteName\": \"x\"}");
    let out = stderr_to_dev_full(
        &["--dialect", "none", "put", &url, doc.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
