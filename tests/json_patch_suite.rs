//! The official JSON Patch test suite (json-patch/json-patch-tests, fixtures under
//! tests/fixtures/json-patch/) and the RFC 7396 Appendix A examples, against
//! `ifmatch_engine::patch` — which the demo server uses for PATCH.

use ifmatch_engine::json::same_value as json_equal;
use ifmatch_engine::patch::{apply_json_patch, apply_merge_patch};
use serde_json::{json, Value};

fn run_suite(file: &str) -> (usize, Vec<String>) {
    let path = format!("{}/fixtures/json-patch/{file}", env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut run = 0;
    let mut failures = vec![];
    for (i, c) in cases.iter().enumerate() {
        if c.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        run += 1;
        let name = c
            .get("comment")
            .or_else(|| c.get("error"))
            .map(|v| v.to_string())
            .unwrap_or_else(|| format!("case {i}"));
        let mut doc = c["doc"].clone();
        let res = apply_json_patch(&mut doc, &c["patch"]);
        match (c.get("error"), c.get("expected"), res) {
            (Some(_), _, Ok(())) => failures.push(format!("{file} {name}: applied, but must fail")),
            (Some(_), _, Err(_)) => {
                assert_eq!(
                    doc, c["doc"],
                    "{file} {name}: a failed patch must leave the document untouched"
                )
            }
            (None, Some(want), Ok(())) => {
                if !json_equal(&doc, want) {
                    failures.push(format!("{file} {name}: got {doc}, expected {want}"));
                }
            }
            (None, None, Ok(())) => {}
            (None, _, Err(e)) => failures.push(format!("{file} {name}: failed: {e}")),
        }
    }
    (run, failures)
}

#[test]
fn official_json_patch_suite() {
    let (run1, mut f) = run_suite("tests.json");
    let (run2, f2) = run_suite("spec_tests.json");
    f.extend(f2);
    assert!(run1 + run2 >= 90, "only {} cases ran", run1 + run2);
    assert!(f.is_empty(), "{} failures:\n{}", f.len(), f.join("\n"));
}

#[test]
fn rfc7396_appendix_a() {
    let cases = [
        (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
        (json!({"a":"b"}), json!({"a":null}), json!({})),
        (
            json!({"a":"b","b":"c"}),
            json!({"a":null}),
            json!({"b":"c"}),
        ),
        (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
        (
            json!({"a":{"b":"c"}}),
            json!({"a":{"b":"d","c":null}}),
            json!({"a":{"b":"d"}}),
        ),
        (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a":"b"}), json!(["c"]), json!(["c"])),
        (json!({"a":"foo"}), json!(null), json!(null)),
        (json!({"a":"foo"}), json!("bar"), json!("bar")),
        (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        (
            json!({}),
            json!({"a":{"bb":{"ccc":null}}}),
            json!({"a":{"bb":{}}}),
        ),
    ];
    for (target, patch, want) in cases {
        let mut t = target.clone();
        apply_merge_patch(&mut t, &patch);
        assert_eq!(t, want, "{target} + {patch}");
    }
}
