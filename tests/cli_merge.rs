//! `ifmatch merge` from the shell and as a git merge driver (a real git repository).

use ifmatch_tests::ifmatch_bin;
use std::path::Path;
use std::process::{Command, Output};

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-{name}-{}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn merge(dir: &Path, extra: &[&str]) -> Output {
    Command::new(ifmatch_bin())
        .current_dir(dir)
        .args(["merge", "base.json", "mine.json", "theirs.json"])
        .args(extra)
        .output()
        .unwrap()
}

const BASE: &str = "{\n  \"name\": \"Customers\",\n  \"color\": \"green\",\n  \"rank\": 1\n}\n";

#[test]
fn clean_merge_exit_0_and_output_file() {
    let d = tmpdir("merge-clean");
    write(&d, "base.json", BASE);
    write(&d, "mine.json", &BASE.replace("green", "blue"));
    write(
        &d,
        "theirs.json",
        &BASE.replace("\"rank\": 1", "\"rank\": 2"),
    );
    let o = merge(&d, &["-o", "out.json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out.json")).unwrap(),
        "{\n  \"name\": \"Customers\",\n  \"color\": \"blue\",\n  \"rank\": 2\n}\n"
    );
}

#[test]
fn conflicts_exit_1_with_markers_json_report_and_prefer() {
    let d = tmpdir("merge-conflict");
    write(&d, "base.json", BASE);
    write(
        &d,
        "mine.json",
        &BASE
            .replace("green", "blue")
            .replace("\"rank\": 1", "\"rank\": 5"),
    );
    write(&d, "theirs.json", &BASE.replace("green", "red"));
    // Text output: git-style markers around the conflicting member, the rest merged.
    let o = merge(&d, &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        out,
        "{\n  \"name\": \"Customers\",\n<<<<<<< mine\n  \"color\": \"blue\",\n||||||| base\n  \"color\": \"green\",\n=======\n  \"color\": \"red\",\n>>>>>>> theirs\n  \"rank\": 5\n}\n"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("modify/modify /color"));
    // --json: one object with the conflict by pointer; merged shows the base value there.
    let o = merge(&d, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["merged"],
        serde_json::json!({"name": "Customers", "color": "green", "rank": 5})
    );
    assert_eq!(
        v["conflicts"],
        serde_json::json!([{"pointer": "/color", "kind": "modify/modify", "base": "green", "mine": "blue", "theirs": "red"}])
    );
    assert_eq!(v["stats"]["from_mine"], 1);
    assert_eq!(v["positional_arrays"], serde_json::json!([]));
    // --prefer resolves every conflict to one side and exits 0.
    for (side, color) in [("mine", "blue"), ("theirs", "red")] {
        let o = merge(&d, &["--prefer", side]);
        assert_eq!(o.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["color"], color);
        assert_eq!(v["rank"], 5);
    }
}

#[test]
fn bad_input_exit_2_names_the_problem() {
    let d = tmpdir("merge-bad");
    write(&d, "base.json", BASE);
    write(&d, "mine.json", "{\n  \"name\": 1,\n  \"name\": 2\n}\n");
    write(&d, "theirs.json", BASE);
    let o = merge(&d, &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("mine.json is not valid JSON")
            && e.contains("duplicate member name \"name\"")
            && e.contains("line 3"),
        "{e}"
    );
    write(&d, "mine.json", "{\"a\": 1,}");
    let o = merge(&d, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("trailing comma"));
    let o = Command::new(ifmatch_bin())
        .current_dir(&d)
        .args(["merge", "base.json", "nope.json", "theirs.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read nope.json"));
}

#[test]
fn display_data_maps_conflicts_to_lines() {
    let d = tmpdir("merge-display");
    write(&d, "base.json", BASE);
    write(&d, "mine.json", &BASE.replace("green", "blue"));
    write(
        &d,
        "theirs.json",
        &BASE
            .replace("green", "red")
            .replace("\"name\": \"Customers\",\n", ""),
    );
    let o = merge(&d, &["--display", "display.json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("display.json")).unwrap()).unwrap();
    let c = &v["conflicts"][0];
    assert_eq!(c["pointer"], "/color");
    assert_eq!(c["base"], serde_json::json!([2, 2]));
    assert_eq!(c["mine"], serde_json::json!([2, 2]));
    assert_eq!(
        c["theirs"],
        serde_json::json!([1, 1]),
        "theirs lost a line above"
    );
    assert_eq!(c["result"], serde_json::json!([1, 1]));
    assert_eq!(
        v["mine_diff"][1],
        serde_json::json!({"tag": "replace", "old_start": 2, "old_len": 1, "new_start": 2, "new_len": 1})
    );
}

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.test",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn works_as_a_git_merge_driver() {
    let d = tmpdir("merge-git");
    assert!(git(&d, &["init", "-q"]).status.success());
    write(&d, ".gitattributes", "*.json merge=ifmatch-json\n");
    let driver = format!("{} merge %O %A %B -o %A", ifmatch_bin().display());
    assert!(git(
        &d,
        &[
            "config",
            "merge.ifmatch-json.name",
            "ifmatch three-way JSON merge"
        ]
    )
    .status
    .success());
    assert!(git(&d, &["config", "merge.ifmatch-json.driver", &driver])
        .status
        .success());
    // Adjacent lines: git's own line merge would call this a conflict.
    write(&d, "label.json", BASE);
    git(&d, &["add", "."]);
    assert!(git(&d, &["commit", "-qm", "base"]).status.success());
    git(&d, &["checkout", "-qb", "theirs"]);
    write(
        &d,
        "label.json",
        &BASE.replace("\"rank\": 1", "\"rank\": 2"),
    );
    assert!(git(&d, &["commit", "-qam", "rank"]).status.success());
    git(&d, &["checkout", "-q", "main"]);
    write(&d, "label.json", &BASE.replace("green", "blue"));
    assert!(git(&d, &["commit", "-qam", "color"]).status.success());
    let m = git(&d, &["merge", "-q", "--no-edit", "theirs"]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert_eq!(
        std::fs::read_to_string(d.join("label.json")).unwrap(),
        "{\n  \"name\": \"Customers\",\n  \"color\": \"blue\",\n  \"rank\": 2\n}\n"
    );
    // A real conflict: git stops, the file holds ifmatch's markers.
    git(&d, &["checkout", "-qb", "other", "HEAD~2"]);
    write(&d, "label.json", &BASE.replace("green", "red"));
    assert!(git(&d, &["commit", "-qam", "red"]).status.success());
    git(&d, &["checkout", "-q", "main"]);
    let m = git(&d, &["merge", "-q", "--no-edit", "other"]);
    assert!(!m.status.success());
    let text = std::fs::read_to_string(d.join("label.json")).unwrap();
    assert!(
        text.contains("<<<<<<< mine\n  \"color\": \"blue\",")
            && text.contains("=======\n  \"color\": \"red\","),
        "{text}"
    );
    assert!(
        text.contains("\"rank\": 2"),
        "the clean part is merged: {text}"
    );
}

/// A clean merge's three inputs in `d` (mine with CRLF when `crlf`); returns the expected result
/// with LF line ends.
fn clean_inputs(d: &Path, crlf: bool) -> &'static str {
    let mine = BASE.replace("green", "blue");
    write(d, "base.json", BASE);
    write(
        d,
        "mine.json",
        &if crlf {
            mine.replace('\n', "\r\n")
        } else {
            mine
        },
    );
    write(
        d,
        "theirs.json",
        &BASE.replace("\"rank\": 1", "\"rank\": 2"),
    );
    "{\n  \"name\": \"Customers\",\n  \"color\": \"blue\",\n  \"rank\": 2\n}\n"
}

#[test]
fn crlf_in_mine_stays_crlf() {
    let d = tmpdir("merge-crlf");
    let want = clean_inputs(&d, true);
    let o = merge(&d, &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        want.replace('\n', "\r\n")
    );
    // LF stays LF.
    let want = clean_inputs(&d, false);
    assert_eq!(String::from_utf8_lossy(&merge(&d, &[]).stdout), want);
}

#[cfg(unix)]
#[test]
fn output_onto_a_symlink_a_private_file_or_a_fifo_keeps_what_it_is() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let d = tmpdir("merge-output-kinds");
    let want = clean_inputs(&d, false);
    // A symlink: the link stays, its target gets the result.
    write(&d, "real.json", "old");
    std::os::unix::fs::symlink("real.json", d.join("link.json")).unwrap();
    assert_eq!(merge(&d, &["-o", "link.json"]).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(d.join("link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(d.join("real.json")).unwrap(), want);
    // A 0600 file stays 0600.
    write(&d, "private.json", "old");
    std::fs::set_permissions(
        d.join("private.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(merge(&d, &["-o", "private.json"]).status.code(), Some(0));
    let mode = std::fs::metadata(d.join("private.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(d.join("private.json")).unwrap(),
        want
    );
    // A FIFO is written into, not replaced.
    let fifo = d.join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    assert_eq!(merge(&d, &["-o", "pipe"]).status.code(), Some(0));
    assert_eq!(reader.join().unwrap(), want);
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn display_with_a_bom_and_a_comma_in_a_key_does_not_panic() {
    let d = tmpdir("merge-bom");
    write(&d, "base.json", "\u{feff}{\"a,b\": 1, \"c\": 2}");
    write(&d, "mine.json", "{\"a,b\": 2, \"c\": 2}");
    write(&d, "theirs.json", "{\"a,b\": 3, \"c\": 3}");
    let o = merge(&d, &["--display", "display.json"]);
    assert_eq!(o.status.code(), Some(1), "one conflict, no panic: {o:?}");
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("display.json")).unwrap()).unwrap();
    assert_eq!(data["conflicts"][0]["pointer"], "/a,b");
}

#[test]
fn an_id_key_with_duplicate_ids_says_why_it_was_not_used() {
    let d = tmpdir("merge-dup-ids");
    let doc = |a: u32, b: u32| {
        format!(r#"{{"items": [{{"sku": "x", "qty": {a}}}, {{"sku": "x", "qty": {b}}}]}}"#)
    };
    write(&d, "base.json", &doc(1, 2));
    write(&d, "mine.json", &doc(5, 2));
    write(&d, "theirs.json", &doc(1, 3));
    let o = merge(&d, &["--id-key", "sku"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("--id-key sku is not present with a unique"),
        "{err}"
    );
    assert!(err.contains("/items"), "{err}");
}

#[test]
fn reorders_one_side_kept_both_sides_an_order_conflict() {
    // Feature-flag rules are evaluated first match first: their order is the meaning.
    let rules = |order: &[(&str, u32)]| {
        let r: Vec<String> = order
            .iter()
            .map(|(id, pct)| format!("{{\"id\": \"{id}\", \"rollout\": {pct}}}"))
            .collect();
        format!("{{\"rules\": [{}]}}\n", r.join(", "))
    };
    let d = tmpdir("merge-order");
    write(
        &d,
        "base.json",
        &rules(&[("beta", 10), ("eu", 50), ("all", 100)]),
    );
    write(
        &d,
        "mine.json",
        &rules(&[("eu", 50), ("beta", 10), ("all", 100)]),
    );
    write(
        &d,
        "theirs.json",
        &rules(&[("beta", 25), ("eu", 50), ("all", 100)]),
    );
    let ids = |o: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}={}", r["id"].as_str().unwrap(), r["rollout"]))
            .collect()
    };
    let o = merge(&d, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        ids(&o),
        ["eu=50", "beta=25", "all=100"],
        "mine's move and theirs' edit"
    );
    // Theirs moves "all" up as well: two different orders, nobody's order is silently kept.
    write(
        &d,
        "theirs.json",
        &rules(&[("beta", 25), ("all", 100), ("eu", 50)]),
    );
    let o = merge(&d, &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("<<<<<<< mine (order of the elements by \"id\")\n    \"eu\", \"beta\", \"all\"\n||||||| base\n    \"beta\", \"eu\", \"all\"\n=======\n    \"beta\", \"all\", \"eu\"\n>>>>>>> theirs"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("order /rules"));
    let o = merge(&d, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["conflicts"][0]["kind"], "order");
    assert_eq!(v["conflicts"][0]["order_by"], "id");
    assert_eq!(
        v["conflicts"][0]["mine"],
        serde_json::json!(["eu", "beta", "all"])
    );
    let o = merge(&d, &["--prefer", "mine"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(ids(&o), ["eu=50", "beta=25", "all=100"]);
    let o = merge(&d, &["--prefer", "theirs"]);
    assert_eq!(ids(&o), ["beta=25", "all=100", "eu=50"]);
}

/// Lone surrogate escapes are legal JSON a server may hold: two names that differ only in which
/// one they hold are two members (not a duplicate), and a change from one to another is a change.
#[test]
fn lone_surrogates_are_names_and_values_of_their_own() {
    let d = tmpdir("merge-lone-surrogates");
    let base = "{\n  \"\\ud800\": 1,\n  \"\\udbff\": 2,\n  \"v\": \"\\ud800\"\n}\n";
    write(&d, "base.json", base);
    write(&d, "mine.json", &base.replace("\": 1", "\": 10"));
    write(
        &d,
        "theirs.json",
        &base.replace("\"v\": \"\\ud800\"", "\"v\": \"\\udbff\""),
    );
    let o = merge(&d, &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("\"\\ud800\": 10"), "mine's change: {out}");
    assert!(
        out.contains("\"\\udbff\": 2"),
        "the other member stays: {out}"
    );
    assert!(out.contains("\"v\": \"\\udbff\""), "theirs' change: {out}");
}

/// Line ends follow MINE (git's %A) whatever THEIRS uses; the rest of the layout is THEIRS'.
#[test]
fn line_ends_follow_mine_the_layout_theirs() {
    let dir = std::env::temp_dir().join(format!("ifmatch-merge-ends-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let w = |n: &str, t: &str| {
        let p = dir.join(n);
        std::fs::write(&p, t).unwrap();
        p
    };
    let b = w("b.json", "{\n  \"a\": 1\n}\n");
    let m = w("m.json", "{\n  \"a\": 2\n}\n");
    let t = w("t.json", "{\r\n    \"a\": 1,\r\n    \"b\": 2\r\n}\r\n");
    let o = std::process::Command::new(ifmatch_tests::ifmatch_bin())
        .arg("merge")
        .args([&b, &m, &t])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\n    \"a\": 2,\n    \"b\": 2\n}\n"
    );
}
