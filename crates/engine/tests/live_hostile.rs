//! Hostile pass on the live re-merge (`session::remerge`) and the live merge into an edit
//! (`session::merge_with`): fresh-eyes review.

use ifmatch_engine::merge::Options;
use ifmatch_engine::round::{Choice, Round};
use ifmatch_engine::session::{merge_with, remerge, Remerged, SaveResult, Version};
use ifmatch_engine::{EntityTag, Validator};
use serde_json::{json, Value};

fn v(doc: Value, tag: &str) -> Version {
    Version {
        text: serde_json::to_string_pretty(&doc).unwrap(),
        validator: Some(Validator::Etag {
            tag: EntityTag::strong(tag),
        }),
    }
}

fn pretty(doc: Value) -> String {
    serde_json::to_string_pretty(&doc).unwrap()
}

fn round_of(r: SaveResult) -> Round {
    match r {
        SaveResult::Merged { round } | SaveResult::Conflicts { round } => round,
        other => panic!("a round, not {other:?}"),
    }
}

fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A conflict at /x (base 1, mine 2, theirs 3) decided Mine; then the server changes /x AGAIN
/// (to 4). The user chose to write 2 over 3, never over 4: the decision should be asked again
/// (it is for Theirs/Both, `needs_theirs`), not silently kept.
#[test]
fn a_mine_decision_is_asked_again_when_the_servers_value_there_changes() {
    let base = v(json!({"x": 1, "y": 1}), "\"1\"");
    let mine = pretty(json!({"x": 2, "y": 1}));
    let theirs = v(json!({"x": 3, "y": 1}), "\"2\"");
    let mut r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
    assert_eq!(r.conflicts.len(), 1);
    let start = r.start.clone();
    let decided = r.accept(&start, 0, Choice::Mine).unwrap();
    let newer = v(json!({"x": 4, "y": 1}), "\"3\"");
    let Remerged::Again {
        text,
        reopened,
        round,
    } = remerge(&r, &decided, newer, &Options::default())
    else {
        panic!("merged again")
    };
    eprintln!(
        "Result {text}; reopened {reopened:?}; decisions {:?}",
        round.decisions
    );
    assert_eq!(
        reopened,
        vec!["/x".to_string()],
        "the server's value the user overrode changed (3 -> 4); Result: {text}"
    );
}

/// The Result is not JSON while the user types in it when a newer version arrives: the answer
/// should say so, not that the server changed what the user decided or typed.
#[test]
fn an_invalid_result_is_told_as_invalid_not_as_a_collision() {
    let base = v(json!({"x": 1, "y": 1, "z": 1}), "\"1\"");
    let mine = pretty(json!({"x": 2, "y": 1, "z": 1}));
    let theirs = v(json!({"x": 3, "y": 1, "z": 1}), "\"2\"");
    let r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
    let broken = r.start.replacen('{', "{ \"half", 1);
    let newer = v(json!({"x": 3, "y": 1, "z": 9}), "\"3\"");
    match remerge(&r, &broken, newer, &Options::default()) {
        Remerged::Collides { message } => {
            let m = message.to_lowercase();
            assert!(
                m.contains("json") || m.contains("valid"),
                "the reason is the Result's syntax; said: {message}"
            );
        }
        Remerged::Again { text, .. } => panic!("merged an invalid Result into {text}"),
    }
}

/// Collision taken back by the user: the user edits the colliding place to the server's value:
/// no conflict remains, the edit merges, nothing is lost.
#[test]
fn a_collision_the_user_edits_to_the_servers_value_merges() {
    let base = v(json!({"x": 1, "y": 1, "z": 1}), "\"1\"");
    let mine = pretty(json!({"x": 3, "y": 2, "z": 1}));
    let theirs = v(json!({"x": 3, "y": 1, "z": 5}), "\"2\"");
    let r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
    assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
    assert_eq!(value(&r.start), json!({"x": 3, "y": 2, "z": 5}));
}

/// A late version: the round already stands on `newer`; re-merging against it again changes
/// nothing the user did (decisions and hand edits kept, no reopened).
#[test]
fn remerging_against_the_version_the_round_stands_on_changes_nothing() {
    let base = v(json!({"a": 1, "b": 1, "c": 1}), "\"1\"");
    let mine = pretty(json!({"a": 2, "b": 2, "c": 1}));
    let theirs = v(json!({"a": 3, "b": 3, "c": 1}), "\"2\"");
    let mut r = round_of(merge_with(
        &base,
        &mine,
        theirs.clone(),
        &Options::default(),
    ));
    let start = r.start.clone();
    let a = r.conflicts.iter().position(|c| c.pointer == "/a").unwrap();
    let decided = r.accept(&start, a, Choice::Theirs).unwrap();
    // A hand edit elsewhere in the Result.
    let mut doc = value(&decided);
    doc["c"] = json!(7);
    let result = pretty(doc);
    let Remerged::Again {
        text,
        reopened,
        round,
    } = remerge(&r, &result, theirs, &Options::default())
    else {
        panic!("merged again")
    };
    assert!(reopened.is_empty());
    assert_eq!(value(&text), value(&result), "nothing moved");
    assert!(round.decisions.iter().flatten().count() == 1);
}

/// A clean round (no base/mine kept) met by a newer version that reverts a change the round had
/// taken from the server (A-B-A on the server): the Result follows the server.
#[test]
fn a_clean_round_follows_a_server_that_takes_its_change_back() {
    let base = v(json!({"a": 1, "b": 1}), "\"1\"");
    let mine = pretty(json!({"a": 2, "b": 1}));
    let theirs = v(json!({"a": 1, "b": 5}), "\"2\"");
    let r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
    assert!(r.conflicts.is_empty());
    let result = r.start.clone();
    let newer = v(json!({"a": 1, "b": 1}), "\"1\"");
    let Remerged::Again { text, .. } = remerge(&r, &result, newer, &Options::default()) else {
        panic!("merged again")
    };
    assert_eq!(value(&text), json!({"a": 2, "b": 1}));
}
