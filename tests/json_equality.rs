//! The engine's one JSON equality (`json::same_text`, `same_value`) against an exact oracle:
//! random documents are written out twice in different spellings — members in another order,
//! numbers in another notation of the same decimal value, strings with other escapes, other
//! white space — which must compare equal; and with one leaf changed by the smallest step its
//! notation allows (the last digit of a 20-digit number, one character of a string), which must
//! not. The oracle is the construction itself: no floating point anywhere.

use proptest::prelude::*;

/// A JSON value with numbers kept as exact decimals: (negative, digits, exponent of the last
/// digit), so a spelling can be made of any notation.
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(bool, String, i32),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (any::<bool>(), "[1-9][0-9]{0,24}", -30i32..30).prop_map(|(n, d, e)| J::Num(n, d, e)),
        "[a-z/\"\\\\é \u{1F600}]{0,8}".prop_map(J::Str),
    ]
}

fn doc() -> impl Strategy<Value = J> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
            prop::collection::btree_map("[a-e]{1,3}", inner, 0..5)
                .prop_map(|m| J::Obj(m.into_iter().collect())),
        ]
    })
}

/// One spelling of `v`; `style` picks notations (bit by bit, cycling), `reverse` the member order.
fn spell(v: &J, style: &mut u64, reverse: bool, out: &mut String) {
    fn bit(style: &mut u64) -> bool {
        *style = style.rotate_left(1);
        *style & 1 == 1
    }
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(neg, digits, exp) => {
            if *neg {
                out.push('-');
            }
            if bit(style) {
                // d.ddd e(exp + len - 1), with trailing zeros added
                let (first, rest) = digits.split_at(1);
                let zeros = if bit(style) { "00" } else { "" };
                let e = *exp as i64 + rest.len() as i64;
                out.push_str(&format!("{first}.{rest}{zeros}0E{e:+}"));
            } else if *exp >= 0 && *exp < 6 {
                out.push_str(digits);
                out.push_str(&"0".repeat(*exp as usize));
                if bit(style) {
                    out.push_str(".000");
                }
            } else {
                out.push_str(&format!("{digits}e{exp}"));
            }
        }
        J::Str(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '/' if bit(style) => out.push_str("\\/"),
                    c if bit(style) => {
                        let mut buf = [0u16; 2];
                        for u in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{u:04X}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        J::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if bit(style) { ", " } else { "," });
                }
                spell(x, style, reverse, out);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            let order: Vec<&(String, J)> = if reverse {
                members.iter().rev().collect()
            } else {
                members.iter().collect()
            };
            for (i, (k, x)) in order.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n ");
                }
                spell(&J::Str(k.clone()), style, reverse, out);
                out.push(':');
                spell(x, style, reverse, out);
            }
            out.push('}');
        }
    }
}

fn text(v: &J, style: u64, reverse: bool) -> String {
    let mut s = String::new();
    let mut st = style | 1;
    spell(v, &mut st, reverse, &mut s);
    s
}

/// `v` with its `n`-th leaf (counted in document order, cycling) changed by the smallest step.
/// Returns false when `v` has no leaf to change.
fn nudge(v: &mut J, n: &mut usize) -> bool {
    match v {
        J::Arr(items) => items.iter_mut().any(|x| nudge(x, n)),
        J::Obj(members) => members.iter_mut().any(|(_, x)| nudge(x, n)),
        _ if *n > 0 => {
            *n -= 1;
            false
        }
        J::Null => {
            *v = J::Bool(false);
            true
        }
        J::Bool(b) => {
            *b = !*b;
            true
        }
        J::Num(_, digits, _) => {
            // The last digit, one up (9 → 8): the same length, the same exponent.
            let last = digits.pop().unwrap();
            digits.push(if last == '9' {
                '8'
            } else {
                (last as u8 + 1) as char
            });
            true
        }
        J::Str(s) => {
            s.push('x');
            true
        }
    }
}

fn leaves(v: &J) -> usize {
    match v {
        J::Arr(items) => items.iter().map(leaves).sum(),
        J::Obj(members) => members.iter().map(|(_, x)| leaves(x)).sum(),
        _ => 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn spellings_of_one_value_are_equal(v in doc(), a in any::<u64>(), b in any::<u64>(), rev in any::<bool>()) {
        let (x, y) = (text(&v, a, false), text(&v, b, rev));
        prop_assert!(ifmatch_engine::json::same_text(&x, &y), "{x}\n{y}");
        let (p, q): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&x).unwrap(), serde_json::from_str(&y).unwrap());
        prop_assert!(ifmatch_engine::json::same_value(&p, &q), "{x}\n{y}");
    }

    #[test]
    fn one_changed_leaf_is_not_equal(v in doc(), a in any::<u64>(), b in any::<u64>(), pick in any::<usize>()) {
        prop_assume!(leaves(&v) > 0);
        let mut w = v.clone();
        let mut n = pick % leaves(&v);
        prop_assume!(nudge(&mut w, &mut n));
        let (x, y) = (text(&v, a, false), text(&w, b, true));
        prop_assert!(!ifmatch_engine::json::same_text(&x, &y), "{x}\n{y}");
        let (p, q): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&x).unwrap(), serde_json::from_str(&y).unwrap());
        prop_assert!(!ifmatch_engine::json::same_value(&p, &q), "{x}\n{y}");
    }
}

/// The examples users met: a 20-digit id one apart, a price reprinted.
#[test]
fn the_cases_users_met() {
    use ifmatch_engine::json::same_text;
    assert!(!same_text(
        r#"{"id": 12345678901234567890}"#,
        r#"{"id": 12345678901234567891}"#
    ));
    assert!(same_text(r#"{"price": 1.50}"#, r#"{"price": 1.5}"#));
    assert!(same_text(r#"{"n": 100}"#, r#"{"n": 1e2}"#));
}
