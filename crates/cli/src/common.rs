//! What several commands share: reading the JSON to send, the precondition of a write, reporting
//! an outcome, printing a new validator, and the credentials from the environment.

use crate::error::CliError;
use ifmatch_engine::outcome::exit;
use ifmatch_engine::{Client, EntityTag, Outcome, Precondition};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The document to send, from FILE or stdin; it must be valid JSON (nothing is sent otherwise).
pub fn read_json_input(file: &Option<PathBuf>) -> Result<String, CliError> {
    let (text, name) = match file {
        Some(p) if p.as_os_str() != "-" => match std::fs::read_to_string(p) {
            Ok(t) => (t, p.display().to_string()),
            Err(e) => return Err(CliError::local(format!("cannot read {}: {e}", p.display()))),
        },
        _ => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                return Err(CliError::local(format!("cannot read stdin: {e}")));
            }
            (s, "stdin".to_string())
        }
    };
    // The engine's parser: it names line and column, refuses duplicate member names (servers
    // disagree on which wins) and lone surrogate escapes.
    if let Err(e) = ifmatch_engine::json::check_document(&text) {
        return Err(CliError::local(format!(
            "{name} is not valid JSON ({e}); nothing was sent"
        )));
    }
    Ok(text)
}

/// `--if-match` as an entity tag.
pub fn parse_tag(s: &str) -> Result<EntityTag, CliError> {
    EntityTag::parse(s).map_err(|e| CliError::usage(format!("--if-match: {e}")))
}

/// The precondition for a write: explicit, forced off, or from a fresh GET. `Ok(Err(outcome))`
/// when that GET did not answer with the resource.
pub async fn precondition_for(
    client: &Client,
    url: &str,
    if_match: &Option<String>,
    force: bool,
) -> Result<Result<Precondition, Outcome>, CliError> {
    Ok(precondition_and_version(client, url, if_match, force)
        .await?
        .map(|(p, _)| p))
}

/// `precondition_for`, with the document the fresh GET read when it read one (the version the
/// write is made over: what a read after the write is judged against).
pub async fn precondition_and_version(
    client: &Client,
    url: &str,
    if_match: &Option<String>,
    force: bool,
) -> Result<Result<(Precondition, Option<String>), Outcome>, CliError> {
    if force {
        return Ok(Ok((Precondition::None, None)));
    }
    if let Some(t) = if_match {
        return Ok(Ok((Precondition::IfMatch(parse_tag(t)?), None)));
    }
    match client.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => match doc.validator {
            Some(v) => Ok(Ok((v.precondition(), Some(doc.text)))),
            None => Err(CliError::new(
                exit::HTTP_ERROR,
                "the server gives this resource no validator (no ETag, no Last-Modified), so the \
                 write cannot be made conditional; use --force to overwrite it anyway",
            )),
        },
        Outcome::NotFound | Outcome::Gone => Err(CliError::new(
            exit::HTTP_ERROR,
            "there is no resource at this URL to replace; use `ifmatch create` to create it",
        )),
        other => Ok(Err(other)),
    }
}

/// Prints an outcome's warnings and, unless it succeeded, its sentence; returns its exit code.
pub fn report(out: &Outcome) -> i32 {
    let doc = match out {
        Outcome::Fetched { doc, .. } => Some(doc),
        Outcome::Saved { doc, .. } => doc.as_ref(),
        _ => None,
    };
    if let Some(d) = doc {
        for w in &d.warnings {
            say!("ifmatch: warning: {w}");
        }
    }
    if !out.is_success() {
        say!("ifmatch: {}", out.message());
    }
    out.exit_code()
}

/// After a successful write, the new validator goes to stdout (scripts chain writes with it).
pub fn print_saved(out: &Outcome) -> Result<(), CliError> {
    if let Outcome::Saved { doc: Some(d), .. } = out {
        if let Some(v) = &d.validator {
            print_validator(&v.text())?;
        }
    }
    Ok(())
}

/// Prints a write's new validator on stdout, for the next `--if-match` — unless it holds the
/// connection's credential (a server that builds its ETag from the request): then it is not
/// printed, and stderr says why.
pub fn print_validator(text: &str) -> Result<(), CliError> {
    if crate::holds_secret(text) {
        say!(
            "ifmatch: the server's new validator holds your credential (it was built from the \
             request), so it is not printed; `ifmatch save` and `put` without --if-match read \
             the validator themselves."
        );
        return Ok(());
    }
    write_stdout(&format!("{text}\n")).map_err(saved_but_unprinted)
}

/// The write landed, but the new validator could not reach stdout: say both.
pub fn saved_but_unprinted(e: std::io::Error) -> CliError {
    CliError::local(format!(
        "saved on the server, but the output could not be written ({e}): read the resource \
         again (ifmatch get -i) for its new validator"
    ))
}

/// Writes `text` to stdout and flushes it.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut so = std::io::stdout().lock();
    so.write_all(text.as_bytes()).and_then(|_| so.flush())
}

/// Writes `text` to stdout; a failure is the command's failure.
pub fn print(text: &str) -> Result<(), CliError> {
    write_stdout(text).map_err(CliError::output)
}

/// A JSON pointer (or a member name) as it appears in a message: as it is when it is plain
/// (letters, digits, `/_-.~@$:+`), else as a JSON string, with every control, line-breaking and
/// invisible formatting character escaped, so that a message stays one line, a list of them stays
/// unambiguous, and the name can be copied back into JSON. The empty pointer is `root` ("the
/// top-level array", "the whole document").
pub fn pointer_words(pointer: &str, root: &str) -> String {
    if pointer.is_empty() {
        return root.to_string();
    }
    let plain = |c: char| c.is_alphanumeric() && !hidden(c) || "/_-.~@$:+".contains(c);
    if pointer.chars().all(plain) {
        return pointer.to_string();
    }
    let mut out = String::with_capacity(pointer.len() + 2);
    out.push('"');
    for c in pointer.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that do not show as themselves: controls (C0, DEL, C1), line and paragraph
/// separators, zero-width and direction marks, the byte order mark.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

#[cfg(test)]
mod tests {
    use super::pointer_words;

    #[test]
    fn pointers_in_messages_stay_one_unambiguous_line() {
        assert_eq!(
            pointer_words("", "the top-level array"),
            "the top-level array"
        );
        assert_eq!(pointer_words("/items/0/tags", "-"), "/items/0/tags");
        assert_eq!(pointer_words("/café/日本", "-"), "/café/日本");
        assert_eq!(pointer_words("/a\nb", "-"), "\"/a\\nb\"");
        assert_eq!(pointer_words("/a, /b", "-"), "\"/a, /b\"");
        assert_eq!(
            pointer_words("/say \"hi\"\\", "-"),
            "\"/say \\\"hi\\\"\\\\\""
        );
        assert_eq!(
            pointer_words("/x\u{2028}y\u{202e}z\u{7}", "-"),
            "\"/x\\u2028y\\u202ez\\u0007\""
        );
        assert_eq!(pointer_words("/#", "-"), "\"/#\"");
        // Every quoted form is a JSON string naming the pointer.
        for p in ["/a\nb", "/\u{0}\u{85}\u{feff}", "/\"", "/ // ifmatch: x"] {
            let q = pointer_words(p, "-");
            assert!(!q.contains('\n') && !q.contains('\u{85}'));
            assert_eq!(serde_json::from_str::<String>(&q).unwrap(), p);
        }
    }
}
