//! The pretty printer. Its canonical form: two-space indentation, `"key": value`, one member or
//! element per line, `{}` and `[]` for empty containers, `\n` line ends and a final newline (the
//! same as serde_json's pretty printer and Python's `json.dumps(indent=2)`). A `Style` read off a
//! document (`Style::of`) prints in that document's own layout instead — its indentation (spaces
//! of any width, or tabs), line ending, final newline and spacing around a member's colon — so a
//! merge sent back to a server changes only the lines whose values changed. Strings and numbers
//! are copied exactly as written in the source, so 12345678901234567890, 1.10 and "\u00e9"
//! survive.
//!
//! The input must already be valid JSON (it comes from a `tape::Doc`): the printer does not
//! validate, it only re-spaces.

use std::borrow::Cow;

/// A document's layout: what the printer puts between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// The byte one indentation level is made of (`b' '` or `b'\t'`).
    pub indent_byte: u8,
    /// How many of it make one level (0: lines are not indented).
    pub indent_width: usize,
    /// Lines end with `\r\n` instead of `\n`.
    pub crlf: bool,
    /// The document ends with a line end.
    pub final_newline: bool,
    /// A space before a member's colon (`"key" : value`, as Jackson prints).
    pub space_before_colon: bool,
    /// A space after a member's colon.
    pub space_after_colon: bool,
}

impl Default for Style {
    /// The canonical form.
    fn default() -> Style {
        Style {
            indent_byte: b' ',
            indent_width: 2,
            crlf: false,
            final_newline: true,
            space_before_colon: false,
            space_after_colon: true,
        }
    }
}

/// How much of a document `Style::of` reads: its layout shows in the first lines.
const STYLE_SAMPLE: usize = 64 * 1024;

impl Style {
    /// The layout `text` (one valid JSON value) is written in. A document on one line (compact
    /// JSON, or a scalar) has no layout to keep (printing it pretty rewrites its line anyway):
    /// it gets the canonical one. Indentation mixing tabs and spaces gets the canonical
    /// indentation.
    pub fn of(text: &str) -> Style {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let b = text.as_bytes();
        let Some(first_eol) = b.iter().position(|&c| c == b'\n') else {
            return Style::default();
        };
        if b[first_eol + 1..].iter().all(|c| c.is_ascii_whitespace()) {
            // One line and its end.
            return Style::default();
        }
        let mut style = Style {
            final_newline: text.ends_with('\n'),
            ..Style::default()
        };
        style.crlf = first_eol > 0 && b[first_eol - 1] == b'\r';
        // One level is the least indentation of a line (members of the root are one level in).
        let sample = &b[..b.len().min(STYLE_SAMPLE)];
        let mut least: Option<(u8, usize)> = None;
        let mut mixed = false;
        let mut i = first_eol;
        while i < sample.len() {
            // `i` is at a '\n': measure the next line's indentation.
            let start = i + 1;
            let mut j = start;
            while j < sample.len() && matches!(sample[j], b' ' | b'\t') {
                j += 1;
            }
            if j < sample.len() && !matches!(sample[j], b'\n' | b'\r') {
                let ws = &sample[start..j];
                if let Some(&c) = ws.first() {
                    if ws.iter().any(|&x| x != c) {
                        mixed = true;
                    } else if least.is_none_or(|(_, w)| ws.len() < w) {
                        least = Some((c, ws.len()));
                    }
                }
            }
            match sample[j..].iter().position(|&c| c == b'\n') {
                Some(k) => i = j + k,
                None => break,
            }
        }
        match (least, mixed) {
            (Some((c, w)), false) if w <= 16 => {
                style.indent_byte = c;
                style.indent_width = w;
            }
            (None, false) => style.indent_width = 0,
            _ => {}
        }
        // The spacing around the first member's colon.
        if let Some(open) = b.iter().position(|&c| c == b'{') {
            let k = super::tape::skip_ws(b, open + 1);
            if b.get(k) == Some(&b'"') {
                let end = string_end(b, k);
                let colon = super::tape::skip_ws(b, end);
                if b.get(colon) == Some(&b':') {
                    let after = super::tape::skip_ws(b, colon + 1);
                    style.space_before_colon = colon > end;
                    style.space_after_colon = after > colon + 1;
                }
            }
        }
        style
    }

    /// The line end.
    pub fn eol(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Whether this is the canonical form.
    pub fn is_canonical(&self) -> bool {
        *self == Style::default()
    }

    /// A line end and the indentation of `depth`.
    #[inline]
    pub fn newline(&self, out: &mut String, depth: usize) {
        const SPACES: &str = "                                                                ";
        const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
        out.push_str(self.eol());
        let run = if self.indent_byte == b'\t' {
            TABS
        } else {
            SPACES
        };
        let mut w = depth * self.indent_width;
        while w > 0 {
            let k = w.min(run.len());
            out.push_str(&run[..k]);
            w -= k;
        }
    }

    /// A member's colon with its spacing.
    #[inline]
    pub fn colon(&self) -> &'static str {
        match (self.space_before_colon, self.space_after_colon) {
            (false, true) => ": ",
            (false, false) => ":",
            (true, true) => " : ",
            (true, false) => " :",
        }
    }

    /// Whether the gap `g` is what this layout puts there.
    #[inline]
    fn fits(&self, g: &[u8], want: Gap) -> bool {
        // Byte by byte, not slice equality: this runs once per token of a document, and a
        // `memcmp` call per one- or two-byte gap cost a tenth of a 10 MB merge.
        let one_space = |want_space: bool| match g {
            [] => !want_space,
            [b' '] => want_space,
            _ => false,
        };
        match want {
            Gap::Nothing => g.is_empty(),
            Gap::BeforeColon => one_space(self.space_before_colon),
            Gap::AfterColon => one_space(self.space_after_colon),
            Gap::Newline(d) => {
                let indent = match (self.crlf, g) {
                    (false, [b'\n', rest @ ..]) => rest,
                    (true, [b'\r', b'\n', rest @ ..]) => rest,
                    _ => return false,
                };
                indent.len() == d * self.indent_width
                    && indent.iter().all(|&c| c == self.indent_byte)
            }
        }
    }

    #[inline]
    fn push(&self, out: &mut String, want: Gap) {
        match want {
            Gap::Nothing => {}
            Gap::BeforeColon => {
                if self.space_before_colon {
                    out.push(' ')
                }
            }
            Gap::AfterColon => {
                if self.space_after_colon {
                    out.push(' ')
                }
            }
            Gap::Newline(d) => self.newline(out, d),
        }
    }
}

/// Appends `src` (one valid JSON value) pretty-printed as if it stood at nesting `depth`.
///
/// Tokens print as themselves; only the whitespace between them changes. So the source is
/// copied in runs: each gap is compared with what the layout wants there, and only a gap that
/// differs breaks the run (a value already laid out this way — most of a merge's, which come
/// from pretty-printed inputs at the same depth — is one copy).
pub fn reformat(src: &str, depth: usize, out: &mut String) {
    reformat_in(src, depth, &Style::default(), out)
}

/// `reformat` in the layout `style`.
pub fn reformat_in(src: &str, depth: usize, style: &Style, out: &mut String) {
    let run = reformat_runs(src, depth, style, out);
    out.push_str(&src[run..]);
}

/// `reformat` but for its last run: appends the pretty form of `src` up to the returned byte,
/// from which `src` prints as itself. 0 with nothing appended: `src` is laid out already.
fn reformat_runs(src: &str, depth: usize, style: &Style, out: &mut String) -> usize {
    let b = src.as_bytes();
    let n = b.len();
    let mut depth = depth;
    let ws = |j: usize| super::tape::skip_ws(b, j);
    // `src[run..i]` prints as itself and is not copied yet.
    let mut run = 0;
    // The gap `src[i..j]` must read `want`.
    let mut gap = |i: usize, j: usize, want: Gap, out: &mut String| {
        if !style.fits(&b[i..j], want) {
            out.push_str(&src[run..i]);
            style.push(out, want);
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
            (Prev::Colon, _) => Gap::AfterColon,
            (Prev::Value, Some(b':')) => Gap::BeforeColon,
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
    /// Between a member's name and its colon.
    BeforeColon,
    /// After a member's colon.
    AfterColon,
    /// A line end and the indentation of this depth.
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

/// A newline and the canonical indentation of `depth`.
#[inline]
pub fn newline(out: &mut String, depth: usize) {
    Style::default().newline(out, depth)
}

/// The whole document in canonical pretty form, with a final newline.
pub fn pretty(src: &str) -> String {
    pretty_in(src, &Style::default())
}

/// The whole document in the layout `style` (its final newline as the style has it).
pub fn pretty_in(src: &str, style: &Style) -> String {
    // A byte order mark is not part of the document (the tape skips it too). Stripped here, at
    // the whole-document entry, not in `reformat`, which runs once per value of a merge.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    reformat_in(src, 0, style, &mut out);
    if style.final_newline {
        out.push_str(style.eol());
    }
    out
}

/// `pretty`, borrowing `src` when it is laid out that way already (a pretty-printed input: no
/// copy of a document that may be hundreds of megabytes).
pub fn pretty_cow(src: &str) -> Cow<'_, str> {
    pretty_cow_in(src, &Style::default())
}

/// `pretty_in`, borrowing `src` when it is laid out in `style` already.
pub fn pretty_cow_in<'s>(src: &'s str, style: &Style) -> Cow<'s, str> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let (body, end) = match src.strip_suffix('\n') {
        Some(b) => match b.strip_suffix('\r') {
            Some(b) => (b, "\r\n"),
            None => (b, "\n"),
        },
        None => (src, ""),
    };
    let want_end = if style.final_newline { style.eol() } else { "" };
    let mut out = String::new();
    let run = reformat_runs(body, 0, style, &mut out);
    if run == 0 && out.is_empty() && end == want_end {
        return Cow::Borrowed(src);
    }
    out.reserve(body.len() - run + want_end.len());
    out.push_str(&body[run..]);
    out.push_str(want_end);
    Cow::Owned(out)
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

    #[test]
    fn a_documents_own_layout_is_read_and_printed_back_unchanged() {
        let four = "{\n    \"a\": [\n        1,\n        {\n            \"b\": null\n        }\n    ],\n    \"c\": {}\n}\n";
        let tabs = "{\n\t\"a\": [\n\t\t1\n\t],\n\t\"c\": \"x\"\n}";
        let crlf = "{\r\n   \"a\": {\r\n      \"b\": 1\r\n   }\r\n}\r\n";
        let jackson = "{\n  \"a\" : [ ],\n  \"b\" : {\n    \"c\" : 1\n  }\n}";
        let tight = "{\n \"a\":1,\n \"b\":[\n  2\n ]\n}\n";
        let cases = [
            (four, b' ', 4, false, true, false, true),
            (tabs, b'\t', 1, false, false, false, true),
            (crlf, b' ', 3, true, true, false, true),
            (jackson, b' ', 2, false, false, true, true),
            (tight, b' ', 1, false, true, false, false),
        ];
        for (text, byte, width, crlf, final_nl, before, after) in cases {
            let s = Style::of(text);
            assert_eq!(
                (
                    s.indent_byte,
                    s.indent_width,
                    s.crlf,
                    s.final_newline,
                    s.space_before_colon,
                    s.space_after_colon
                ),
                (byte, width, crlf, final_nl, before, after),
                "{text:?}"
            );
            // A document printed in its own layout is itself (the empty `[ ]` aside, which
            // prints as `[]`)...
            let want = text.replace("[ ]", "[]");
            assert_eq!(pretty_in(text, &s), want, "{text:?}");
            // ...borrowed when nothing changes...
            if want == text {
                assert!(matches!(pretty_cow_in(text, &s), Cow::Borrowed(_)));
            }
            // ...and the canonical form of a document prints back in that layout.
            assert_eq!(pretty_in(&pretty(text), &s), want, "{text:?}");
            assert_eq!(pretty_cow_in(&pretty(text), &s), want, "{text:?}");
        }
    }

    #[test]
    fn a_document_on_one_line_gets_the_canonical_layout() {
        for text in ["{\"a\":[1,2]}", "{\"a\":[1,2]}\n", "3", "\"s\"\n"] {
            let s = Style::of(text);
            assert_eq!(s.indent_width, 2);
            assert!(s.is_canonical());
        }
        // Mixed tabs and spaces: no width to keep, the canonical one.
        let s = Style::of("{\n \t\"a\": 1\n}\n");
        assert_eq!((s.indent_byte, s.indent_width), (b' ', 2));
        assert!(Style::of(&pretty("{\"a\":{\"b\":1}}")).is_canonical());
    }
}
