//! `ifmatch edit URL`: kubectl-edit for any JSON resource. Opens `$VISUAL` / `$EDITOR` on the
//! document; when the editor closes, saves conditionally through the save loop (a concurrent
//! change is merged in). When changes collide, the editor opens again on the merged document
//! with each conflict marked (`<<<<<<< mine` … `>>>>>>> theirs`) under a header saying what
//! happened; an invalid edit reopens with the parse error at the top. It loops until the write
//! lands or the user closes the editor without changing the file. Whenever the text does not
//! land, the file holding it stays and stderr names it.
//!
//! Owns: the header lines (`// ifmatch: …`, one line each whatever a member name or a message
//! holds: pointers are written as JSON strings when not plain, every line break in a message
//! starts a new header line) and what counts as a change: an edit that changes nothing the JSON
//! means (a final newline, spacing, line ends, a byte order mark, `1.50` as `1.5`, member order)
//! sends nothing.
//!
//! Must never: send a write for an editor that failed, emptied, removed or garbled the file, nor
//! lose the text it was given (an emptied or removed file gets it back, and stderr names it), nor
//! loop forever on an editor that writes the same thing every time.

use crate::common::pointer_words;
use crate::error::{CliError, Exit};
use crate::guard::Guard;
use ifmatch_engine::check::WriteKind;
use ifmatch_engine::json::print::compact;
use ifmatch_engine::json::same_text;
use ifmatch_engine::json::Doc;
use ifmatch_engine::merge::{self, Fill};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::session::{self, SaveResult, Version, WriteMethod};
use ifmatch_engine::trust::Ask;
use ifmatch_engine::{Client, Outcome};
use std::path::{Path, PathBuf};

/// Lines starting with this at the top of the file are ifmatch's and are dropped before parsing.
const HEADER: &str = "// ifmatch:";

pub async fn run(client: &Client, url: &str) -> Exit {
    let mut base = match client.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => Version {
            text: doc.text,
            validator: doc.validator,
        },
        Outcome::NotFound | Outcome::Gone => {
            return Err(CliError::new(
                exit::HTTP_ERROR,
                "there is no resource at this URL to edit; use `ifmatch create` to make it",
            ))
        }
        other => {
            say!("ifmatch: {}", other.message());
            return Ok(other.exit_code());
        }
    };
    let file = edit_file(url);
    let mut shown = base.text.clone();
    write_file(&file, &shown)?;
    let guard = Guard::for_ask(
        url,
        client,
        Ask {
            kind: WriteKind::Put,
            auto_resubmit: true,
            max_rounds: 5,
            decline_lock: false,
        },
    );
    let mut needs_change = false; // after a conflict or an error, an untouched file means "give up"
    let mut wrote = false; // a write was sent (and did not land): "nothing more was sent"
    let mut from_server = false; // `base` is the server's version met at a conflict
    loop {
        let started = std::time::Instant::now();
        let ran = run_editor(&file);
        let nothing = if wrote {
            "not saved, and nothing more was sent"
        } else {
            "nothing was sent"
        };
        let raw = match read_back(&file, &shown, nothing) {
            Ok(raw) => raw,
            // Said with the editor's own failure when it has one.
            Err(e) => {
                return Err(match ran {
                    Err(why) => CliError::local(format!("{why}, and {}", e.message)),
                    Ok(()) => e,
                })
            }
        };
        if let Err(why) = ran {
            return Err(CliError::local(format!(
                "{why}: {nothing}; your text is in {}",
                file.display()
            )));
        }
        if raw.trim().is_empty() {
            // An editor that empties the file (or an aborted save): the text it was given goes
            // back, so nothing typed before is lost.
            write_file(&file, &shown)?;
            return Err(CliError::local(format!(
                "the editor left the file empty: {nothing}; the text it was given is back in {}",
                file.display()
            )));
        }
        let mine = strip_header(&raw);
        if needs_change && same_lines(&mine, &strip_header(&shown)) {
            say!(
                "ifmatch: the file was closed unchanged: nothing was saved. Your text is kept \
                 in {}",
                file.display()
            );
            return Ok(exit::CONFLICT);
        }
        if let Err(e) = ifmatch_engine::json::check_document(&mine) {
            shown = format!(
                "{}{}{mine}",
                header(&format!("not saved: this is not valid JSON ({e}).")),
                header(
                    "Fix it and close the editor to save, or close it unchanged to give up (the \
                     text stays in this file)."
                )
            );
            write_file(&file, &shown)?;
            needs_change = true;
            continue;
        }
        if raw == shown || same_text(&mine, &base.text) {
            // Nothing the JSON means changed (a final newline, spacing, line ends, `1.50` as
            // `1.5`, member order): there is nothing to write.
            let what = if from_server {
                "the server already holds this text: nothing more was sent"
            } else if wrote {
                "no change: nothing more was sent"
            } else {
                "no change: nothing was sent"
            };
            if raw == shown {
                let quick = started.elapsed() < std::time::Duration::from_secs(1);
                say!(
                    "ifmatch: {what}{}",
                    if quick {
                        " (the editor returned at once without changing the file; if it opens \
                         in the background, make it wait, e.g. EDITOR=\"code --wait\")"
                    } else {
                        ""
                    }
                );
            } else if compact(&mine) == compact(&base.text) {
                say!("ifmatch: {what} (only spacing or line ends differ)");
            } else {
                // Spelling the user may have meant: the text stays.
                say!(
                    "ifmatch: {what} (the edit changes only how numbers are spelled or the order \
                     of members, nothing the JSON means); your text is kept in {}",
                    file.display()
                );
                return Ok(exit::OK);
            }
            let _ = std::fs::remove_file(&file);
            return Ok(exit::OK);
        }
        let policy = guard.decision().policy;
        let opts = merge::Options::default();
        client.use_server_lock(guard.decision().take_lock);
        let report = session::save(
            client,
            url,
            base.clone(),
            mine.clone(),
            WriteMethod::Put,
            &opts,
            policy,
        )
        .await;
        wrote = wrote || sent_a_write(client);
        match report.result {
            SaveResult::Saved { base: saved, .. } => {
                // Saved: the file's text is on the server, whatever happens to the output.
                let _ = std::fs::remove_file(&file);
                if let Some(v) = &saved.validator {
                    crate::common::print_validator(&v.text())?;
                }
                for note in &report.notes {
                    say!("ifmatch: {note}");
                }
                if report.merged_from_theirs > 0 {
                    say!(
                        "ifmatch: saved: {} concurrent change(s) on the server were merged in",
                        report.merged_from_theirs
                    );
                }
                guard.warn();
                return Ok(exit::OK);
            }
            SaveResult::Conflicts { round } => {
                let (current, conflicts) = (round.current, round.conflicts);
                // Reopen on the merge with the conflicts marked; the next pass writes on the
                // server's current version. Every header line is one line whatever a member
                // name holds: pointers are written as JSON strings when they are not plain.
                let marked = marked_merge(&report.base.text, &report.mine, &current.text, &opts)
                    .unwrap_or_else(|| report.mine.clone());
                let mut head = header(&format!(
                    "not saved: someone changed this resource on the server, and {} change(s) \
                     collide with yours.",
                    conflicts.len()
                ));
                head.push_str(&header(
                    "Each one is a block: <<<<<<< mine, ||||||| base, =======, >>>>>>> theirs. \
                     Keep the lines you want (or write the value you want), remove the marker \
                     lines and close the editor to save; close it unchanged to give up.",
                ));
                for c in &conflicts {
                    head.push_str(&header(&format!(
                        "  {} at {}",
                        c.kind,
                        pointer_words(&c.pointer, "the whole document")
                    )));
                }
                shown = format!("{head}{marked}");
                write_file(&file, &shown)?;
                base = current;
                from_server = true;
                needs_change = true;
            }
            SaveResult::Merged { .. } => {
                say!(
                    "ifmatch: the server kept changing: still not saved after {} round(s); nothing \
                     was overwritten. Your text is kept in {}",
                    report.rounds,
                    file.display()
                );
                return Ok(exit::CONFLICT);
            }
            SaveResult::Failed { outcome, message } => {
                say!("ifmatch: {message} It is in {}", file.display());
                return Ok(outcome.exit_code());
            }
            SaveResult::Invalid { message } => {
                shown = format!("{}{mine}", header(&format!("not saved: {message}")));
                write_file(&file, &shown)?;
                needs_change = true;
            }
        }
    }
}

/// `text` as ifmatch's header lines: each of its lines (whatever breaks them) prefixed, so a
/// message quoting a name with a line break in it cannot end the header early.
fn header(text: &str) -> String {
    text.split([
        '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
    ])
    .map(|line| format!("{HEADER} {line}\n"))
    .collect()
}

/// Whether two texts hold the same lines, ignoring what editors change on their own: a byte order
/// mark, CRLF line ends, spaces at line ends and blank lines at the end.
fn same_lines(a: &str, b: &str) -> bool {
    let lines = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .trim_start_matches('\u{feff}')
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        while v.last().is_some_and(|l| l.is_empty()) {
            v.pop();
        }
        v
    };
    lines(a) == lines(b)
}

/// Whether this client has sent a write (a request other than a read that left the machine).
fn sent_a_write(client: &Client) -> bool {
    client.trail().entries().iter().any(|e| {
        !matches!(e.method.as_str(), "GET" | "HEAD")
            && !e.note.as_deref().is_some_and(|n| n.starts_with("not sent"))
    })
}

/// What the editor left in `file`. When the file is gone, the text the editor was given is
/// written back first, so the error can say where it is.
fn read_back(file: &Path, shown: &str, nothing: &str) -> Result<String, CliError> {
    match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            CliError::local(format!(
                "the editor left text that is not UTF-8 (JSON must be): {nothing}; the text is \
                 left as it is in {}",
                file.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_file(file, shown)?;
            Err(CliError::local(format!(
                "the editor removed the file: {nothing}; the text it was given is back in {}",
                file.display()
            )))
        }
        Err(e) => Err(CliError::local(format!(
            "cannot read {} ({e}): {nothing}; whatever the editor wrote is still there",
            file.display()
        ))),
    }
}

/// The merge of base → mine and base → theirs with each conflict as marker lines.
fn marked_merge(base: &str, mine: &str, theirs: &str, opts: &merge::Options) -> Option<String> {
    let (b, m, t) = (
        Doc::parse(base).ok()?,
        Doc::parse(mine).ok()?,
        Doc::parse(theirs).ok()?,
    );
    merge::three_way(&b, &m, &t, opts)
        .render(Fill::Markers)
        .ok()
}

/// The text without ifmatch's header lines at the top (and without a byte order mark an editor
/// may have added: JSON texts have none).
fn strip_header(text: &str) -> String {
    let mut rest = text.trim_start_matches('\u{feff}');
    while rest.starts_with(HEADER) {
        rest = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
    }
    rest.to_string()
}

/// Where the text being edited lives: the temporary folder, named after the resource's last
/// path segment (and kept when it does not land). Never after its query, fragment or user
/// info (`?api_key=…` would put a credential in a file name), nor a segment that holds the
/// connection's credential.
fn edit_file(url: &str) -> PathBuf {
    let path = url
        .parse::<ifmatch_engine::Url>()
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let name: String = path
        .rsplit('/')
        .find(|s| !s.is_empty() && !crate::holds_secret(s))
        .unwrap_or("resource")
        .trim_end_matches(".json")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    std::env::temp_dir().join(format!("ifmatch-edit-{name}-{}.json", std::process::id()))
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    ifmatch_store::files::write_private(path, text.as_bytes())
        .map_err(|e| CliError::local(format!("cannot write {}: {e}", path.display())))
}

/// Runs `$VISUAL`, else `$EDITOR`, else `vi`, on `file` (through the shell, so an editor named
/// with arguments, `code --wait`, works) and waits for it. Err: why it failed, in words.
fn run_editor(file: &Path) -> Result<(), String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file)
        .status()
        .map_err(|e| format!("cannot start the editor ({editor}): {e}"))?;
    if !status.success() {
        return Err(format!("the editor ({editor}) failed ({status})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_dropped_whatever_a_message_holds() {
        let doc = "{\"a\nb\": 1}\n";
        for message in [
            "duplicate member name \"a\nb\"",
            "line one\r\nline two\u{2028}three\u{85}four",
            "// ifmatch: looks like a header",
            "",
        ] {
            let text = format!("{}{doc}", header(message));
            assert!(text
                .lines()
                .take_while(|l| !l.starts_with('{'))
                .all(|l| l.starts_with(HEADER)));
            assert_eq!(strip_header(&text), doc, "{message:?}");
        }
        assert_eq!(strip_header(&format!("\u{feff}{}{doc}", header("x"))), doc);
    }

    #[test]
    fn what_editors_change_on_their_own_is_no_change() {
        assert!(same_lines("a\nb", "a\r\nb  \n\n"));
        assert!(same_lines("\u{feff}a", "a\n"));
        assert!(!same_lines("a\nb", "a\n b"));
        assert!(!same_lines("a", "b"));
    }
}
