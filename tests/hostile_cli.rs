//! The CLI against hostile input from the user's side: editors that do odd things to the file
//! `ifmatch edit` gives them, member names that could break the lines ifmatch writes around a
//! conflict, a stderr or stdout that cannot be written, `--id-key` warnings about arrays with
//! awkward pointers. Servers are the hostile-input kit's (`ifmatch_tests::hostile`) on 127.0.0.1.
//!
//! `ScriptedEditor` is a reusable `$EDITOR`: a shell script that, on its n-th run, copies the file
//! it was given to `seen-N` and applies the transformation the test gave for that pass (or for
//! every pass). Every CLI run has a deadline, so an edit loop that never ends fails the test
//! instead of hanging it.

use ifmatch_tests::hostile::{Etag, Hostile, Knobs};
use ifmatch_tests::ifmatch_bin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one CLI run may take before it is taken to be looping.
const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `cmd` to its end (stdout and stderr piped), or kills it at the deadline and says so (the
/// test then fails).
fn finish(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    finish_as_set(cmd)
}

/// `finish` with stdout and stderr where `cmd` already sends them.
fn finish_as_set(mut cmd: Command) -> Output {
    let mut child = cmd.stdin(Stdio::null()).spawn().expect("ifmatch runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waitable").is_some() {
            return child.wait_with_output().expect("ifmatch ends");
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().expect("killed");
            panic!(
                "ifmatch was still running after {DEADLINE:?} (an endless editor loop?); \
                 stderr so far:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scripted `$EDITOR` in a folder of its own, which is also the CLI's temporary folder (so the
/// file `ifmatch edit` keeps is found there).
struct ScriptedEditor {
    dir: PathBuf,
}

impl ScriptedEditor {
    fn new(name: &str) -> ScriptedEditor {
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-hostile-cli-{}-{name}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::write(
            dir.join("editor.sh"),
            "d=\"$EDIT_DIR\"; n=$(cat \"$d/n\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$d/n\"\n\
             cp \"$1\" \"$d/seen-$n\" 2>/dev/null\n\
             if [ -f \"$d/pass-$n\" ]; then . \"$d/pass-$n\"; elif [ -f \"$d/every\" ]; then . \"$d/every\"; fi\n",
        )
        .unwrap();
        ScriptedEditor { dir }
    }

    /// What pass `n` does to the file ($1), as shell (sourced: `exit` is the editor's status).
    fn pass(&self, n: usize, script: &str) -> &Self {
        std::fs::write(self.dir.join(format!("pass-{n}")), script).unwrap();
        self
    }

    /// What every pass without its own script does.
    fn every(&self, script: &str) -> &Self {
        std::fs::write(self.dir.join("every"), script).unwrap();
        self
    }

    /// Pass `n` replaces the file with exactly `text`.
    fn pass_writes(&self, n: usize, text: &str) -> &Self {
        let content = self.dir.join(format!("content-{n}"));
        std::fs::write(&content, text).unwrap();
        self.pass(n, &format!("cat '{}' > \"$1\"\n", content.display()))
    }

    /// What the editor was given on pass `n`.
    fn seen(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("seen-{n}"))).unwrap_or_default()
    }

    fn passes(&self) -> usize {
        std::fs::read_to_string(self.dir.join("n"))
            .map(|t| t.trim().parse().unwrap_or(0))
            .unwrap_or(0)
    }

    /// `ifmatch edit URL` with this editor.
    fn edit(&self, url: &str) -> Output {
        self.edit_to(url, Stdio::piped(), Stdio::piped())
    }

    /// `edit` with stdout and stderr going there.
    fn edit_to(&self, url: &str, stdout: Stdio, stderr: Stdio) -> Output {
        let mut cmd = Command::new(ifmatch_bin());
        cmd.args(["edit", url])
            .env(
                "EDITOR",
                format!("sh {}", self.dir.join("editor.sh").display()),
            )
            .env("VISUAL", "")
            .env("EDIT_DIR", &self.dir)
            .env("TMPDIR", self.dir.join("tmp"))
            .env("IFMATCH_STATE_DIR", self.dir.join("state"))
            .env_remove("IFMATCH_TOKEN")
            .env_remove("IFMATCH_DIALECT")
            .stdout(stdout)
            .stderr(stderr);
        finish_as_set(cmd)
    }

    /// The files `ifmatch edit` left in its temporary folder.
    fn kept(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.join("tmp"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("ifmatch-edit-"))
            .collect()
    }

    /// The one kept file, which stderr must name.
    fn kept_and_named(&self, o: &Output) -> String {
        let kept = self.kept();
        assert_eq!(kept.len(), 1, "one file kept: {kept:?}; {}", err(o));
        assert!(
            err(o).contains(&kept[0].display().to_string()),
            "stderr names {}: {}",
            kept[0].display(),
            err(o)
        );
        std::fs::read_to_string(&kept[0]).unwrap_or_default()
    }
}

impl Drop for ScriptedEditor {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn puts(server: &Hostile) -> usize {
    server.seen_method("PUT").len()
}

/// A conflict on a member whose name holds anything: the file the second pass gets keeps
/// ifmatch's header lines one line each (the pointer written as a JSON string when it is not
/// plain), and resolving the conflict there (keeping mine) saves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_on_any_member_name_stays_resolvable_in_the_editor() {
    let long = "k".repeat(5000);
    let names: [&str; 10] = [
        "a\nb",
        "line\r\nend",
        "#fragment",
        "say \"hi\" \\ there",
        &long,
        "café 日本 ✓",
        "// ifmatch: not saved",
        "\n// ifmatch:   x at /y",
        "sep\u{2028}arator\u{85}",
        "a/b~c",
    ];
    for name in names {
        let key = serde_json::to_string(name).unwrap();
        let doc = format!("{{\"other\": 0, {key}: 111}}");
        let server = Hostile::start(Knobs::default(), &[("/doc", &doc)]).await;
        // Another admin changes the same member right before our first write.
        server.before("PUT", 1, |t| t.replace("111", "333"));
        let e = ScriptedEditor::new("names");
        e.pass(1, "sed -i 's/111/222/' \"$1\"\n");
        // Keep mine: drop the base and theirs blocks and the opening marker; the header stays.
        e.pass(
            2,
            "sed -i -e '/^||||||| base/,/^>>>>>>> theirs/d' -e '/^<<<<<<< mine/d' \"$1\"\n",
        );
        let o = e.edit(&server.at("/doc"));
        let shown = e.seen(2);
        let short: String = name.chars().take(40).collect();
        assert_eq!(
            o.status.code(),
            Some(0),
            "name {short:?}: {}\nthe second pass got:\n{}",
            err(&o),
            shown.chars().take(3000).collect::<String>()
        );
        assert_eq!(e.passes(), 2, "{short:?}");
        let held: Value = serde_json::from_str(&server.text("/doc").unwrap()).unwrap();
        assert_eq!(held[name], 222, "{short:?}: mine was saved");
        assert_eq!(held["other"], 0);
        // The header: every line up to the document is ifmatch's, and names the pointer in a
        // form that reads back as the pointer.
        let head: Vec<&str> = shown.lines().take_while(|l| !l.starts_with('{')).collect();
        assert!(
            head.iter().all(|l| l.starts_with("// ifmatch: ")),
            "{short:?}: {head:?}"
        );
        let mut pointer = String::from("/");
        ifmatch_engine::json::pointer_token(name, &mut pointer);
        let named = head.iter().any(|l| {
            l.split_once(" at ").is_some_and(|(_, p)| {
                p == pointer || serde_json::from_str::<String>(p).is_ok_and(|p| p == pointer)
            })
        });
        assert!(named, "{short:?}: the conflict's pointer in {head:?}");
        assert!(e.kept().is_empty(), "saved: the file is removed");
    }
}

/// An editor that changes nothing the JSON means (a final newline, indentation, CRLF line ends,
/// a byte order mark, `1.50` as `1.5`, members reordered) sends nothing and exits 0, saying so.
/// A real change is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_changes_nothing_the_json_means_sends_nothing() {
    let doc = "{\n  \"price\": 1.50,\n  \"name\": \"x\",\n  \"tags\": [1, 2]\n}";
    let cases: [(&str, Option<&str>, bool); 6] = [
        ("a final newline", Some("printf '\\n' >> \"$1\"\n"), false),
        ("indentation", Some("sed -i 's/^ /    /' \"$1\"\n"), false),
        ("CRLF line ends", Some("sed -i 's/$/\\r/' \"$1\"\n"), false),
        (
            "a byte order mark",
            Some(
                "printf '\\357\\273\\277' > \"$1.b\"; cat \"$1\" >> \"$1.b\"; mv \"$1.b\" \"$1\"\n",
            ),
            false,
        ),
        ("1.50 as 1.5", Some("sed -i 's/1[.]50/1.5/' \"$1\"\n"), true),
        ("members reordered", None, true),
    ];
    for (what, script, kept) in cases {
        let server = Hostile::start(Knobs::default(), &[("/doc", doc)]).await;
        let e = ScriptedEditor::new("no-change");
        match script {
            Some(s) => e.pass(1, s),
            None => e.pass_writes(1, "{\"tags\": [1, 2], \"name\": \"x\", \"price\": 1.50}\n"),
        };
        let o = e.edit(&server.at("/doc"));
        assert_eq!(o.status.code(), Some(0), "{what}: {}", err(&o));
        assert!(
            err(&o).contains("no change") && err(&o).contains("nothing was sent"),
            "{what}: {}",
            err(&o)
        );
        assert_eq!(puts(&server), 0, "{what}: no write was sent");
        assert_eq!(server.text("/doc").unwrap(), doc, "{what}");
        if kept {
            // A spelling the user may have meant: the text stays, and stderr says where.
            e.kept_and_named(&o);
        } else {
            assert!(e.kept().is_empty(), "{what}: {:?}", e.kept());
        }
    }
    // A real change is a write.
    let server = Hostile::start(Knobs::default(), &[("/doc", doc)]).await;
    let e = ScriptedEditor::new("a-change");
    e.pass(1, "sed -i 's/1[.]50/1.51/' \"$1\"\n");
    let o = e.edit(&server.at("/doc"));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(puts(&server), 1);
    let held: Value = serde_json::from_str(&server.text("/doc").unwrap()).unwrap();
    assert_eq!(held["price"].to_string(), "1.51");
}

/// An editor that fails, empties the file, writes garbage every time, removes the file, writes
/// bytes that are not text, or never touches it: a clear sentence, nothing sent, the text kept
/// in a file stderr names, and never an endless loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_that_misbehaves_loses_nothing_and_sends_nothing() {
    let doc = "{\"name\": \"original\", \"n\": 111}";
    let server = Hostile::start(Knobs::default(), &[("/doc", doc)]).await;
    let url = server.at("/doc");

    // Exits non-zero after an edit: the edit is kept, not sent.
    let e = ScriptedEditor::new("fails");
    e.pass(1, "sed -i 's/111/222/' \"$1\"; exit 3\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("failed") && err(&o).contains("nothing was sent"),
        "{}",
        err(&o)
    );
    assert!(e.kept_and_named(&o).contains("222"));

    // Empties the file, every time: stops at once, the text it was given is back.
    let e = ScriptedEditor::new("empties");
    e.every(": > \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("empty") && err(&o).contains("nothing was sent"),
        "{}",
        err(&o)
    );
    assert_eq!(e.kept_and_named(&o), doc);
    assert_eq!(e.passes(), 1);

    // Writes the same garbage every time: reopened once with the error, then given up.
    let e = ScriptedEditor::new("garbage");
    e.every("echo 'this is { not json' > \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(e.seen(2).contains("not valid JSON"), "{}", e.seen(2));
    assert!(e.kept_and_named(&o).contains("this is { not json"));
    assert_eq!(e.passes(), 2);

    // Removes the file: the text it was given is written back and named.
    let e = ScriptedEditor::new("removes");
    e.pass(1, "rm -f \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("removed the file") && err(&o).contains("nothing was sent"),
        "{}",
        err(&o)
    );
    assert_eq!(e.kept_and_named(&o), doc);

    // Writes bytes that are not UTF-8: said, left as they are.
    let e = ScriptedEditor::new("not-text");
    e.pass(1, "printf '{\"name\": \"\\377\"}' > \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("not UTF-8") && err(&o).contains("nothing was sent"),
        "{}",
        err(&o)
    );
    e.kept_and_named(&o);

    // Never writes it: no change, nothing sent, exit 0.
    let e = ScriptedEditor::new("untouched");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("nothing was sent"), "{}", err(&o));
    assert!(e.kept().is_empty());

    assert_eq!(puts(&server), 0, "no editor's text was ever sent");
    assert_eq!(server.text("/doc").unwrap(), doc);
}

/// /dev/full: every write fails with ENOSPC.
fn full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux"),
    )
}

/// `ifmatch ARGS` with stdout and stderr on /dev/full or piped.
fn run_to(args: &[&str], stdout_full: bool, stderr_full: bool, state: &Path) -> Output {
    let mut cmd = Command::new(ifmatch_bin());
    cmd.args(args)
        .env("IFMATCH_STATE_DIR", state)
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_DIALECT")
        .stdin(Stdio::null())
        .stdout(if stdout_full { full() } else { Stdio::piped() })
        .stderr(if stderr_full { full() } else { Stdio::piped() });
    cmd.output().unwrap()
}

/// A stderr that cannot be written (warnings and notes lost) does not change the exit code of a
/// command whose result was delivered; a stdout that cannot be written is the command's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_stderr_leaves_the_result_and_a_failing_stdout_is_a_failure() {
    // A weak ETag: every read comes with a warning on stderr.
    let knobs = Knobs {
        etag: Etag::Weak,
        ..Knobs::default()
    };
    let doc = "{\"a\": 1}";
    let server = Hostile::start(knobs, &[("/doc", doc)]).await;
    let url = server.at("/doc");
    let e = ScriptedEditor::new("outputs");
    let state = e.dir.join("state");

    let o = run_to(&["get", &url], false, false, &state);
    assert!(
        err(&o).contains("weak"),
        "the warning is there: {}",
        err(&o)
    );
    let o = run_to(&["get", &url], false, true, &state);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        doc,
        "the body was delivered"
    );
    let o = run_to(&["get", &url], true, false, &state);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        err(&o).contains("output could not be written"),
        "{}",
        err(&o)
    );

    // merge: the result on stdout, the conflicts it resolved listed on stderr.
    let files = e.dir.join("m");
    std::fs::create_dir_all(&files).unwrap();
    for (n, t) in [
        ("b", "{\"a\": 1}"),
        ("m", "{\"a\": 2}"),
        ("t", "{\"a\": 3}"),
    ] {
        std::fs::write(files.join(n), t).unwrap();
    }
    let f = |n: &str| files.join(n).display().to_string();
    let merge = ["merge", &f("b"), &f("m"), &f("t"), "--prefer", "mine"];
    let o = run_to(&merge, false, true, &state);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"a\": 2"));
    let o = run_to(&merge, true, false, &state);
    assert_eq!(o.status.code(), Some(2), "{o:?}");

    // A write that lands with a warning on stderr: exit 0, the server holds it.
    let new = files.join("new.json");
    std::fs::write(&new, "{\"a\": 5}").unwrap();
    let o = run_to(
        &["put", &url, new.to_str().unwrap(), "--force"],
        false,
        true,
        &state,
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(server.text("/doc").unwrap(), "{\"a\": 5}");

    // edit: saved with stderr full, exit 0; saved with stdout full (the new validator lost),
    // exit 1 saying it was saved, and the file of a saved text is not left behind.
    let e = ScriptedEditor::new("outputs-edit");
    e.pass(1, "sed -i 's/5/6/' \"$1\"\n");
    let o = e.edit_to(&url, Stdio::piped(), full());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(server.text("/doc").unwrap(), "{\"a\": 6}");
    e.pass(2, "sed -i 's/6/7/' \"$1\"\n");
    let o = e.edit_to(&url, full(), Stdio::piped());
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(err(&o).contains("saved on the server"), "{}", err(&o));
    assert_eq!(server.text("/doc").unwrap(), "{\"a\": 7}");
    assert!(e.kept().is_empty(), "{:?}", e.kept());

    // A trail asked for on stderr is output: when stderr cannot take it, the run fails.
    let o = run_to(&["--trail", "-", "get", &url], false, true, &state);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

/// `--id-key` warnings name the top-level array in words and every other array by a pointer
/// that stays on its line and reads back as the pointer.
#[test]
fn id_key_warnings_name_arrays_readably() {
    let e = ScriptedEditor::new("id-key");
    let f = |n: &str, t: &str| {
        let p = e.dir.join(n);
        std::fs::write(&p, t).unwrap();
        p.display().to_string()
    };
    let run = |b: &str, m: &str, t: &str| {
        let (b, m, t) = (f("b.json", b), f("m.json", m), f("t.json", t));
        let mut cmd = Command::new(ifmatch_bin());
        cmd.args(["merge", &b, &m, &t, "--id-key", "id"]);
        err(&finish(cmd))
    };
    let said = run(
        "[{\"n\": 1}, {\"n\": 2}]",
        "[{\"n\": 1}, {\"n\": 5}]",
        "[{\"n\": 0}, {\"n\": 2}]",
    );
    let warning = said
        .lines()
        .find(|l| l.contains("merged by position"))
        .unwrap_or_else(|| panic!("a warning: {said}"));
    assert!(
        warning.ends_with("): the top-level array"),
        "the root array in words: {warning}"
    );

    let said = run(
        "{\"a\\nb\": [{\"n\": 1}], \"x, y\": [{\"n\": 1}]}",
        "{\"a\\nb\": [{\"n\": 2}], \"x, y\": [{\"n\": 2}]}",
        "{\"a\\nb\": [{\"n\": 1}, {\"n\": 3}], \"x, y\": [{\"n\": 1}, {\"n\": 3}]}",
    );
    let warning = said
        .lines()
        .find(|l| l.contains("merged by position"))
        .unwrap_or_else(|| panic!("a warning: {said}"));
    assert!(
        warning.ends_with("): \"/a\\nb\", \"/x, y\""),
        "each pointer as a JSON string on the warning's line: {warning}"
    );
    // The conflicts listed under the count: one line each, the pointer readable.
    assert!(said.contains("  modify/modify \"/a\\nb/0\"\n"), "{said}");
}
