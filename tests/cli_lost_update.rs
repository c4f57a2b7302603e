//! The `ifmatch` CLI end to end: the lost-update scenario against the demo server (run as
//! `ifmatch serve-demo`, a separate process) and against Apache mod_dav, plus exit codes.

use ifmatch_tests::apache::Apache;
use ifmatch_tests::{ifmatch_bin, DemoProcess};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ifmatch(args: &[&str], stdin: Option<&str>) -> Output {
    ifmatch_in(&no_profiles(), args, stdin)
}

/// A state folder no `ifmatch check` wrote: no server has a profile (and the developer's own
/// ~/.local/state never plays a part).
fn no_profiles() -> PathBuf {
    std::env::temp_dir().join(format!("ifmatch-no-profiles-{}", std::process::id()))
}

/// `ifmatch` with the server profiles in `state`.
fn ifmatch_in(state: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(ifmatch_bin())
        .args(args)
        .env("IFMATCH_STATE_DIR", state)
        .env_remove("IFMATCH_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two writers read the same version; the first write succeeds; the second exits with the
/// conflict code (3); the server still holds the first writer's change. With `checked`, the
/// server was checked first (`ifmatch check`: protected), so the second write is sent and the
/// server's own 412 refuses it; without, ifmatch compares before writing and sends nothing.
fn lost_update_scenario(url: &str, checked: bool, server_text: impl Fn() -> String) {
    let state = if checked {
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-profiles-{}-{}",
            std::process::id(),
            url.len() + url.bytes().map(usize::from).sum::<usize>()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let o = ifmatch_in(&dir, &["check", url], None);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("Protected"), "{}", stdout(&o));
        dir
    } else {
        no_profiles()
    };
    let ifmatch = |args: &[&str], stdin: Option<&str>| ifmatch_in(&state, args, stdin);
    // Both read (as a script would: `get -i` prints the validator, a blank line, the body).
    let read_a = ifmatch(&["get", "-i", url], None);
    let read_b = ifmatch(&["get", "-i", url], None);
    assert_eq!(read_a.status.code(), Some(0), "{}", stderr(&read_a));
    let (head_a, body_a) = stdout(&read_a)
        .split_once("\n\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap();
    let (head_b, body_b) = stdout(&read_b)
        .split_once("\n\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap();
    assert_eq!(head_a, head_b, "both read the same version");
    let tag = head_a
        .strip_prefix("ETag: ")
        .expect("an ETag line")
        .to_string();
    assert!(body_a.contains("\"theme\": \"light\""), "{body_a}");

    // Writer A changes the theme and saves with If-Match.
    let mine = body_a.replace("\"light\"", "\"dark\"");
    let a = ifmatch(&["put", url, "--if-match", &tag], Some(&mine));
    assert_eq!(a.status.code(), Some(0), "writer A: {}", stderr(&a));
    let new_tag = stdout(&a).trim().to_string();
    assert!(
        !new_tag.is_empty() && new_tag != tag,
        "put prints the new validator: {new_tag:?}"
    );

    // Writer B, still holding the old validator, changes the page size: refused.
    let theirs = body_b.replace("50", "100");
    let b = ifmatch(&["put", url, "--if-match", &tag], Some(&theirs));
    assert_eq!(
        b.status.code(),
        Some(3),
        "writer B must get the conflict code; stderr: {}",
        stderr(&b)
    );
    let why = if checked {
        "Conflict (412)"
    } else {
        "compared before writing"
    };
    assert!(stderr(&b).contains(why), "{}", stderr(&b));
    assert!(
        stderr(&b).contains("nothing was overwritten"),
        "{}",
        stderr(&b)
    );

    // The server still holds A's change, not B's.
    let now = server_text();
    assert!(now.contains("\"dark\""), "{now}");
    assert!(!now.contains("100"), "{now}");
    // Re-reading gives A's validator.
    let again = ifmatch(&["get", "--etag", url], None);
    assert_eq!(stdout(&again).trim(), new_tag);
}

const SETTINGS: &str = "{\n  \"theme\": \"light\",\n  \"pageSize\": 50\n}\n";

#[test]
fn lost_update_is_prevented_against_the_demo_server() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/prefs", demo.url);
    let created = ifmatch(&["create", &url], Some(SETTINGS));
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let u = url.clone();
    lost_update_scenario(&url, false, || stdout(&ifmatch(&["get", &u], None)));
    let u = format!("{}/prefs2", demo.url);
    assert_eq!(
        ifmatch(&["create", &u], Some(SETTINGS)).status.code(),
        Some(0)
    );
    let uu = u.clone();
    lost_update_scenario(&u, true, || stdout(&ifmatch(&["get", &uu], None)));
}

#[test]
fn lost_update_is_prevented_against_apache() {
    let apache = Apache::start(&[("prefs.json", SETTINGS)]);
    let url = format!("{}/prefs.json", apache.url);
    lost_update_scenario(&url, false, || apache.file("prefs.json").unwrap());
    std::fs::write(apache.dir.join("data/prefs.json"), SETTINGS).unwrap();
    lost_update_scenario(&url, true, || apache.file("prefs.json").unwrap());
}

#[test]
fn exit_codes_and_messages() {
    let demo = DemoProcess::start(&[], &[]);
    let settings = format!("{}/settings", demo.url);

    // 4: an unconditional write to a server that requires preconditions.
    let o = ifmatch(&["put", "--force", &settings], Some("{}"));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("Precondition required (428)"));

    // 1: invalid JSON input, with the place named, and nothing sent.
    let o = ifmatch(&["put", &settings], Some("{\n  \"a\": 1,\n}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was sent"));

    // 5: other HTTP errors (404 on read; 404 before a put says to use create).
    let o = ifmatch(&["get", &format!("{}/missing", demo.url)], None);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("Not found (404)"));
    let o = ifmatch(&["put", &format!("{}/missing", demo.url)], Some("{}"));
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("ifmatch create"), "{}", stderr(&o));

    // 0: put without --if-match takes the validator from a fresh GET.
    let o = ifmatch(&["put", &settings], Some("{\"siteName\": \"New\"}"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // 0 / 3: delete is conditional too.
    let o = ifmatch(&["delete", &settings, "--if-match", "\"stale\""], None);
    assert_eq!(o.status.code(), Some(3));
    let o = ifmatch(&["delete", &settings], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = ifmatch(&["get", &settings], None);
    assert!(stderr(&o).contains("Gone (410)"));

    // 6: nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = ifmatch(&["get", &format!("http://127.0.0.1:{port}/x")], None);
    assert_eq!(o.status.code(), Some(6));
    assert!(stderr(&o).contains("Could not reach the server"));

    // 2: usage.
    let o = ifmatch(&["put"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn token_from_environment_and_trail_without_secrets() {
    let demo = DemoProcess::start(
        &[("DEMO_TOKEN", "tok-cli-SECRET")],
        &["--token-env", "DEMO_TOKEN"],
    );
    let url = format!("{}/settings", demo.url);
    let o = ifmatch(&["get", &url], None);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("Unauthorized (401)"));
    let trail = std::env::temp_dir().join(format!("ifmatch-trail-{}.json", std::process::id()));
    let o = Command::new(ifmatch_bin())
        .args(["get", &url, "--trail", trail.to_str().unwrap()])
        .env("IFMATCH_TOKEN", "tok-cli-SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = std::fs::read_to_string(&trail).unwrap();
    let _ = std::fs::remove_file(&trail);
    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
    assert_eq!(v[0]["method"], "GET");
    assert_eq!(v[0]["status"], 200);
    assert!(v[0]["request_id"].as_str().unwrap().starts_with("demo-"));
    assert!(!t.contains("tok-cli-SECRET"));
}

#[test]
fn save_merges_concurrent_changes_and_stops_on_collisions() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/prefs", demo.url);
    assert_eq!(
        ifmatch(&["create", &url], Some(SETTINGS)).status.code(),
        Some(0)
    );
    let dir = std::env::temp_dir().join(format!("ifmatch-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    // Both writers read body + validator in one request each.
    for w in ["a", "b"] {
        let o = ifmatch(&["get", &url, "--etag-file", &p(&format!("{w}.tag"))], None);
        std::fs::write(p(&format!("{w}.base.json")), &o.stdout).unwrap();
    }
    let tag = |w: &str| {
        std::fs::read_to_string(p(&format!("{w}.tag")))
            .unwrap()
            .trim()
            .to_string()
    };
    let base = std::fs::read_to_string(p("a.base.json")).unwrap();
    // A changes the theme; B the page size: B's save merges A's change in and succeeds.
    let a = ifmatch(
        &[
            "save",
            &url,
            "--base",
            &p("a.base.json"),
            "--if-match",
            &tag("a"),
        ],
        Some(&base.replace("light", "dark")),
    );
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    let b = ifmatch(
        &[
            "save",
            &url,
            "--base",
            &p("b.base.json"),
            "--if-match",
            &tag("b"),
        ],
        Some(&base.replace("50", "100")),
    );
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    assert!(
        stderr(&b).contains("saved after 2 rounds"),
        "{}",
        stderr(&b)
    );
    let now: serde_json::Value =
        serde_json::from_slice(&ifmatch(&["get", &url], None).stdout).unwrap();
    assert_eq!(now, serde_json::json!({"theme": "dark", "pageSize": 100}));
    // Now both change the theme from the same version: the second gets exit 3 and the report.
    let o = ifmatch(&["get", &url, "--etag-file", &p("c.tag")], None);
    std::fs::write(p("c.base.json"), &o.stdout).unwrap();
    let base = String::from_utf8(o.stdout).unwrap();
    let c_tag = std::fs::read_to_string(p("c.tag"))
        .unwrap()
        .trim()
        .to_string();
    let first = ifmatch(
        &[
            "save",
            &url,
            "--base",
            &p("c.base.json"),
            "--if-match",
            &c_tag,
        ],
        Some(&base.replace("dark", "blue")),
    );
    assert_eq!(first.status.code(), Some(0));
    let second = ifmatch(
        &[
            "save",
            &url,
            "--base",
            &p("c.base.json"),
            "--if-match",
            &c_tag,
        ],
        Some(&base.replace("dark", "green")),
    );
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    let report: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["conflicts"][0]["pointer"], "/theme");
    assert_eq!(report["conflicts"][0]["mine"], "\"green\"");
    assert_eq!(report["conflicts"][0]["theirs"], "\"blue\"");
    let now: serde_json::Value =
        serde_json::from_slice(&ifmatch(&["get", &url], None).stdout).unwrap();
    assert_eq!(now["theme"], "blue", "nothing was overwritten");
    let _ = std::fs::remove_dir_all(&dir);
}
