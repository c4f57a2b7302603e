//! The CLI against a real nginx with its dav module: a server that accepts If-Match and
//! If-None-Match on writes and ignores them, whose ETag is mtime (seconds) and size. "Another
//! writer" is plain HTTP (curl-like: an unconditional PUT straight to nginx, here the file on
//! disk). No scenario may exit 0 with a lost change and an empty stderr.

use ifmatch_tests::nginx::Nginx;
use ifmatch_tests::run_cli;
use std::path::PathBuf;
use std::process::Output;

const SETTINGS: &str = "{\n  \"theme\": \"light\",\n  \"pageSize\": 50\n}\n";

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Setup {
    nginx: Nginx,
    state: PathBuf,
    url: String,
}

impl Setup {
    /// nginx with settings.json; with `checked`, `ifmatch check` has run on it first.
    fn new(checked: bool) -> Setup {
        let nginx = Nginx::start(&[("settings.json", SETTINGS)]);
        let state = nginx.dir.join("ifmatch-state");
        let url = format!("{}/settings.json", nginx.url);
        let s = Setup { nginx, state, url };
        if checked {
            let o = s.cli(&["check", &s.url], None);
            assert_eq!(o.status.code(), Some(8), "{}{}", out(&o), err(&o));
        }
        s
    }
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.state, args, stdin)
    }
    fn tag(&self) -> String {
        let o = self.cli(&["get", "--etag", &self.url], None);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        out(&o).trim().to_string()
    }
    /// Another writer, not using ifmatch, changes the file (a different size, so nginx's ETag
    /// changes even within the same second).
    fn other_writer(&self, from: &str, to: &str) {
        let now = self.nginx.file("settings.json").unwrap();
        assert!(now.contains(from), "{now}");
        std::fs::write(
            self.nginx.dir.join("data/settings.json"),
            now.replace(from, to),
        )
        .unwrap();
    }
    fn file(&self) -> String {
        self.nginx.file("settings.json").unwrap_or_default()
    }
}

#[test]
fn the_check_finds_nginx_unprotected_with_its_evidence() {
    let s = Setup::new(false);
    let o = s.cli(&["check", &s.url, "--json"], None);
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    let r: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "unprotected");
    assert!(r["proposed_dialect"].is_null(), "a plain file server: {r}");
    let finding = |topic: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["topic"] == topic)
            .cloned()
            .unwrap_or_else(|| panic!("no {topic} finding: {r}"))
    };
    assert_eq!(finding("if_match")["mark"], "bad");
    assert_eq!(finding("if_none_match")["mark"], "bad");
    assert_eq!(finding("delete")["mark"], "bad");
    let ev = finding("if_match")["evidence"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        ev.contains("If-Match: \"ifmatch-check-never-matches\"") && ev.contains("→ 20"),
        "{ev}"
    );
    // The real document is untouched and the scratch one is gone.
    assert_eq!(s.file(), SETTINGS);
    let left: Vec<_> = std::fs::read_dir(s.nginx.dir.join("data"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["settings.json".to_string()], "{left:?}");
    assert!(
        r["wrote"][1].as_str().unwrap().starts_with("deleted"),
        "{r}"
    );
}

/// A stale `put --if-match`: caught by comparing before writing, with or without a check.
#[test]
fn a_stale_put_is_refused_and_nothing_is_overwritten() {
    for checked in [false, true] {
        let s = Setup::new(checked);
        let tag = s.tag();
        s.other_writer("\"light\"", "\"solarized\"");
        let o = s.cli(
            &["put", &s.url, "--if-match", &tag],
            Some(&SETTINGS.replace("50", "100")),
        );
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        assert!(err(&o).contains("nothing was sent"), "{}", err(&o));
        assert!(s.file().contains("solarized") && !s.file().contains("100"));
    }
}

/// A write that goes through on a checked (unprotected) server says the risk that remains.
#[test]
fn a_fresh_put_saves_and_says_the_risk_that_remains() {
    let s = Setup::new(true);
    let tag = s.tag();
    let mine = SETTINGS.replace("50", "100");
    let o = s.cli(&["put", &s.url, "--if-match", &tag], Some(&mine));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(s.file(), mine);
    assert!(
        err(&o).contains("does not refuse stale writes"),
        "an unprotected write never has an empty stderr: {:?}",
        err(&o)
    );
}

#[test]
fn create_over_an_existing_document_is_refused() {
    for checked in [false, true] {
        let s = Setup::new(checked);
        let o = s.cli(&["create", &s.url], Some("{\"fresh\": true}"));
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        assert!(err(&o).contains("already exists"), "{}", err(&o));
        assert_eq!(s.file(), SETTINGS);
        // A new one is created.
        let new = format!("{}/flags.json", s.nginx.url);
        let o = s.cli(&["create", &new], Some("{\"beta\": true}"));
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert_eq!(s.nginx.file("flags.json").unwrap(), "{\"beta\": true}");
    }
}

#[test]
fn a_stale_delete_is_refused() {
    for checked in [false, true] {
        let s = Setup::new(checked);
        let tag = s.tag();
        s.other_writer("\"light\"", "\"solarized\"");
        let o = s.cli(&["delete", &s.url, "--if-match", &tag], None);
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        assert!(s.file().contains("solarized"));
    }
}

fn save(s: &Setup, mine: &str, base: &str, tag: &str) -> Output {
    let dir = s.nginx.dir.join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.json"), base).unwrap();
    std::fs::write(dir.join("mine.json"), mine).unwrap();
    s.cli(
        &[
            "save",
            &s.url,
            dir.join("mine.json").to_str().unwrap(),
            "--base",
            dir.join("base.json").to_str().unwrap(),
            "--if-match",
            tag,
        ],
        None,
    )
}

#[test]
fn save_merges_a_disjoint_change_and_stops_on_a_collision() {
    for checked in [false, true] {
        // Disjoint: both changes survive.
        let s = Setup::new(checked);
        let tag = s.tag();
        s.other_writer("\"light\"", "\"solarized\"");
        let o = save(&s, &SETTINGS.replace("50", "100"), SETTINGS, &tag);
        assert_eq!(o.status.code(), Some(0), "checked={checked}: {}", err(&o));
        let now = s.file();
        assert!(now.contains("solarized") && now.contains("100"), "{now}");
        if checked {
            assert!(
                err(&o).contains("does not refuse stale writes"),
                "{}",
                err(&o)
            );
        }

        // Colliding: exit 3, the other writer's value stays.
        let s = Setup::new(checked);
        let tag = s.tag();
        s.other_writer("\"light\"", "\"solarized\"");
        let o = save(&s, &SETTINGS.replace("light", "dark"), SETTINGS, &tag);
        assert_eq!(o.status.code(), Some(3), "checked={checked}: {}", err(&o));
        assert!(s.file().contains("solarized") && !s.file().contains("dark"));
    }
}

/// The other writer changes the document within the same second at the same size: nginx's ETag
/// stays the same, so comparing validators cannot see it; `save` compares the document itself.
#[test]
fn a_same_size_change_within_the_second_is_caught_by_save() {
    let s = Setup::new(true);
    let tag = s.tag();
    // "light" → "dusky": same length, so the same size; written at once, so the same second
    // (almost always; when the second turns over the ETag changes and the write is refused
    // all the same).
    s.other_writer("\"light\"", "\"dusky\"");
    let o = save(&s, &SETTINGS.replace("light", "dark!"), SETTINGS, &tag);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(s.file().contains("dusky") && !s.file().contains("dark!"));
}

/// `save --watch`: a client that sends no If-Match writes its stale copy back right after the
/// save; the watch's read a moment later sees the change gone, says where, and exits 3; the same
/// save run again without --if-match puts it back.
#[test]
fn save_watch_sees_a_saved_change_written_over() {
    use std::io::BufRead;
    let s = Setup::new(true);
    let tag = s.tag();
    let mine = SETTINGS.replace("50", "100");
    let dir = s.nginx.dir.join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.json"), SETTINGS).unwrap();
    std::fs::write(dir.join("mine.json"), &mine).unwrap();
    let args = |if_match: Option<&str>| {
        let mut a = vec![
            "save".to_string(),
            s.url.clone(),
            dir.join("mine.json").to_str().unwrap().to_string(),
            "--base".into(),
            dir.join("base.json").to_str().unwrap().to_string(),
            "--watch".into(),
            "5".into(),
        ];
        if let Some(t) = if_match {
            a.extend(["--if-match".to_string(), t.to_string()]);
        }
        a
    };
    // The save prints its new validator once it is done writing and before the watch's wait:
    // then a careless client (no If-Match) writes its old copy back.
    let mut child = std::process::Command::new(ifmatch_tests::ifmatch_bin())
        .args(args(Some(&tag)))
        .env("IFMATCH_STATE_DIR", &s.state)
        .env_remove("IFMATCH_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with('"'), "the validator first: {line:?}");
    assert!(s.file().contains("100"), "the save landed");
    std::fs::write(
        s.nginx.dir.join("data/settings.json"),
        SETTINGS.replace("light", "light "),
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains("no longer holds your change at /pageSize"),
        "{}",
        err(&o)
    );
    assert!(s.file().contains("50"));

    let again = args(None);
    let o = s.cli(&again.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let now: serde_json::Value = serde_json::from_str(&s.file()).unwrap();
    assert_eq!(
        (now["pageSize"].clone(), now["theme"].clone()),
        (100.into(), "light ".into())
    );
}
