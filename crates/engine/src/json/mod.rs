//! JSON as text: a validating tape over borrowed text (`tape`), the canonical pretty printer
//! (`print`), and value comparison that never loses a number's or a string's spelling.

pub mod print;
pub mod tape;

pub use tape::{Doc, JsonError, Kind};

/// RFC 6901: escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn pointer_token(key: &str, out: &mut String) {
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// RFC 6901: splits a pointer into unescaped tokens ("" is the whole document).
pub fn pointer_tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(vec![]);
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}
