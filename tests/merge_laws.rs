//! Property tests: the laws of the three-way merge (docs/architecture.md) and of the patches it
//! generates, on random documents and random edits.

use ifmatch_engine::json::same_value as json_equal;
use ifmatch_engine::json::{
    print::{pretty_in, Style},
    Doc,
};
use ifmatch_engine::merge::patches::{json_patch, merge_patch};
use ifmatch_engine::merge::{three_way, Fill, Options};
use ifmatch_engine::patch::{apply_json_patch, apply_merge_patch};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-50i64..50).prop_map(|n| json!(n)),
        "[a-c]{0,2}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 30, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-e]", inner.clone(), 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            // Records with ids, so keyed array merges are exercised too.
            prop::collection::btree_map(0u8..6, inner, 0..4).prop_map(|m| {
                Value::Array(
                    m.into_iter()
                        .map(|(id, v)| json!({"id": id, "v": v}))
                        .collect(),
                )
            }),
        ]
    })
}

/// One random edit: (which node, what to do, a new value).
type Edit = (u32, u8, Value);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec((any::<u32>(), any::<u8>(), leaf()), 0..4)
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(here.clone());
    match v {
        Value::Object(o) => {
            for (k, c) in o {
                here.push(Seg::Key(k.clone()));
                paths(c, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                here.push(Seg::Index(i));
                paths(c, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at<'v>(v: &'v mut Value, path: &[Seg]) -> &'v mut Value {
    path.iter().fold(v, |cur, s| match (s, cur) {
        (Seg::Key(k), Value::Object(o)) => o.get_mut(k).unwrap(),
        (Seg::Index(i), Value::Array(a)) => &mut a[*i],
        _ => unreachable!(),
    })
}

fn mutate(base: &Value, edits: &[Edit]) -> Value {
    let mut v = base.clone();
    for (sel, kind, new) in edits {
        let mut all = vec![];
        paths(&v, &mut vec![], &mut all);
        let path = all[*sel as usize % all.len()].clone();
        match kind % 5 {
            0 => *at(&mut v, &path) = new.clone(),
            1 => {
                if let Some((last, parent)) = path.split_last() {
                    match (last, at(&mut v, parent)) {
                        (Seg::Key(k), Value::Object(o)) => {
                            o.shift_remove(k);
                        }
                        (Seg::Index(i), Value::Array(a)) => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            2 => {
                if let Value::Object(o) = at(&mut v, &path) {
                    o.insert(format!("k{}", sel % 5), new.clone());
                }
            }
            3 => {
                if let Value::Array(a) = at(&mut v, &path) {
                    let i = *sel as usize % (a.len() + 1);
                    // Into a list of records: a record with a new id (so it stays keyed).
                    let keyed = !a.is_empty() && a.iter().all(|e| e.get("id").is_some());
                    let id = json!(6 + sel % 4);
                    if keyed && a.iter().all(|e| e["id"] != id) {
                        a.insert(i, json!({"id": id, "v": new}));
                    } else {
                        a.insert(i, new.clone());
                    }
                }
            }
            _ => {
                // A reorder: reverse or rotate the array (keyed arrays stay keyed).
                if let Value::Array(a) = at(&mut v, &path) {
                    if sel % 2 == 0 {
                        a.reverse();
                    } else if !a.is_empty() {
                        a.rotate_left(1);
                    }
                }
            }
        }
    }
    v
}

fn text(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// Pointer → value, arrays taken whole (their elements move around).
fn leaves(v: &Value, ptr: String, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(o) => {
            out.insert(ptr.clone(), "{object}".into());
            for (k, c) in o {
                leaves(
                    c,
                    format!("{ptr}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        other => {
            out.insert(ptr, serde_json::to_string(other).unwrap());
        }
    }
}

fn merged(b: &str, m: &str, t: &str, fill: Fill) -> (String, usize) {
    let (bd, md, td) = (
        Doc::parse(b).unwrap(),
        Doc::parse(m).unwrap(),
        Doc::parse(t).unwrap(),
    );
    let r = three_way(&bd, &md, &td, &Options::default());
    (r.render(fill).unwrap(), r.conflicts.len())
}

/// The merge's report as JSON: the merged value and the conflicts by pointer.
fn report(b: &str, m: &str, t: &str) -> (Value, BTreeMap<String, Value>) {
    let (bd, md, td) = (
        Doc::parse(b).unwrap(),
        Doc::parse(m).unwrap(),
        Doc::parse(t).unwrap(),
    );
    let r = three_way(&bd, &md, &td, &Options::default());
    let report: Value =
        serde_json::from_str(&r.report_json(&r.render(Fill::Base).unwrap())).unwrap();
    let conflicts = report["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["pointer"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    (report["merged"].clone(), conflicts)
}

/// A list of records: (id, value).
type Records = Vec<(u8, i8)>;

/// A keyed list (unique ids, one value each), two shuffles of it, and which records to edit.
fn keyed_and_two_orders() -> impl Strategy<Value = (Records, Records, Records, Vec<bool>)> {
    prop::collection::btree_map(0u8..12, -3i8..3, 2..8).prop_flat_map(|m| {
        let list: Vec<(u8, i8)> = m.into_iter().collect();
        let n = list.len();
        (
            Just(list.clone()),
            Just(list.clone()).prop_shuffle(),
            Just(list).prop_shuffle(),
            prop::collection::vec(any::<bool>(), n),
        )
    })
}

fn keyed_text(list: &[(u8, i8)]) -> String {
    let v: Vec<Value> = list
        .iter()
        .map(|(id, x)| json!({"id": id, "x": x}))
        .collect();
    text(&json!({ "rules": v }))
}

fn ids(v: &Value) -> Vec<u64> {
    v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn swapping_mine_and_theirs_swaps_only_the_sides_of_the_conflicts(base in value(), em in edits(), et in edits()) {
        let (b, m, t) = (text(&base), text(&mutate(&base, &em)), text(&mutate(&base, &et)));
        let (r1, c1) = report(&b, &m, &t);
        let (r2, c2) = report(&b, &t, &m);
        // Values compare objects by members (their order carries no meaning), arrays in order.
        prop_assert_eq!(&r1, &r2, "the merge depends on which side is called mine");
        let swapped: BTreeMap<String, Value> = c2
            .into_iter()
            .map(|(p, mut c)| {
                let o = c.as_object_mut().unwrap();
                let (mine, theirs) = (o.remove("mine"), o.remove("theirs"));
                if let Some(v) = theirs { o.insert("mine".into(), v); }
                if let Some(v) = mine { o.insert("theirs".into(), v); }
                (p, c)
            })
            .collect();
        prop_assert_eq!(c1, swapped);
    }

    #[test]
    fn a_reorder_on_one_side_survives_the_other_sides_edits((base, order, _, edit) in keyed_and_two_orders()) {
        // Mine reorders; theirs edits values in place. The result: mine's order, theirs' values.
        let theirs: Vec<(u8, i8)> = base.iter().zip(&edit).map(|(&(id, x), &e)| (id, if e { x + 10 } else { x })).collect();
        let want_ids: Vec<u64> = order.iter().map(|&(id, _)| id as u64).collect();
        for (m, t) in [(&order, &theirs), (&theirs, &order)] {
            let (r, c) = report(&keyed_text(&base), &keyed_text(m), &keyed_text(t));
            prop_assert!(c.is_empty(), "{:?}", c);
            prop_assert_eq!(ids(&r), want_ids.clone());
            for e in r["rules"].as_array().unwrap() {
                let id = e["id"].as_u64().unwrap() as u8;
                let want = theirs.iter().find(|(i, _)| *i == id).unwrap().1;
                prop_assert_eq!(e["x"].as_i64().unwrap(), want as i64);
            }
        }
    }

    #[test]
    fn different_reorders_on_both_sides_are_an_order_conflict((base, mine, theirs, _) in keyed_and_two_orders()) {
        let (b, m, t) = (keyed_text(&base), keyed_text(&mine), keyed_text(&theirs));
        let (r, c) = report(&b, &m, &t);
        let reordered = |x: &Vec<(u8, i8)>| x != &base;
        if reordered(&mine) && reordered(&theirs) && mine != theirs {
            prop_assert_eq!(c.len(), 1);
            let only = &c["/rules"];
            prop_assert_eq!(only["kind"].as_str(), Some("order"));
            prop_assert_eq!(ids(&r), base.iter().map(|&(id, _)| id as u64).collect::<Vec<_>>());
            let (bd, md, td) = (Doc::parse(&b).unwrap(), Doc::parse(&m).unwrap(), Doc::parse(&t).unwrap());
            let merge = three_way(&bd, &md, &td, &Options::default());
            for (fill, side) in [(Fill::Mine, &mine), (Fill::Theirs, &theirs)] {
                let v: Value = serde_json::from_str(&merge.render(fill).unwrap()).unwrap();
                prop_assert_eq!(v, serde_json::from_str::<Value>(&keyed_text(side)).unwrap());
            }
        } else {
            prop_assert!(c.is_empty(), "{:?}", c);
            let want = if reordered(&mine) { &mine } else { &theirs };
            prop_assert_eq!(r, serde_json::from_str::<Value>(&keyed_text(want)).unwrap());
        }
    }

    #[test]
    fn theirs_unchanged_gives_mine(base in value(), e in edits()) {
        let mine = mutate(&base, &e);
        let (b, m) = (text(&base), text(&mine));
        let (r, n) = merged(&b, &m, &b, Fill::Base);
        prop_assert_eq!(n, 0);
        // In theirs' layout (the server's: here without a final newline).
        prop_assert_eq!(r, pretty_in(&m, &Style::of(&b)));
    }

    #[test]
    fn mine_unchanged_gives_theirs(base in value(), e in edits()) {
        let theirs = mutate(&base, &e);
        let (b, t) = (text(&base), text(&theirs));
        let (r, n) = merged(&b, &b, &t, Fill::Base);
        prop_assert_eq!(n, 0);
        prop_assert_eq!(r, pretty_in(&t, &Style::of(&t)));
    }

    #[test]
    fn the_same_change_on_both_sides_is_taken_once(base in value(), e in edits()) {
        let x = mutate(&base, &e);
        let (b, xt) = (text(&base), text(&x));
        let (r, n) = merged(&b, &xt, &xt, Fill::Base);
        prop_assert_eq!(n, 0);
        prop_assert_eq!(r, pretty_in(&xt, &Style::of(&xt)));
    }

    #[test]
    fn without_conflicts_every_change_of_both_sides_is_kept(base in value(), em in edits(), et in edits()) {
        let (mine, theirs) = (mutate(&base, &em), mutate(&base, &et));
        let (r, n) = merged(&text(&base), &text(&mine), &text(&theirs), Fill::Base);
        let result: Value = serde_json::from_str(&r).expect("the result is valid JSON");
        if n == 0 {
            let (mut lb, mut lm, mut lt, mut lr) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
            leaves(&base, String::new(), &mut lb);
            leaves(&mine, String::new(), &mut lm);
            leaves(&theirs, String::new(), &mut lt);
            leaves(&result, String::new(), &mut lr);
            let keys: std::collections::BTreeSet<_> = lb.keys().chain(lm.keys()).chain(lt.keys()).cloned().collect();
            for p in keys {
                let (b, m, t, r) = (lb.get(&p), lm.get(&p), lt.get(&p), lr.get(&p));
                if m != b && t == b {
                    prop_assert_eq!(r, m, "mine's change at {:?} is missing", p);
                }
                if t != b && m == b {
                    prop_assert_eq!(r, t, "theirs' change at {:?} is missing", p);
                }
            }
        }
    }

    #[test]
    fn generated_patches_turn_base_into_the_result(base in value(), em in edits(), et in edits()) {
        let (mine, theirs) = (mutate(&base, &em), mutate(&base, &et));
        let b = text(&base);
        // Every fill of the conflicts is a valid result to patch towards.
        let (r, _) = merged(&b, &text(&mine), &text(&theirs), Fill::Mine);
        let result: Value = serde_json::from_str(&r).unwrap();
        let (bd, rd) = (Doc::parse(&b).unwrap(), Doc::parse(&r).unwrap());
        let jp: Value = serde_json::from_str(&json_patch(&bd, &rd)).unwrap();
        let mut patched = base.clone();
        apply_json_patch(&mut patched, &jp).expect("the generated JSON Patch applies to base");
        prop_assert!(json_equal(&patched, &result), "JSON Patch result {} != {}", patched, result);
        if let Ok(mp) = merge_patch(&bd, &rd) {
            let mut patched = base.clone();
            if let Some(t) = mp.text {
                apply_merge_patch(&mut patched, &serde_json::from_str(&t).unwrap());
            }
            prop_assert!(json_equal(&patched, &result), "Merge Patch result {} != {}", patched, result);
        }
    }

    #[test]
    fn a_json_patch_refuses_a_stale_base(base in value(), e in edits(), e2 in edits()) {
        // The patch from base to a result must not apply to a document someone else changed in
        // a place the patch touches: its `test` operations see the difference.
        let result = mutate(&base, &e);
        let other = mutate(&base, &e2);
        let jp: Value = serde_json::from_str(&json_patch(&Doc::parse(&text(&base)).unwrap(), &Doc::parse(&text(&result)).unwrap())).unwrap();
        let mut patched = other.clone();
        if apply_json_patch(&mut patched, &jp).is_ok() && !json_equal(&other, &base) {
            // It applied: then every value it removed or replaced was still as in base.
            for op in jp.as_array().unwrap() {
                if op["op"] == "test" {
                    let ptr = op["path"].as_str().unwrap();
                    prop_assert!(other.pointer(ptr).is_some_and(|v| json_equal(v, &op["value"])));
                }
            }
        }
    }
}

#[test]
fn merge_patch_refuses_null_and_reports_replaced_arrays() {
    let b = Doc::parse(r#"{"a": 1, "list": [1, 2], "keep": true}"#).unwrap();
    let r = Doc::parse(r#"{"a": null, "list": [1, 2, 3], "keep": true}"#).unwrap();
    let e = merge_patch(&b, &r).unwrap_err();
    assert!(
        e.to_string().contains("/a") && e.to_string().contains("PUT"),
        "{e}"
    );
    let r = Doc::parse(r#"{"a": 2, "list": [1, 2, 3], "keep": true}"#).unwrap();
    let mp = merge_patch(&b, &r).unwrap();
    assert_eq!(mp.replaced_arrays, vec!["/list".to_string()]);
    let v: Value = serde_json::from_str(&mp.text.unwrap()).unwrap();
    assert_eq!(v, json!({"a": 2, "list": [1, 2, 3]}));
    let jp: Value = serde_json::from_str(&json_patch(&b, &r)).unwrap();
    // An array whose elements have no identity is pinned whole before it is changed by index
    // (with repeated values, a test of one element cannot tell a shifted array).
    assert_eq!(
        jp,
        json!([
            {"op": "test", "path": "/a", "value": 1},
            {"op": "replace", "path": "/a", "value": 2},
            {"op": "test", "path": "/list", "value": [1, 2]},
            {"op": "add", "path": "/list/2", "value": 3}
        ])
    );
    let _ = Map::new();
}

#[test]
fn resolutions_apply_per_conflict() {
    use ifmatch_engine::merge::render::ResolveError;
    use ifmatch_engine::merge::Resolution::*;
    let b = r#"{"color": "green", "tags": ["a", "b"], "rank": 1}"#;
    let m = r#"{"color": "blue", "tags": ["a", "x", "b"], "rank": 1}"#;
    let t = r#"{"color": "red", "tags": ["a", "y", "b"], "rank": 2}"#;
    let (bd, md, td) = (
        Doc::parse(b).unwrap(),
        Doc::parse(m).unwrap(),
        Doc::parse(t).unwrap(),
    );
    let r = three_way(&bd, &md, &td, &Options::default());
    assert_eq!(r.conflicts.len(), 2);
    assert_eq!(
        (
            r.conflicts[0].pointer.as_str(),
            r.conflicts[1].pointer.as_str()
        ),
        ("/color", "/tags/1")
    );
    let v = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    assert_eq!(
        v(r.resolve(&[Mine, Both]).unwrap()),
        json!({"color": "blue", "tags": ["a", "x", "y", "b"], "rank": 2})
    );
    assert_eq!(
        v(r.resolve(&[Theirs, Base]).unwrap()),
        json!({"color": "red", "tags": ["a", "b"], "rank": 2})
    );
    assert_eq!(
        v(
            r.resolve(&[Custom("\"purple\"".into()), Custom("[\"z\", 1.50]".into())])
                .unwrap()
        ),
        v(r#"{"color": "purple", "tags": ["a", "z", 1.50, "b"], "rank": 2}"#.to_string())
    );
    // The custom number keeps its spelling.
    assert!(r
        .resolve(&[Mine, Custom("[1.50]".into())])
        .unwrap()
        .contains("1.50"));
    assert!(matches!(
        r.resolve(&[Both, Mine]),
        Err(ResolveError::BothNotPossible { .. })
    ));
    assert!(matches!(
        r.resolve(&[Custom("{oops".into()), Mine]),
        Err(ResolveError::InvalidCustom { .. })
    ));
    assert!(matches!(
        r.resolve(&[Mine, Custom("\"x\"".into())]),
        Err(ResolveError::CustomNotArray { .. })
    ));
    assert!(matches!(
        r.resolve(&[Mine]),
        Err(ResolveError::WrongCount { got: 1, want: 2 })
    ));
    let e = r
        .resolve(&[Custom("{oops".into()), Mine])
        .unwrap_err()
        .to_string();
    assert!(e.contains("/color") && e.contains("line 1"), "{e}");
}

#[test]
fn an_order_conflict_resolves_to_an_order_and_keeps_every_merged_edit() {
    use ifmatch_engine::merge::render::ResolveError;
    use ifmatch_engine::merge::Resolution::*;
    let b = r#"[{"id": 1, "x": 0}, {"id": 2, "x": 0}, {"id": 3, "x": 0}]"#;
    let m = r#"[{"id": 3, "x": 0}, {"id": 1, "x": 0}, {"id": 2, "x": 5}]"#;
    let t = r#"[{"id": 2, "x": 0}, {"id": 1, "x": 7}, {"id": 3, "x": 0}]"#;
    let (bd, md, td) = (
        Doc::parse(b).unwrap(),
        Doc::parse(m).unwrap(),
        Doc::parse(t).unwrap(),
    );
    let r = three_way(&bd, &md, &td, &Options::default());
    assert_eq!(r.conflicts.len(), 1);
    assert_eq!(r.conflicts[0].pointer, "");
    let v = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    let rec = |id: u8, x: u8| json!({"id": id, "x": x});
    // Both element edits (x of 1 from theirs, x of 2 from mine) whatever order is chosen.
    assert_eq!(
        v(r.resolve(&[Mine]).unwrap()),
        json!([rec(3, 0), rec(1, 7), rec(2, 5)])
    );
    assert_eq!(
        v(r.resolve(&[Theirs]).unwrap()),
        json!([rec(2, 5), rec(1, 7), rec(3, 0)])
    );
    assert_eq!(
        v(r.resolve(&[Base]).unwrap()),
        json!([rec(1, 7), rec(2, 5), rec(3, 0)])
    );
    // Ids by value, as the merge matches them: 2.0 is 2.
    assert_eq!(
        v(r.resolve(&[Custom("[2.0, 3, 1]".into())]).unwrap()),
        json!([rec(2, 5), rec(3, 0), rec(1, 7)])
    );
    for (typed, says) in [
        ("[1, 2]", "leaves out"),
        ("[1, 2, 3, 3]", "twice"),
        ("[1, 2, 4]", "no element"),
        ("{\"a\": 1}", "not a JSON array"),
    ] {
        match r.resolve(&[Custom(typed.into())]) {
            Err(e @ ResolveError::BadOrder { .. }) => {
                assert!(e.to_string().contains(says), "{typed}: {e}")
            }
            other => panic!("{typed}: {other:?}"),
        }
    }
    assert!(matches!(
        r.resolve(&[Both]),
        Err(ResolveError::BothOrders { .. })
    ));
}
