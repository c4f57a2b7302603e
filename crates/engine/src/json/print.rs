//! The canonical pretty form: two-space indentation, `"key": value`, one member or element per
//! line, `{}` and `[]` for empty containers (the same as serde_json's pretty printer and Python's
//! `json.dumps(indent=2)`). Strings and numbers are copied exactly as written in the source, so
//! 12345678901234567890, 1.10 and "\u00e9" survive.
//!
//! The input must already be valid JSON (it comes from a `tape::Doc`): the printer does not
//! validate, it only re-spaces.

/// Appends `src` (one valid JSON value) pretty-printed as if it stood at nesting `depth`.
pub fn reformat(src: &str, depth: usize, out: &mut String) {
    let b = src.as_bytes();
    let mut depth = depth;
    let mut i = 0;
    let n = b.len();
    while i < n {
        match b[i] {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b'"' => {
                let s = i;
                i = string_end(b, i);
                out.push_str(&src[s..i]);
            }
            c @ (b'{' | b'[') => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i + 1;
                while j < n && matches!(b[j], b' ' | b'\n' | b'\r' | b'\t') {
                    j += 1;
                }
                if j < n && b[j] == close {
                    out.push(c as char);
                    out.push(close as char);
                    i = j + 1;
                } else {
                    out.push(c as char);
                    depth += 1;
                    newline(out, depth);
                    i += 1;
                }
            }
            c @ (b'}' | b']') => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(c as char);
                i += 1;
            }
            b',' => {
                out.push(',');
                newline(out, depth);
                i += 1;
            }
            b':' => {
                out.push_str(": ");
                i += 1;
            }
            _ => {
                let s = i;
                while i < n
                    && !matches!(
                        b[i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':'
                    )
                {
                    i += 1;
                }
                out.push_str(&src[s..i]);
            }
        }
    }
}

/// The index after the string literal that opens at `i` (escapes skipped).
#[inline]
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// A newline and the indentation of `depth`.
#[inline]
pub fn newline(out: &mut String, depth: usize) {
    const SPACES: &str = "                                                                ";
    out.push('\n');
    let mut w = depth * 2;
    while w > 0 {
        let k = w.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        w -= k;
    }
}

/// The whole document in canonical pretty form, with a final newline.
pub fn pretty(src: &str) -> String {
    // A byte order mark is not part of the document (the tape skips it too). Stripped here, at
    // the whole-document entry, not in `reformat`, which runs once per value of a merge.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    reformat(src, 0, &mut out);
    out.push('\n');
    out
}

/// The value without insignificant whitespace (for comparing values written differently).
pub fn compact(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&src[run..i]);
                i += 1;
                run = i;
            }
            b'"' => i = string_end(b, i),
            _ => i += 1,
        }
    }
    out.push_str(&src[run..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_byte_order_mark_is_not_part_of_the_value() {
        let src = "\u{feff}{\"a,b\": 1, \"c\": [1, 2]}";
        assert_eq!(
            super::pretty(src),
            "{\n  \"a,b\": 1,\n  \"c\": [\n    1,\n    2\n  ]\n}\n"
        );
    }

    use super::*;

    #[test]
    fn matches_serde_json_pretty_and_keeps_spelling() {
        let src = r#"{"a":[1,2.50,{"b":null,"c":[]},{}],"s":"x\u00e9 \"q\" , : [ {","big":12345678901234567890,"e":{ }}"#;
        let got = pretty(src);
        let want = "{\n  \"a\": [\n    1,\n    2.50,\n    {\n      \"b\": null,\n      \"c\": []\n    },\n    {}\n  ],\n  \"s\": \"x\\u00e9 \\\"q\\\" , : [ {\",\n  \"big\": 12345678901234567890,\n  \"e\": {}\n}\n";
        assert_eq!(got, want);
        // Same layout as serde_json for values it can represent exactly.
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a":[1,{"b":null,"c":[]},{}],"t":true}"#).unwrap();
        assert_eq!(
            pretty(&v.to_string()),
            serde_json::to_string_pretty(&v).unwrap() + "\n"
        );
    }

    #[test]
    fn reformat_at_depth_and_idempotent() {
        let mut out = String::new();
        reformat("{\"a\": [1]}", 2, &mut out);
        assert_eq!(out, "{\n      \"a\": [\n        1\n      ]\n    }");
        let once = pretty("[ {\"x\" :1 , \"y\":[ ]} ]");
        assert_eq!(pretty(once.trim_end()), once);
    }

    #[test]
    fn compacts() {
        assert_eq!(compact("{ \"a b\" : [ 1 , 2 ] }"), "{\"a b\":[1,2]}");
        assert_eq!(compact("\"  \\\"  \""), "\"  \\\"  \"");
    }
}
