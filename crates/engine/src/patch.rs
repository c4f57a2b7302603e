//! Applying patch documents: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).
//!
//! Owns: the reference behaviour the demo server uses for `PATCH` with
//! `application/merge-patch+json` and `application/json-patch+json`, and what the tests check the
//! merge's generated patches against. Key order is kept (serde_json `preserve_order`): existing
//! members stay where they are, new members are appended.
//!
//! Must never: leave a document half-patched. A JSON Patch applies to a copy and replaces the
//! target only when every operation succeeded (RFC 6902 §5).

use crate::json::pointer_tokens;
use serde_json::Value;

/// RFC 7396 §2 MergePatch(Target, Patch).
pub fn apply_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(t) = target else {
        unreachable!("target was just made an object")
    };
    for (k, v) in p {
        if v.is_null() {
            t.shift_remove(k);
        } else {
            apply_merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
/// Why a JSON Patch could not be applied.
pub enum JsonPatchError {
    /// The patch is not an array.
    #[error("the patch must be a JSON array of operations")]
    NotAnArray,
    /// An operation is malformed or cannot be applied.
    #[error("operation {index}: {message}")]
    Op {
        /// 0-based index of the operation.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A `test` operation failed: the document is not the one the patch was made for.
    #[error("operation {index}: test failed: the value at {path:?} is not the expected one (the document changed)")]
    TestFailed {
        /// 0-based index of the operation.
        index: usize,
        /// The path tested.
        path: String,
    },
}

/// RFC 6902: applies every operation or none.
pub fn apply_json_patch(target: &mut Value, patch: &Value) -> Result<(), JsonPatchError> {
    let Value::Array(ops) = patch else {
        return Err(JsonPatchError::NotAnArray);
    };
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        let fail = |message: &str| JsonPatchError::Op {
            index,
            message: message.to_string(),
        };
        let Value::Object(o) = op else {
            return Err(fail("an operation must be an object"));
        };
        let name = o
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("missing \"op\""))?;
        let path = o
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("missing \"path\""))?;
        let tokens = pointer_tokens(path).ok_or_else(|| fail("\"path\" is not a JSON pointer"))?;
        let value = || {
            o.get("value")
                .cloned()
                .ok_or_else(|| fail("missing \"value\""))
        };
        let from = || -> Result<Vec<String>, JsonPatchError> {
            let f = o
                .get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| fail("missing \"from\""))?;
            pointer_tokens(f).ok_or_else(|| fail("\"from\" is not a JSON pointer"))
        };
        match name {
            "add" => add(&mut doc, &tokens, value()?).map_err(|m| fail(&m))?,
            "remove" => {
                remove(&mut doc, &tokens).map_err(|m| fail(&m))?;
            }
            "replace" => {
                let v = value()?;
                let slot = get_mut(&mut doc, &tokens)
                    .ok_or_else(|| fail("no value at \"path\" to replace"))?;
                *slot = v;
            }
            "move" => {
                let f = from()?;
                if tokens.len() > f.len() && tokens[..f.len()] == f[..] {
                    return Err(fail("cannot move a value into one of its own children"));
                }
                let v = remove(&mut doc, &f).map_err(|m| fail(&m))?;
                add(&mut doc, &tokens, v).map_err(|m| fail(&m))?;
            }
            "copy" => {
                let f = from()?;
                let v = get_mut(&mut doc, &f)
                    .ok_or_else(|| fail("no value at \"from\""))?
                    .clone();
                add(&mut doc, &tokens, v).map_err(|m| fail(&m))?;
            }
            "test" => {
                let want = value()?;
                let ok = get_mut(&mut doc, &tokens)
                    .is_some_and(|have| crate::json::same_value(have, &want));
                if !ok {
                    return Err(JsonPatchError::TestFailed {
                        index,
                        path: path.to_string(),
                    });
                }
            }
            other => return Err(fail(&format!("unknown operation {other:?}"))),
        }
    }
    *target = doc;
    Ok(())
}

fn array_index(token: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if allow_end && token == "-" {
        return Ok(len);
    }
    let valid = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    let i: usize = if valid {
        token
            .parse()
            .map_err(|_| format!("array index {token:?} is too large"))?
    } else {
        return Err(format!("{token:?} is not an array index"));
    };
    if i > len || (!allow_end && i == len) {
        return Err(format!("array index {i} is out of bounds (length {len})"));
    }
    Ok(i)
}

fn get_mut<'v>(doc: &'v mut Value, tokens: &[String]) -> Option<&'v mut Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(o) => o.get_mut(t)?,
            Value::Array(a) => {
                let i = array_index(t, a.len(), false).ok()?;
                &mut a[i]
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, tokens: &[String], v: Value) -> Result<(), String> {
    let Some((last, parent)) = tokens.split_last() else {
        *doc = v;
        return Ok(());
    };
    match get_mut(doc, parent).ok_or("the parent of \"path\" does not exist")? {
        Value::Object(o) => {
            o.insert(last.clone(), v);
            Ok(())
        }
        Value::Array(a) => {
            let i = array_index(last, a.len(), true)?;
            a.insert(i, v);
            Ok(())
        }
        _ => Err("the parent of \"path\" is not an object or an array".into()),
    }
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parent)) = tokens.split_last() else {
        return Err("cannot remove the whole document".into());
    };
    match get_mut(doc, parent).ok_or("the parent of \"path\" does not exist")? {
        Value::Object(o) => o
            .shift_remove(last)
            .ok_or_else(|| format!("no member {last:?} to remove")),
        Value::Array(a) => {
            let i = array_index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err("the parent of \"path\" is not an object or an array".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order() {
        let mut t: Value = serde_json::from_str(r#"{"z":1,"a":2,"m":3}"#).unwrap();
        apply_merge_patch(&mut t, &serde_json::from_str(r#"{"a":5,"b":6}"#).unwrap());
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"z":1,"a":5,"m":3,"b":6}"#
        );
    }
}
