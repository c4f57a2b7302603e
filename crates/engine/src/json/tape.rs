//! A validating JSON scanner that records the document's structure as a flat "tape" of byte
//! spans instead of building owned values.
//!
//! Why: the three-way merge must open a 50 MB conflict at once. Building `serde_json::Value`s for
//! three such documents costs more than a whole line-based `git merge-file`. The tape costs one
//! pass per document (the three run in parallel), borrows the text, keeps every number's and
//! string's exact spelling, and lets the merge skip subtrees whose bytes are identical.
//!
//! Owns: RFC 8259 validation (strict: no trailing commas, no comments, no leading zeros, no
//! unescaped control characters, valid UTF-8 via `&str`), duplicate-key detection (an error
//! naming the key and where, never a silent pick), a nesting limit.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The deepest nesting accepted (the merge and the printer recurse once per level).
pub const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The kind of a JSON value.
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number (its text is kept exactly as written).
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// The kind in words (`object`, `string`, ...), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// One value on the tape. Children of a container at index `i` start at `i + 1` and are chained
/// by `next`; `next` of the container itself is the index after its whole subtree.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// Byte offset where the value starts.
    pub start: u32,
    /// Byte offset just past the value.
    pub end: u32,
    /// Index of the next sibling's node (the node after this value's subtree).
    pub next: u32,
    /// For a member of an object: the key's span including the quotes.
    pub key_start: u32,
    /// Byte offset just past the member's key (0 when the value is not an object member).
    pub key_end: u32,
    /// The value's kind.
    pub kind: Kind,
    /// The member's key contains a backslash escape.
    pub key_escaped: bool,
    /// The string value contains a backslash escape.
    pub value_escaped: bool,
}

/// Why a text is not a usable JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong, in words.
    pub message: String,
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column of the error (in characters).
    pub column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}

/// A parsed document: the text and its tape (index 0 is the root).
#[derive(Debug)]
pub struct Doc<'a> {
    /// The text parsed.
    pub text: &'a str,
    /// One node per value, in document order (a value's children follow it).
    pub nodes: Vec<Node>,
    /// Where each line after the first starts (the byte after each newline), counted on the
    /// first `line_of`: one pass over the text, then a binary search per question. (Counting
    /// from the start for each question made a 10 MB conflict round's line numbers cost
    /// conflicts × size: 0.3 s for eight conflicts.)
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl<'a> Doc<'a> {
    /// Parses and validates `text` (RFC 8259); the error names line and column.
    pub fn parse(text: &'a str) -> Result<Doc<'a>, JsonError> {
        Parser::new(text).run()
    }

    /// This document's tape over `text`, which must be the very same text (a second copy of
    /// it): no second parse. None when the texts differ.
    pub fn for_same_text<'t>(&self, text: &'t str) -> Option<Doc<'t>> {
        (text == self.text).then(|| Doc {
            text,
            nodes: self.nodes.clone(),
            line_starts: self.line_starts.clone(),
        })
    }

    /// The root value's node index (always 0).
    pub fn root(&self) -> usize {
        0
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The exact source text of a value.
    pub fn span(&self, i: usize) -> &'a str {
        let n = &self.nodes[i];
        &self.text[n.start as usize..n.end as usize]
    }

    /// The kind of node `i`.
    pub fn kind(&self, i: usize) -> Kind {
        self.nodes[i].kind
    }

    /// The raw key text of member `i`, quotes included.
    pub fn raw_key(&self, i: usize) -> &'a str {
        let n = &self.nodes[i];
        &self.text[n.key_start as usize..n.key_end as usize]
    }

    /// The decoded key of member `i`.
    pub fn key(&self, i: usize) -> Cow<'a, str> {
        let raw = self.raw_key(i);
        if self.nodes[i].key_escaped {
            Cow::Owned(unescape(&raw[1..raw.len() - 1]))
        } else {
            Cow::Borrowed(&raw[1..raw.len() - 1])
        }
    }

    /// The children of a container (members of an object, elements of an array).
    pub fn children(&self, i: usize) -> Children<'_, 'a> {
        let n = &self.nodes[i];
        let end = n.next as usize;
        let first = if matches!(n.kind, Kind::Array | Kind::Object) && i + 1 < end {
            i + 1
        } else {
            end
        };
        Children {
            doc: self,
            at: first,
            end,
        }
    }

    /// The member of object `i` with the given decoded key.
    pub fn member(&self, i: usize, key: &str) -> Option<usize> {
        self.children(i).find(|&c| self.key(c) == key)
    }

    /// The 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let starts = self
            .line_starts
            .get_or_init(|| later_line_starts(self.text).collect());
        // The newlines before `offset`: those whose following line starts at or before it.
        starts.partition_point(|&s| s <= offset.min(self.text.len()))
    }
}

/// Where each line after a text's first starts: the byte after each `\n`. Every line index of
/// the engine (a Doc's `line_of`, the line diff's lines) is built from this one pass.
pub fn later_line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)
}

/// The children of an array or object node, in order.
pub struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    at: usize,
    end: usize,
}

impl Iterator for Children<'_, '_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        let i = self.at;
        self.at = self.doc.nodes[i].next as usize;
        Some(i)
    }
}

/// A lone UTF-16 surrogate escape (`\ud800`, legal JSON, no Unicode character) as a character
/// of its own: one of the last 2048 code points of plane 16's private use area, one per
/// surrogate. Mapping them all to U+FFFD would make `"\ud800"` and `"\udbff"` the same name
/// (a false duplicate) and the same value (a change lost).
fn lone(surrogate: u32) -> char {
    char::from_u32(0x10_f800 + (surrogate - 0xd800)).unwrap_or('\u{fffd}')
}

/// Decodes the inside of a JSON string literal (already validated). Lone surrogate escapes stay
/// distinct (see `lone`).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let hi = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                if (0xd800..0xdc00).contains(&hi) {
                    let rest = chars.as_str();
                    if rest.starts_with("\\u") {
                        let lo = u32::from_str_radix(&rest[2..6], 16).unwrap_or(0);
                        if (0xdc00..0xe000).contains(&lo) {
                            chars = rest[6..].chars();
                            let cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                            continue;
                        }
                    }
                    out.push(lone(hi));
                } else if (0xdc00..0xe000).contains(&hi) {
                    out.push(lone(hi));
                } else {
                    out.push(char::from_u32(hi).unwrap_or('\u{fffd}'));
                }
            }
            Some(other) => out.push(other), // \" \\ \/
            None => {}
        }
    }
    out
}

/// The index of the first byte at or after `i` that is not JSON whitespace. Spaces are counted
/// eight at a time (a pretty-printed document's indentation is most of its whitespace).
#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes(*b"        ");
    loop {
        if let Some(chunk) = b.get(i..i + 8) {
            let other = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ SPACES;
            if other == 0 {
                i += 8;
                continue;
            }
            // Skip the spaces before the first other byte.
            i += (other.trailing_zeros() / 8) as usize;
        }
        match b.get(i) {
            Some(b' ' | b'\n' | b'\r' | b'\t') => i += 1,
            _ => return i,
        }
    }
}

/// The index of the first byte at or after `i` that is `"`, `\\` or below 0x20, or `b.len()`:
/// eight bytes at a time. Exact: in each zero-byte test below the lowest flagged byte is a real
/// one (a false flag can only sit above a real one, where the borrow went), so the lowest flag
/// of the three is the first such byte.
#[inline]
pub(crate) fn next_special(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        let quote = zero(w ^ (ONES * b'"' as u64));
        let backslash = zero(w ^ (ONES * b'\\' as u64));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let flags = quote | backslash | control;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !(b[i] == b'"' || b[i] == b'\\' || b[i] < 0x20) {
        i += 1;
    }
    i
}

struct Frame {
    node: usize,
    is_object: bool,
    /// The last child pushed (to chain `next`).
    last_child: Option<usize>,
    /// Where this object's keys start in the parser's key stack.
    keys_from: usize,
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    /// The keys of the objects open now, innermost last, for duplicate detection (raw spans;
    /// decoded when escaped). One stack for all: no allocation per object.
    keys: Vec<(u32, u32, bool)>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            b: text.as_bytes(),
            pos: 0,
            // A pretty-printed document has about one value per 25 bytes.
            nodes: Vec::with_capacity(text.len() / 24 + 4),
            keys: Vec::new(),
        }
    }

    fn err(&self, at: usize, message: impl Into<String>) -> JsonError {
        let at = at.min(self.b.len());
        let before = &self.b[..at];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let column = self.text[line_start..at].chars().count() + 1;
        JsonError {
            message: message.into(),
            line,
            column,
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.b, self.pos);
    }

    fn run(mut self) -> Result<Doc<'a>, JsonError> {
        // Allow a UTF-8 byte order mark, as many editors write one.
        if self.text.starts_with('\u{feff}') {
            self.pos = 3;
        }
        self.skip_ws();
        if self.pos >= self.b.len() {
            return Err(self.err(self.pos, "the document is empty"));
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut pending_key: Option<(u32, u32, bool)> = None;
        loop {
            // Parse one value at self.pos.
            self.skip_ws();
            let start = self.pos;
            let Some(&c) = self.b.get(start) else {
                return Err(self.err(start, "unexpected end of the document: a value is missing"));
            };
            let (key_start, key_end, key_esc) = pending_key.take().unwrap_or((0, 0, false));
            let idx = self.nodes.len();
            if let Some(f) = stack.last_mut() {
                if let Some(prev) = f.last_child {
                    self.nodes[prev].next = idx as u32;
                }
                f.last_child = Some(idx);
            }
            let mut node = Node {
                start: start as u32,
                end: 0,
                next: 0,
                key_start,
                key_end,
                kind: Kind::Null,
                key_escaped: key_esc,
                value_escaped: false,
            };
            match c {
                b'{' | b'[' => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(
                            self.err(start, format!("nesting deeper than {MAX_DEPTH} levels"))
                        );
                    }
                    node.kind = if c == b'{' { Kind::Object } else { Kind::Array };
                    self.nodes.push(node);
                    self.pos += 1;
                    stack.push(Frame {
                        node: idx,
                        is_object: c == b'{',
                        last_child: None,
                        keys_from: self.keys.len(),
                    });
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.b.get(self.pos) == Some(&close) {
                        // Empty container: closed below.
                    } else {
                        if c == b'{' {
                            pending_key = Some(self.member_key()?);
                        }
                        continue;
                    }
                }
                b'"' => {
                    let esc = self.string()?;
                    node.kind = Kind::String;
                    node.value_escaped = esc;
                    node.end = self.pos as u32;
                    node.next = idx as u32 + 1;
                    self.nodes.push(node);
                }
                b't' | b'f' | b'n' => {
                    let lit: &[u8] = match c {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    if !self.b[start..].starts_with(lit) {
                        return Err(
                            self.err(start, "unexpected word: expected true, false or null")
                        );
                    }
                    self.pos += lit.len();
                    node.kind = if c == b'n' { Kind::Null } else { Kind::Bool };
                    node.end = self.pos as u32;
                    node.next = idx as u32 + 1;
                    self.nodes.push(node);
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                    node.kind = Kind::Number;
                    node.end = self.pos as u32;
                    node.next = idx as u32 + 1;
                    self.nodes.push(node);
                }
                _ => {
                    return Err(self.err(
                        start,
                        format!(
                            "unexpected character {:?}: expected a value",
                            self.char_at(start)
                        ),
                    ))
                }
            }
            // After a value: close containers, or find the next sibling.
            loop {
                self.skip_ws();
                let Some(frame) = stack.last() else {
                    if self.pos < self.b.len() {
                        return Err(
                            self.err(self.pos, "unexpected text after the end of the document")
                        );
                    }
                    return Ok(Doc {
                        text: self.text,
                        nodes: self.nodes,
                        line_starts: std::sync::OnceLock::new(),
                    });
                };
                let close = if frame.is_object { b'}' } else { b']' };
                match self.b.get(self.pos) {
                    Some(&b',') => {
                        self.pos += 1;
                        self.skip_ws();
                        if matches!(self.b.get(self.pos), Some(b'}') | Some(b']')) {
                            return Err(
                                self.err(self.pos, "trailing comma before the closing bracket")
                            );
                        }
                        if frame.is_object {
                            pending_key = Some(self.member_key()?);
                        }
                        break;
                    }
                    Some(&c) if c == close => {
                        self.pos += 1;
                        let frame = stack.pop().expect("checked above");
                        let next = self.nodes.len() as u32;
                        let n = &mut self.nodes[frame.node];
                        n.end = self.pos as u32;
                        n.next = next;
                        if frame.is_object {
                            if self.keys.len() - frame.keys_from > 1 {
                                self.check_duplicates(&self.keys[frame.keys_from..])?;
                            }
                            self.keys.truncate(frame.keys_from);
                        }
                    }
                    Some(_) => {
                        let what = if frame.is_object {
                            "',' or '}'"
                        } else {
                            "',' or ']'"
                        };
                        return Err(self.err(
                            self.pos,
                            format!(
                                "unexpected character {:?}: expected {what}",
                                self.char_at(self.pos)
                            ),
                        ));
                    }
                    None => {
                        return Err(self.err(
                            self.pos,
                            "unexpected end of the document: a bracket is not closed",
                        ))
                    }
                }
            }
        }
    }

    fn char_at(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or('?')
    }

    /// Parses `"key" :` and records the key for duplicate detection.
    fn member_key(&mut self) -> Result<(u32, u32, bool), JsonError> {
        self.skip_ws();
        let ks = self.pos;
        if self.b.get(ks) != Some(&b'"') {
            return Err(self.err(ks, "expected a member name in double quotes"));
        }
        let esc = self.string()?;
        let ke = self.pos;
        self.skip_ws();
        if self.b.get(self.pos) != Some(&b':') {
            return Err(self.err(self.pos, "expected ':' after the member name"));
        }
        self.pos += 1;
        let k = (ks as u32, ke as u32, esc);
        self.keys.push(k);
        Ok(k)
    }

    fn check_duplicates(&self, keys: &[(u32, u32, bool)]) -> Result<(), JsonError> {
        let text = |&(s, e, esc): &(u32, u32, bool)| -> Cow<'a, str> {
            let raw = &self.text[s as usize + 1..e as usize - 1];
            if esc {
                Cow::Owned(unescape(raw))
            } else {
                Cow::Borrowed(raw)
            }
        };
        // The names' bytes, quotes off (equal bytes are equal names when neither has escapes).
        let raw = |&(s, e, _): &(u32, u32, bool)| &self.b[s as usize + 1..e as usize - 1];
        let escapes = keys.iter().any(|k| k.2);
        let dup = if !escapes && keys.windows(2).all(|w| raw(&w[0]) < raw(&w[1])) {
            // Strictly ascending names (sorted documents, most generated ones): no duplicate.
            None
        } else if !escapes && keys.len() <= 16 {
            (1..keys.len()).find(|&i| keys[..i].iter().any(|k| raw(k) == raw(&keys[i])))
        } else if keys.len() <= 16 {
            (1..keys.len()).find(|&i| keys[..i].iter().any(|k| text(k) == text(&keys[i])))
        } else {
            let mut seen: HashSet<Cow<str>, crate::json::FastHash> =
                HashSet::with_capacity_and_hasher(keys.len(), Default::default());
            keys.iter().position(|k| !seen.insert(text(k)))
        };
        if let Some(i) = dup {
            let k = &keys[i];
            return Err(self.err(
                k.0 as usize,
                format!(
                    "duplicate member name {:?} in one object (JSON parsers disagree on which one \
                     wins, so ifmatch refuses to pick)",
                    text(k)
                ),
            ));
        }
        Ok(())
    }

    /// Scans a string literal starting at the opening quote; returns whether it has escapes.
    #[inline]
    fn string(&mut self) -> Result<bool, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            self.pos = next_special(self.b, self.pos);
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.err(start, "a string is not closed"));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2
                        }
                        Some(b'u') => {
                            let hex = self.b.get(self.pos + 2..self.pos + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.err(
                                    self.pos,
                                    "invalid \\u escape: four hex digits expected",
                                ));
                            }
                            self.pos += 6;
                        }
                        _ => return Err(self.err(self.pos, "invalid escape in a string")),
                    }
                }
                0..=0x1f => {
                    return Err(self.err(
                        self.pos,
                        "control character inside a string (write it as an escape such as \\n)",
                    ))
                }
                _ => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        let b = self.b;
        let mut p = self.pos;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        match b.get(p) {
            Some(b'0') => {
                p += 1;
                if b.get(p).is_some_and(u8::is_ascii_digit) {
                    return Err(self.err(
                        start,
                        "a number cannot start with 0 (leading zeros are not JSON)",
                    ));
                }
            }
            Some(b'1'..=b'9') => {
                while b.get(p).is_some_and(u8::is_ascii_digit) {
                    p += 1;
                }
            }
            _ => return Err(self.err(start, "invalid number")),
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
            if !b.get(p).is_some_and(u8::is_ascii_digit) {
                return Err(self.err(
                    start,
                    "invalid number: digits expected after the decimal point",
                ));
            }
            while b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !b.get(p).is_some_and(u8::is_ascii_digit) {
                return Err(self.err(start, "invalid number: digits expected in the exponent"));
            }
            while b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
        }
        self.pos = p;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_the_newlines_before_the_offset() {
        for text in [
            "1",
            "\n1\n",
            "{\n  \"a\": [\n    1,\n\n    2\n  ]\n}\n",
            "[\r\n1\r\n]",
        ] {
            let d = Doc::parse(text).unwrap();
            for offset in 0..=text.len() + 2 {
                let counted = text.as_bytes()[..offset.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                assert_eq!(d.line_of(offset), counted, "{text:?} at {offset}");
            }
        }
    }

    #[test]
    fn tape_structure() {
        let d = Doc::parse(
            r#" {"a": [1, 2.50, {"b": null}], "c\n": "x", "big": 12345678901234567890} "#,
        )
        .unwrap();
        let root = d.root();
        assert_eq!(d.kind(root), Kind::Object);
        let members: Vec<_> = d
            .children(root)
            .map(|c| (d.key(c).into_owned(), d.span(c)))
            .collect();
        assert_eq!(members[0], ("a".to_string(), "[1, 2.50, {\"b\": null}]"));
        assert_eq!(members[1], ("c\n".to_string(), "\"x\""));
        assert_eq!(members[2].1, "12345678901234567890");
        let a = d.member(root, "a").unwrap();
        let elems: Vec<_> = d.children(a).map(|c| d.span(c)).collect();
        assert_eq!(elems, vec!["1", "2.50", "{\"b\": null}"]);
        assert_eq!(d.children(d.member(root, "big").unwrap()).count(), 0);
    }

    #[test]
    fn empty_containers_and_scalars() {
        for (t, k) in [
            ("{}", Kind::Object),
            ("[]", Kind::Array),
            ("\"s\"", Kind::String),
            ("-0.5e+3", Kind::Number),
            ("null", Kind::Null),
            ("true", Kind::Bool),
        ] {
            let d = Doc::parse(t).unwrap();
            assert_eq!(d.kind(0), k, "{t}");
            assert_eq!(d.children(0).count(), 0);
            assert_eq!(d.span(0), t);
        }
        let d = Doc::parse("[[], {}, [[]]]").unwrap();
        let spans: Vec<_> = d.children(0).map(|c| d.span(c)).collect();
        assert_eq!(spans, vec!["[]", "{}", "[[]]"]);
    }

    #[test]
    fn errors_name_the_place() {
        let cases = [
            ("", "empty"),
            ("{\"a\": 1,}", "trailing comma"),
            ("[1 2]", "expected ',' or ']'"),
            ("{\"a\" 1}", "expected ':'"),
            ("{\"a\": 01}", "leading zeros"),
            ("\"abc", "not closed"),
            ("[1, 2", "not closed"),
            ("{} x", "after the end"),
            ("\"a\tb\"", "control character"),
            ("\"\\x\"", "invalid escape"),
            ("[tru]", "true, false or null"),
            ("1.", "decimal point"),
            (
                "{\n  \"name\": 1,\n  \"name\": 2\n}",
                "duplicate member name \"name\"",
            ),
            (
                "{\"a\\u0062\": 1, \"ab\": 2}",
                "duplicate member name \"ab\"",
            ),
        ];
        for (t, want) in cases {
            let e = Doc::parse(t).unwrap_err();
            assert!(e.to_string().contains(want), "{t:?}: {e}");
        }
        let e = Doc::parse("{\n  \"name\": 1,\n  \"name\": 2\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(Doc::parse(&deep).unwrap_err().message.contains("nesting"));
    }

    #[test]
    fn duplicates_in_large_objects_are_found_too() {
        let mut s = String::from("{");
        for i in 0..100 {
            s.push_str(&format!("\"k{i}\": {i},"));
        }
        s.push_str("\"k42\": 0}");
        assert!(Doc::parse(&s).unwrap_err().message.contains("\"k42\""));
    }

    #[test]
    fn lone_surrogates_stay_distinct_names() {
        assert_ne!(unescape(r"\ud800"), unescape(r"\udbff"));
        assert_ne!(unescape(r"\udc00"), unescape(r"\ud800"));
        assert_eq!(
            unescape(r"\ud83d\ude00"),
            "\u{1f600}",
            "a pair is one character"
        );
        assert!(Doc::parse(r#"{"\ud800": 1, "\udbff": 2}"#).is_ok());
        assert!(Doc::parse(r#"{"\ud800": 1, "\ud800": 2}"#).is_err());
    }

    #[test]
    fn unescapes() {
        assert_eq!(
            unescape(r#"a\"b\\c\/d\n\u00e9\ud83d\ude00"#),
            "a\"b\\c/d\né😀"
        );
    }

    #[test]
    fn eight_bytes_at_a_time_and_no_special_byte_missed() {
        let first = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(b.len())
        };
        // Every byte value at every offset of a 19-byte run, after every start.
        for v in 0..=255u8 {
            for at in 0..19 {
                let mut b = [b'a'; 19];
                b[at] = v;
                b[(at + 7) % 19] = if v == b'"' { b'\\' } else { b'\xff' };
                for start in 0..19 {
                    let want = start + first(&b[start..]);
                    assert_eq!(next_special(&b, start), want, "{v} at {at} from {start}");
                }
            }
        }
        // Strings longer than eight bytes, with an escape or a raw control character anywhere.
        for at in 0..20 {
            let mut text = "\"".to_string() + &"x".repeat(20) + "\"";
            text.replace_range(at + 1..at + 2, "\\n");
            let d = Doc::parse(&text).unwrap();
            assert_eq!(d.span(0), text);
            assert!(d.node(0).value_escaped);
            let bad = text.replace("\\n", "\n");
            assert!(Doc::parse(&bad).is_err(), "control character at {at}");
        }
    }

    #[test]
    fn whitespace_skipped_eight_spaces_at_a_time_stops_where_it_should() {
        let naive = |b: &[u8], mut i: usize| {
            while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
                i += 1;
            }
            i
        };
        // Every mix of the four whitespace bytes and a stop byte, at lengths around 8 and 16.
        let alphabet = [b' ', b'\n', b'\r', b'\t', b'x'];
        for len in 0..20usize {
            for seed in 0..200u32 {
                let b: Vec<u8> = (0..len)
                    .map(|k| {
                        let h = (seed.wrapping_mul(2654435761) ^ (k as u32 * 40503)) >> 7;
                        alphabet[(h % if seed % 3 == 0 { 2 } else { 5 }) as usize]
                    })
                    .collect();
                for start in 0..=len {
                    assert_eq!(skip_ws(&b, start), naive(&b, start), "{b:?} from {start}");
                }
            }
        }
    }
}
