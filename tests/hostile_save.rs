//! The save loop and its checks against servers that lie, through the real CLI and the real
//! client: each test is a server behaviour seen in the wild (tests/support/hostile.rs), and each
//! asserts what the user is told and what the server holds afterwards.

use ifmatch_engine::merge::Options;
use ifmatch_engine::session::{self, Policy, SaveResult, Version, WriteMethod};
use ifmatch_engine::{Auth, Client, ClientConfig, EntityTag, Validator};
use ifmatch_tests::hostile::{Hostile, Knobs, WriteAnswer};
use ifmatch_tests::ifmatch_bin;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder for one test's files and state (no server profiles: every server untrusted).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-hostile-save-{}-{name}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `ifmatch save URL mine --base base --if-match TAG EXTRA…` with its own state folder.
fn save(
    dir: &Path,
    url: &str,
    base: &str,
    tag: Option<&str>,
    mine: &str,
    extra: &[&str],
) -> Output {
    std::fs::write(dir.join("base.json"), base).unwrap();
    std::fs::write(dir.join("mine.json"), mine).unwrap();
    let mut args: Vec<String> = vec![
        "save".into(),
        url.into(),
        dir.join("mine.json").display().to_string(),
        "--base".into(),
        dir.join("base.json").display().to_string(),
    ];
    if let Some(t) = tag {
        args.push("--if-match".into());
        args.push(t.into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(ifmatch_bin())
        .args(&args)
        .env("IFMATCH_STATE_DIR", dir.join("state"))
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_DIALECT")
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn value(t: &str) -> Value {
    serde_json::from_str(t).unwrap()
}

const FLAGS: &str = r#"{"flags": [{"id": "a", "on": false}, {"id": "b", "on": false}]}"#;
const FLAGS_B_ON: &str = r#"{"flags": [{"id": "a", "on": false}, {"id": "b", "on": true}]}"#;

fn insert_z_in_front(t: &str) -> String {
    let mut v = value(t);
    v["flags"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"id": "z", "on": false}));
    serde_json::to_string_pretty(&v).unwrap()
}

/// A server that honours If-Match on PUT but ignores it on PATCH, and another client that
/// inserts an element in front between our read and our JSON Patch: the patch's `test`s pin the
/// element by its id, so the neighbour is never switched on; the change is merged into the new
/// version and written there.
#[tokio::test(flavor = "multi_thread")]
async fn a_json_patch_never_lands_on_the_neighbour_after_an_insert_in_front() {
    let s = Hostile::start(
        Knobs {
            ignore_if_match: vec!["PATCH"],
            ..Knobs::default()
        },
        &[("/cfg", FLAGS)],
    )
    .await;
    s.before("PATCH", 1, insert_z_in_front);
    let d = scratch("json-patch-shift");
    let tag = s.etag_of(FLAGS).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        FLAGS,
        Some(&tag),
        FLAGS_B_ON,
        &["--method", "json-patch"],
    );
    let held = value(&s.text("/cfg").unwrap());
    let by_id = |id: &str| {
        held["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing from {held}"))
    };
    assert_eq!(
        by_id("a")["on"],
        json!(false),
        "the neighbour was switched on: {held}\n{}",
        err(&o)
    );
    assert_eq!(by_id("z")["on"], json!(false), "{held}");
    assert_eq!(
        by_id("b")["on"],
        json!(true),
        "my change is not there: {held}\n{}",
        err(&o)
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// A server that answers 2xx to a PUT and stores nothing: said once, as "not applied", with a
/// non-zero exit — not five identical writes and "the server kept changing".
#[tokio::test(flavor = "multi_thread")]
async fn a_write_acknowledged_and_not_applied_is_said_once() {
    let s = Hostile::start(
        Knobs {
            ack_without_store: true,
            write_answer: WriteAnswer::Empty,
            ..Knobs::default()
        },
        &[("/cfg", r#"{"n": 1}"#)],
    )
    .await;
    let d = scratch("ack-no-store");
    let tag = s.etag_of(r#"{"n": 1}"#).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        r#"{"n": 1}"#,
        Some(&tag),
        r#"{"n": 2}"#,
        &[],
    );
    let e = err(&o);
    assert_eq!(o.status.code(), Some(5), "{e}");
    assert!(e.contains("did not apply"), "{e}");
    assert!(!e.contains("kept changing"), "{e}");
    assert_eq!(s.seen_method("PUT").len(), 1, "{e}");
    assert_eq!(s.text("/cfg").unwrap(), r#"{"n": 1}"#);
}

/// The read after a write fails: acknowledged, not confirmed — never "saved", never exit 0. With
/// the default dialect on an untrusted server, and with `--dialect none`.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_read_back_is_written_not_confirmed() {
    for dialect in [None, Some("none")] {
        let s = Hostile::start(
            Knobs {
                reads_fail_after_write: 5,
                write_answer: WriteAnswer::Empty,
                etag: ifmatch_tests::hostile::Etag::None,
                ..Knobs::default()
            },
            &[("/cfg", r#"{"n": 1}"#)],
        )
        .await;
        let d = scratch(&format!("read-back-{}", dialect.unwrap_or("generic")));
        let extra: Vec<&str> = match dialect {
            Some(n) => vec!["--dialect", n],
            None => vec![],
        };
        let o = save(
            &d,
            &s.at("/cfg"),
            r#"{"n": 1}"#,
            None,
            r#"{"n": 2}"#,
            &extra,
        );
        let e = err(&o);
        assert_eq!(o.status.code(), Some(10), "{dialect:?}: {e}");
        assert!(e.contains("not confirmed"), "{dialect:?}: {e}");
        assert!(
            !e.contains("Nothing was sent") && !e.contains("nothing was sent"),
            "{e}"
        );
        assert_eq!(s.seen_method("PUT").len(), 1, "{e}");
    }
}

/// `save --watch` while another client deletes the resource: said, exit 3. And a watch whose own
/// read fails: not confirmed, exit 10.
#[tokio::test(flavor = "multi_thread")]
async fn the_watch_says_a_delete_and_a_failed_read() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", r#"{"n": 1}"#)]).await;
    // Untrusted server: GET before the write (1), the read-back (2), the watch's read (3).
    s.delete_before("GET", 3);
    let d = scratch("watch-delete");
    let tag = s.etag_of(r#"{"n": 1}"#).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        r#"{"n": 1}"#,
        Some(&tag),
        r#"{"n": 2}"#,
        &["--watch", "0.05"],
    );
    let e = err(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("deleted"), "{e}");

    let s = Hostile::start(Knobs::default(), &[("/cfg", r#"{"n": 1}"#)]).await;
    s.fail("GET", 3, 500);
    let o = save(
        &d,
        &s.at("/cfg"),
        r#"{"n": 1}"#,
        Some(&tag),
        r#"{"n": 2}"#,
        &["--watch", "0.05"],
    );
    let e = err(&o);
    assert_eq!(o.status.code(), Some(10), "{e}");
    assert!(e.contains("not confirmed"), "{e}");
}

/// The watch compares the way the merge does: another client inserting an element in front of
/// the one just changed, or appending one, wrote over nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_watch_finds_a_change_by_its_id_not_its_index() {
    for later in [insert_z_in_front as fn(&str) -> String, |t: &str| {
        let mut v = value(t);
        v["flags"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "c", "on": true}));
        v.to_string()
    }] {
        let s = Hostile::start(Knobs::default(), &[("/cfg", FLAGS)]).await;
        s.before("GET", 3, later);
        let d = scratch("watch-ids");
        let tag = s.etag_of(FLAGS).unwrap();
        let o = save(
            &d,
            &s.at("/cfg"),
            FLAGS,
            Some(&tag),
            FLAGS_B_ON,
            &["--watch", "0.05"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(!err(&o).contains("wrote over"), "{}", err(&o));
    }
    // And a real overwrite is still found, at the element's place.
    let s = Hostile::start(Knobs::default(), &[("/cfg", FLAGS)]).await;
    s.before("GET", 3, |t| insert_z_in_front(&t.replace("true", "false")));
    let d = scratch("watch-ids-lost");
    let tag = s.etag_of(FLAGS).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        FLAGS,
        Some(&tag),
        FLAGS_B_ON,
        &["--watch", "0.05"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("/flags/2/on"), "{}", err(&o));
}

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

fn version(text: &str, tag: &str) -> Version {
    Version {
        text: text.into(),
        validator: Some(Validator::Etag {
            tag: EntityTag::parse(tag).unwrap(),
        }),
    }
}

const TRUSTED: Policy = Policy {
    auto_resubmit: true,
    max_rounds: 5,
    check_around_writes: false,
};

/// A PUT answered with a status object (`{"ok": true}`) and an ETag: the status object is not the
/// saved document; the version is read.
#[tokio::test(flavor = "multi_thread")]
async fn a_status_object_answer_is_not_taken_for_the_saved_document() {
    let s = Hostile::start(
        Knobs {
            write_answer: WriteAnswer::Status(r#"{"ok": true, "id": "cfg"}"#.into()),
            ..Knobs::default()
        },
        &[("/cfg", r#"{"n": 1, "name": "x"}"#)],
    )
    .await;
    let base = version(
        r#"{"n": 1, "name": "x"}"#,
        &s.etag_of(r#"{"n": 1, "name": "x"}"#).unwrap(),
    );
    let mine = r#"{"n": 2, "name": "x"}"#;
    let r = session::save(
        &client(),
        &s.at("/cfg"),
        base,
        mine.into(),
        WriteMethod::Put,
        &Options::default(),
        TRUSTED,
    )
    .await;
    match r.result {
        SaveResult::Saved { base, .. } => {
            assert!(
                ifmatch_engine::json::same_text(&base.text, mine),
                "{}",
                base.text
            );
            assert_eq!(
                base.validator.map(|v| v.text()),
                s.etag_of(mine),
                "the validator is the stored document's"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A server that prints numbers its own way (`1.50` stored as `1.5`) changed nothing: another
/// client's change of another member merges with mine without a collision.
#[tokio::test(flavor = "multi_thread")]
async fn numbers_reprinted_by_the_server_do_not_collide() {
    let base_text = r#"{"price": 1.50, "qty": 1, "big": 12345678901234567890}"#;
    let theirs = r#"{"price": 1.5, "qty": 2, "big": 1.2345678901234567890e19}"#;
    let s = Hostile::start(Knobs::default(), &[("/cfg", theirs)]).await;
    let base = version(base_text, "\"stale\"");
    let mine = r#"{"price": 1.75, "qty": 1, "big": 12345678901234567890}"#;
    let r = session::save(
        &client(),
        &s.at("/cfg"),
        base,
        mine.into(),
        WriteMethod::Put,
        &Options::default(),
        TRUSTED,
    )
    .await;
    assert!(
        matches!(r.result, SaveResult::Saved { .. }),
        "{:?}",
        r.result
    );
    let held = value(&s.text("/cfg").unwrap());
    assert_eq!(held["price"].to_string(), "1.75");
    assert_eq!(held["qty"].to_string(), "2");
}

/// A document deeper than serde_json's recursion limit (128): saved in one write, with no
/// "another change" and no extra round.
#[tokio::test(flavor = "multi_thread")]
async fn a_deep_document_saves_in_one_round() {
    let deep = |leaf: &str| format!("{}{leaf}{}", "{\"a\": ".repeat(300), "}".repeat(300));
    let (before, after) = (deep("1"), deep("2"));
    let s = Hostile::start(Knobs::default(), &[("/cfg", &before)]).await;
    let d = scratch("deep");
    let tag = s.etag_of(&before).unwrap();
    let o = save(&d, &s.at("/cfg"), &before, Some(&tag), &after, &[]);
    let e = err(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert_eq!(s.seen_method("PUT").len(), 1, "{e}");
    assert!(!e.contains("round"), "{e}");
    assert_eq!(s.text("/cfg").unwrap(), after);
}

/// Another writer changes the resource right after each of our writes: the save gives up after
/// its rounds, and since one of its writes was acknowledged it never says "nothing was
/// overwritten".
#[tokio::test(flavor = "multi_thread")]
async fn after_an_acknowledged_write_nothing_is_called_not_overwritten() {
    let base = r#"{"mine": 0, "other": 0}"#;
    let s = Hostile::start(Knobs::default(), &[("/cfg", base)]).await;
    // Untrusted server: GET before the write (1), PUT, the read-back (2); next round GET (3).
    // Before the read-back, a client without If-Match writes its stale copy over ours.
    s.before("GET", 2, |_| r#"{"mine": 0, "other": 1}"#.to_string());
    s.before("GET", 3, |_| r#"{"mine": 0, "other": 2}"#.to_string());
    let d = scratch("acked-then-replaced");
    let tag = s.etag_of(base).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        base,
        Some(&tag),
        r#"{"mine": 1, "other": 0}"#,
        &["--rounds", "2"],
    );
    let e = err(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert_eq!(s.seen_method("PUT").len(), 1, "{e}");
    assert!(!e.to_lowercase().contains("nothing was overwritten"), "{e}");
    assert!(e.contains("acknowledged"), "{e}");
}

/// On a server not known to be atomic (no profile: never checked) the watch runs by default: a
/// stale write another client gets through right after ours is said (exit 3) without `--watch`.
/// `--no-watch` turns it off; a watch time that is not a number of seconds is refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_watch_runs_by_default_where_the_server_is_not_known_atomic() {
    let base = r#"{"a": 0, "b": 0}"#;
    let clobber = |_: &str| r#"{"a": 0, "b": 1}"#.to_string();
    let s = Hostile::start(Knobs::default(), &[("/cfg", base)]).await;
    // GET before the write (1), the read-back (2), the default watch's read (3).
    s.before("GET", 3, clobber);
    let d = scratch("default-watch");
    let tag = s.etag_of(base).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        base,
        Some(&tag),
        r#"{"a": 1, "b": 0}"#,
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("wrote over it"), "{}", err(&o));
    assert!(err(&o).contains("/a"), "{}", err(&o));

    let s = Hostile::start(Knobs::default(), &[("/cfg", base)]).await;
    s.before("GET", 3, clobber);
    let o = save(
        &d,
        &s.at("/cfg"),
        base,
        Some(&tag),
        r#"{"a": 1, "b": 0}"#,
        &["--no-watch"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(s.seen_method("GET").len(), 2, "no watch read");

    for bad in ["nan", "-1", "inf", "1e9"] {
        let flag = format!("--watch={bad}");
        let o = save(&d, &s.at("/cfg"), base, Some(&tag), base, &[&flag]);
        assert_eq!(o.status.code(), Some(2), "--watch {bad}: {}", err(&o));
        assert!(err(&o).contains("--watch"), "{}", err(&o));
    }
}

/// A PATCH answered 404 on a resource a read finds: the server does not support PATCH there —
/// not "there is no resource at this URL".
#[tokio::test(flavor = "multi_thread")]
async fn a_patch_answered_404_on_a_resource_that_exists() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", r#"{"n": 1}"#)]).await;
    s.fail("PATCH", 1, 404);
    let d = scratch("patch-404");
    std::fs::write(d.join("patch.json"), r#"{"n": 2}"#).unwrap();
    let tag = s.etag_of(r#"{"n": 1}"#).unwrap();
    let o = Command::new(ifmatch_bin())
        .args([
            "patch",
            &s.at("/cfg"),
            d.join("patch.json").to_str().unwrap(),
            "--if-match",
            &tag,
        ])
        .env("IFMATCH_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    let e = err(&o);
    assert_eq!(o.status.code(), Some(5), "{e}");
    assert!(e.contains("does not support PATCH"), "{e}");
    assert!(!e.contains("no resource at this URL"), "{e}");
    assert_eq!(s.text("/cfg").unwrap(), r#"{"n": 1}"#);
}

/// A server that gives no validator at all: the write goes without a precondition, and the user
/// is told so (it said only "saved").
#[tokio::test(flavor = "multi_thread")]
async fn a_write_without_any_precondition_says_so() {
    let s = Hostile::start(
        Knobs {
            etag: ifmatch_tests::hostile::Etag::None,
            ..Knobs::default()
        },
        &[("/cfg", r#"{"n": 1}"#)],
    )
    .await;
    let d = scratch("no-precondition");
    let o = save(&d, &s.at("/cfg"), r#"{"n": 1}"#, None, r#"{"n": 2}"#, &[]);
    let e = err(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("without a precondition"), "{e}");
    assert!(s.seen_method("PUT")[0].header("if-match").is_none());
}

/// A JSON Patch to an array without ids, with repeated values, on a server that ignores
/// If-Match on PATCH, after another client shifted the array: the patch is refused by its test
/// of the whole array (not applied to the wrong zero), and the save goes through the merge.
#[tokio::test(flavor = "multi_thread")]
async fn a_json_patch_to_a_positional_array_never_lands_shifted() {
    let base = r#"{"ports": [0, 0, 0, 5]}"#;
    let s = Hostile::start(
        Knobs {
            ignore_if_match: vec!["PATCH"],
            ..Knobs::default()
        },
        &[("/cfg", base)],
    )
    .await;
    s.before("PATCH", 1, |_| r#"{"ports": [0, 0, 0, 0, 5]}"#.to_string());
    let d = scratch("json-patch-positional");
    let tag = s.etag_of(base).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        base,
        Some(&tag),
        r#"{"ports": [0, 0, 7, 5]}"#,
        &["--method", "json-patch", "--no-watch"],
    );
    let held = value(&s.text("/cfg").unwrap());
    assert_ne!(
        held["ports"],
        json!([0, 0, 7, 0, 5]),
        "the 7 landed on a shifted zero: {}",
        err(&o)
    );
    let first = &s.seen_method("PATCH")[0];
    let ops: Value = serde_json::from_slice(&first.body).unwrap();
    assert!(
        ops.as_array()
            .unwrap()
            .iter()
            .any(|op| op["op"] == "test" && op["path"] == "/ports"),
        "the whole array is tested: {ops}"
    );
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", err(&o));
}

/// `--trail` naming the command's own input (or `--base`): refused before anything is sent; the
/// edit is not overwritten by the trail.
#[tokio::test(flavor = "multi_thread")]
async fn a_trail_over_the_commands_own_files_is_refused() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", r#"{"a": 1}"#)]).await;
    let d = scratch("trail-over-input");
    let tag = s.etag_of(r#"{"a": 1}"#).unwrap();
    std::fs::write(d.join("base.json"), r#"{"a": 1}"#).unwrap();
    std::fs::write(d.join("mine.json"), r#"{"a": 2}"#).unwrap();
    for (trail, what) in [("mine.json", r#"{"a": 2}"#), ("base.json", r#"{"a": 1}"#)] {
        // Spelled through another path to the same file.
        let spelled = d.join(".").join(trail);
        let o = Command::new(ifmatch_bin())
            .args([
                "--trail",
                spelled.to_str().unwrap(),
                "save",
                &s.at("/cfg"),
                d.join("mine.json").to_str().unwrap(),
                "--base",
                d.join("base.json").to_str().unwrap(),
                "--if-match",
                &tag,
            ])
            .env("IFMATCH_STATE_DIR", d.join("state"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        assert!(err(&o).contains("--trail"), "{}", err(&o));
        assert_eq!(std::fs::read_to_string(d.join(trail)).unwrap(), what);
    }
    assert!(s.seen().is_empty(), "nothing was sent");
}

/// Every write's connection breaks before an answer and nothing lands: one retry, then "sent
/// and no answer, nothing changed" with the network-after-send code (7) — not five writes and
/// "the server kept changing" (3).
#[tokio::test(flavor = "multi_thread")]
async fn writes_whose_connection_breaks_are_not_a_server_that_kept_changing() {
    let base = r#"{"a": 1}"#;
    let s = Hostile::start(
        Knobs {
            drop_writes: true,
            ..Knobs::default()
        },
        &[("/cfg", base)],
    )
    .await;
    let d = scratch("dropped-writes");
    let tag = s.etag_of(base).unwrap();
    let o = save(
        &d,
        &s.at("/cfg"),
        base,
        Some(&tag),
        r#"{"a": 2}"#,
        &["--no-watch"],
    );
    let e = err(&o);
    assert_eq!(o.status.code(), Some(7), "{e}");
    assert!(!e.contains("kept changing"), "{e}");
    assert!(e.contains("not landed"), "{e}");
    assert_eq!(s.seen_method("PUT").len(), 2, "one retry: {e}");
    assert_eq!(s.text("/cfg").unwrap(), base);
}
