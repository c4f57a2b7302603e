//! The canonical pretty form: two-space indentation, `"key": value`, one member or element per
//! line, `{}` and `[]` for empty containers (the same as serde_json's pretty printer and Python's
//! `json.dumps(indent=2)`). Strings and numbers are copied exactly as written in the source, so
//! 12345678901234567890, 1.10 and "\u00e9" survive.
//!
//! The input must already be valid JSON (it comes from a `tape::Doc`): the printer does not
//! validate, it only re-spaces.

/// Appends `src` (one valid JSON value) pretty-printed as if it stood at nesting `depth`.
///
/// Tokens print as themselves; only the whitespace between them changes. So the source is
/// copied in runs: each gap is compared with what the layout wants there, and only a gap that
/// differs breaks the run (a value already laid out this way — most of a merge's, which come
/// from pretty-printed inputs at the same depth — is one copy).
pub fn reformat(src: &str, depth: usize, out: &mut String) {
    let run = reformat_runs(src, depth, out);
    out.push_str(&src[run..]);
}

/// `reformat` but for its last run: appends the pretty form of `src` up to the returned byte,
/// from which `src` prints as itself. 0 with nothing appended: `src` is laid out already.
fn reformat_runs(src: &str, depth: usize, out: &mut String) -> usize {
    let b = src.as_bytes();
    let n = b.len();
    let mut depth = depth;
    let ws = |j: usize| super::tape::skip_ws(b, j);
    // `src[run..i]` prints as itself and is not copied yet.
    let mut run = 0;
    // The gap `src[i..j]` must read `want` (a newline and `indent` levels, or a fixed text).
    let mut gap = |i: usize, j: usize, want: Gap, out: &mut String| {
        let same = match want {
            Gap::Nothing => i == j,
            Gap::Space => j == i + 1 && b[i] == b' ',
            Gap::Newline(d) => {
                j - i == 1 + 2 * d && b[i] == b'\n' && b[i + 1..j].iter().all(|&c| c == b' ')
            }
        };
        if !same {
            out.push_str(&src[run..i]);
            match want {
                Gap::Nothing => {}
                Gap::Space => out.push(' '),
                Gap::Newline(d) => newline(out, d),
            }
            run = j;
        }
    };
    let mut i = ws(0);
    gap(0, i, Gap::Nothing, out);
    // What the last token was, for the gap after it.
    #[derive(PartialEq)]
    enum Prev {
        Value,
        Open,
        Comma,
        Colon,
    }
    while i < n {
        let prev = match b[i] {
            b'"' => {
                i = string_end(b, i);
                Prev::Value
            }
            c @ (b'{' | b'[') => {
                let close = if c == b'{' { b'}' } else { b']' };
                let k = ws(i + 1);
                if k < n && b[k] == close {
                    gap(i + 1, k, Gap::Nothing, out);
                    i = k + 1;
                    Prev::Value
                } else {
                    depth += 1;
                    i += 1;
                    Prev::Open
                }
            }
            b'}' | b']' => {
                i += 1;
                Prev::Value
            }
            b',' => {
                i += 1;
                Prev::Comma
            }
            b':' => {
                i += 1;
                Prev::Colon
            }
            _ => {
                while i < n
                    && !matches!(
                        b[i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':'
                    )
                {
                    i += 1;
                }
                Prev::Value
            }
        };
        let j = ws(i);
        let want = match (prev, b.get(j)) {
            (_, None) => Gap::Nothing,
            (_, Some(b'}' | b']')) => {
                depth = depth.saturating_sub(1);
                Gap::Newline(depth)
            }
            (Prev::Open | Prev::Comma, _) => Gap::Newline(depth),
            (Prev::Colon, _) => Gap::Space,
            (Prev::Value, _) => Gap::Nothing,
        };
        gap(i, j, want, out);
        i = j;
    }
    run
}

/// What the layout puts between two tokens.
#[derive(Clone, Copy)]
enum Gap {
    Nothing,
    /// One space (after a member name's colon).
    Space,
    /// A newline and the indentation of this depth.
    Newline(usize),
}

/// The index after the string literal that opens at `i` (escapes skipped).
#[inline]
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    loop {
        // Valid JSON holds no raw control character in a string: the next special byte is a
        // quote or a backslash.
        i = super::tape::next_special(b, i);
        match b.get(i) {
            Some(b'\\') => i += 2,
            Some(b'"') => return i + 1,
            Some(_) => i += 1,
            None => return b.len(),
        }
    }
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

/// `pretty`, borrowing `src` when it is laid out that way already (a pretty-printed input: no
/// copy of a document that may be hundreds of megabytes).
pub fn pretty_cow(src: &str) -> std::borrow::Cow<'_, str> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let body = src.strip_suffix('\n').unwrap_or(src);
    let mut out = String::new();
    let run = reformat_runs(body, 0, &mut out);
    if run == 0 && out.is_empty() && body.len() < src.len() {
        return std::borrow::Cow::Borrowed(src);
    }
    out.reserve(body.len() - run + 1);
    out.push_str(&body[run..]);
    out.push('\n');
    std::borrow::Cow::Owned(out)
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
    use super::{newline, string_end};

    /// The printer as it was before it copied runs: the oracle for `reformat`.
    fn reformat_reference(src: &str, depth: usize, out: &mut String) {
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

    #[test]
    fn copying_runs_prints_what_the_printer_printed() {
        let inputs = [
            r#"{"a":[1,2.50,{"b":null,"c":[]},{}],"s":"x\u00e9 \"q\" , : [ {","e":{ }}"#,
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}",
            "{\n    \"a\": [ 1 , 2 ],\r\n\t\"b\" :{\"c\":true}\n}",
            "[\n  [],\n  [ ],\n  {\n  },\n  \"x\"\n]",
            "  \"lone\"  ",
            "-1.5e+3",
            "[\n    1,\n    2\n]",
            "{\"k\":\n  1}",
        ];
        for src in inputs {
            for depth in 0..4 {
                let (mut got, mut want) = (String::new(), String::new());
                super::reformat(src, depth, &mut got);
                reformat_reference(src, depth, &mut want);
                assert_eq!(got, want, "{src:?} at depth {depth}");
                // Already laid out at this depth: printed as it is.
                let mut again = String::new();
                super::reformat(&want, depth, &mut again);
                assert_eq!(again, want);
            }
        }
    }

    #[test]
    fn pretty_cow_is_pretty_and_borrows_what_is_laid_out() {
        let inputs = [
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}\n",
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}",
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}\n\n",
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n} \n",
            "\u{feff}[\n  1\n]\n",
            "[1,2]\n",
            "  \"lone\"\n",
            "-1.5e+3\n",
            "{\n    \"a\": 1\n}\n",
        ];
        for src in inputs {
            let got = super::pretty_cow(src);
            assert_eq!(got, super::pretty(src), "{src:?}");
            let laid_out = super::pretty(src) == src.trim_start_matches('\u{feff}');
            assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                laid_out,
                "{src:?}"
            );
        }
    }

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
