//! `ifmatch edit` driven by a scripted `$EDITOR` against the demo server (`ifmatch serve-demo`,
//! its own process): a clean save, a concurrent change merged in, a conflict resolved in the
//! second editor pass, an invalid edit fixed in the second pass, and closing unchanged.
//!
//! The editor is a shell script: pass N copies the file it was given to `seen-N` and runs
//! `pass-N FILE` if the test wrote one.

use ifmatch_tests::{ifmatch_bin, run_cli_with, DemoProcess};
use std::path::{Path, PathBuf};
use std::process::Output;

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Editor {
    dir: PathBuf,
}

impl Editor {
    fn new(name: &str) -> Editor {
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-edit-test-{}-{name}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("editor.sh"),
            "n=$(cat \"$EDIT_DIR/n\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$EDIT_DIR/n\"\n\
             cp \"$1\" \"$EDIT_DIR/seen-$n\"\n\
             if [ -f \"$EDIT_DIR/pass-$n\" ]; then sh \"$EDIT_DIR/pass-$n\" \"$1\"; fi\n",
        )
        .unwrap();
        Editor { dir }
    }
    /// What pass `n` does to the file ($1), as shell.
    fn pass(&self, n: usize, script: &str) -> &Self {
        std::fs::write(self.dir.join(format!("pass-{n}")), script).unwrap();
        self
    }
    fn seen(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("seen-{n}"))).unwrap_or_default()
    }
    fn passes(&self) -> usize {
        std::fs::read_to_string(self.dir.join("n"))
            .map(|t| t.trim().parse().unwrap_or(0))
            .unwrap_or(0)
    }
    fn edit(&self, url: &str) -> Output {
        let editor = format!("sh {}", self.dir.join("editor.sh").display());
        run_cli_with(
            &self.dir.join("state"),
            &[
                ("EDITOR", &editor),
                ("VISUAL", ""),
                ("EDIT_DIR", self.dir.to_str().unwrap()),
                ("IFMATCH", ifmatch_bin().to_str().unwrap()),
            ],
            &["edit", url],
            None,
        )
    }
}

fn held(url: &str, dir: &Path) -> serde_json::Value {
    let o = run_cli_with(&dir.join("state"), &[], &["get", url], None);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Shell for "another admin changes this value now", with ifmatch itself (conditionally).
fn other_admin(url: &str, from: &str, to: &str) -> String {
    format!(
        "\"$IFMATCH\" get {url} --etag-file \"$EDIT_DIR/t\" | sed 's/{from}/{to}/' > \"$EDIT_DIR/o.json\"\n\
         \"$IFMATCH\" put {url} \"$EDIT_DIR/o.json\" --if-match \"$(cat \"$EDIT_DIR/t\")\" > /dev/null\n"
    )
}

#[test]
fn a_clean_edit_is_saved_and_its_file_removed() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let e = Editor::new("clean");
    e.pass(1, "sed -i 's/Acme Support/Acme Help/' \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(held(&url, &e.dir)["siteName"], "Acme Help");
    assert_eq!(e.passes(), 1);
    assert!(
        e.seen(1).contains("Acme Support"),
        "the editor got the document"
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "the new validator"
    );
}

#[test]
fn a_concurrent_change_is_merged_in() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let e = Editor::new("merge");
    e.pass(
        1,
        &format!(
            "{}sed -i 's/Acme Support/Acme Help/' \"$1\"\n",
            other_admin(&url, "\"daily\"", "\"weekly\"")
        ),
    );
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("merged in"), "{}", err(&o));
    let now = held(&url, &e.dir);
    assert_eq!(now["siteName"], "Acme Help");
    assert_eq!(now["notifications"]["digest"], "weekly");
    assert_eq!(e.passes(), 1);
}

#[test]
fn a_conflict_reopens_the_editor_marked_and_the_second_pass_saves() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let e = Editor::new("conflict");
    e.pass(
        1,
        &format!(
            "{}sed -i 's/Acme Support/Acme Help/' \"$1\"\n",
            other_admin(&url, "Acme Support", "Acme Care")
        ),
    );
    // The second pass keeps theirs' value: drops the header, mine's lines and the markers.
    e.pass(
        2,
        "sed -i -e '/^\\/\\/ ifmatch:/d' -e '/^<<<<<<< mine/,/^=======/d' -e '/^>>>>>>> theirs/d' \"$1\"\n",
    );
    let o = e.edit(&url);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\nsecond pass saw:\n{}",
        err(&o),
        e.seen(2)
    );
    assert_eq!(e.passes(), 2);
    let second = e.seen(2);
    assert!(
        second.starts_with("// ifmatch: not saved: someone changed"),
        "{second}"
    );
    assert!(second.contains("/siteName"), "{second}");
    assert!(
        second.contains("<<<<<<< mine") && second.contains(">>>>>>> theirs"),
        "{second}"
    );
    assert_eq!(held(&url, &e.dir)["siteName"], "Acme Care");
}

#[test]
fn an_invalid_edit_reopens_with_the_error_and_closing_unchanged_gives_up() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    // Invalid, then fixed.
    let e = Editor::new("invalid");
    e.pass(1, "sed -i 's/\"siteName\"/siteName/' \"$1\"\n");
    e.pass(
        2,
        "sed -i -e '/^\\/\\/ ifmatch:/d' -e 's/siteName:/\"siteName\":/' -e 's/Acme Support/Fixed/' \"$1\"\n",
    );
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        e.seen(2)
            .starts_with("// ifmatch: not saved: this is not valid JSON"),
        "{}",
        e.seen(2)
    );
    assert!(
        e.seen(2).contains("line 2"),
        "the error names the place: {}",
        e.seen(2)
    );
    assert_eq!(held(&url, &e.dir)["siteName"], "Fixed");

    // Invalid, then closed unchanged: nothing saved, the text kept in a file named on stderr.
    let e = Editor::new("give-up");
    e.pass(1, "sed -i 's/\"siteName\"/siteName/' \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let kept = err(&o)
        .split("kept in ")
        .nth(1)
        .map(|s| s.trim().to_string())
        .unwrap();
    assert!(
        std::fs::read_to_string(&kept)
            .unwrap()
            .contains("siteName: "),
        "{kept}"
    );
    let _ = std::fs::remove_file(&kept);
    assert_eq!(held(&url, &e.dir)["siteName"], "Fixed");

    // Closed unchanged the first time: no changes, nothing sent.
    let e = Editor::new("unchanged");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("nothing was sent"), "{}", err(&o));
}

/// An editor that only adds a final newline (vim does when the document has none) changes
/// nothing: no write is sent, the resource keeps its validator, exit 0.
#[test]
fn a_final_newline_alone_is_no_change_and_nothing_is_sent() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let e = Editor::new("final-newline");
    let etag = |dir: &Path| {
        let o = run_cli_with(&dir.join("state"), &[], &["get", "--etag", &url], None);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let before = etag(&e.dir);
    e.pass(1, "printf '\\n\\n' >> \"$1\"\n");
    let o = e.edit(&url);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        err(&o).contains("no change") && err(&o).contains("nothing was sent"),
        "{}",
        err(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "no new validator"
    );
    assert_eq!(etag(&e.dir), before, "the resource was not written");
}
