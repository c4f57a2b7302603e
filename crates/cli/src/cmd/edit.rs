//! `ifmatch edit URL`: kubectl-edit for any JSON resource. Opens `$VISUAL` / `$EDITOR` on the
//! document; when the editor closes, saves conditionally through the save loop (a concurrent
//! change is merged in). When changes collide, the editor opens again on the merged document
//! with each conflict marked (`<<<<<<< mine` … `>>>>>>> theirs`) under a header saying what
//! happened; an invalid edit reopens with the parse error at the top. It loops until the write
//! lands or the user closes the editor without changing the file. Whenever the text does not
//! land, the file holding it stays and stderr names it.

use crate::common::{saved_but_unprinted, write_stdout};
use crate::error::{CliError, Exit};
use crate::guard::Guard;
use ifmatch_engine::json::Doc;
use ifmatch_engine::merge::{self, Fill};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::session::{self, Policy, SaveResult, Version, WriteMethod};
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
    let guard = Guard::for_url(url, client);
    let mut needs_change = false; // after a conflict or an error, an untouched file means "give up"
    loop {
        run_editor(&file)?;
        let raw = std::fs::read_to_string(&file)
            .map_err(|e| CliError::local(format!("cannot read {}: {e}", file.display())))?;
        if raw == shown {
            if needs_change {
                say!(
                    "ifmatch: the file was closed unchanged: nothing was saved. Your text is kept \
                     in {}",
                    file.display()
                );
                return Ok(exit::CONFLICT);
            }
            say!("ifmatch: no changes: nothing was sent");
            let _ = std::fs::remove_file(&file);
            return Ok(exit::OK);
        }
        let mine = strip_header(&raw);
        if let Err(e) = ifmatch_engine::json::check_document(&mine) {
            shown = format!(
                "{HEADER} not saved: this is not valid JSON ({e}).\n{HEADER} Fix it and close the \
                 editor to save, or close it unchanged to give up (the text stays in this file).\n{mine}"
            );
            write_file(&file, &shown)?;
            needs_change = true;
            continue;
        }
        let policy = Policy {
            auto_resubmit: true,
            max_rounds: 5,
            check_around_writes: guard.untrusted(),
        };
        let opts = merge::Options::default();
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
        match report.result {
            SaveResult::Saved { base: saved, .. } => {
                if let Some(v) = &saved.validator {
                    write_stdout(&format!("{}\n", v.text())).map_err(saved_but_unprinted)?;
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
                let _ = std::fs::remove_file(&file);
                return Ok(exit::OK);
            }
            SaveResult::Conflicts {
                current, conflicts, ..
            } => {
                // Reopen on the merge with the conflicts marked; the next pass writes on the
                // server's current version.
                let marked = marked_merge(&report.base.text, &report.mine, &current.text, &opts)
                    .unwrap_or_else(|| report.mine.clone());
                let mut head = format!(
                    "{HEADER} not saved: someone changed this resource on the server, and {} \
                     change(s) collide with yours.\n{HEADER} Each one is a block: \
                     <<<<<<< mine, ||||||| base, =======, >>>>>>> theirs. Keep the lines you want \
                     (or write the value you want), remove the marker lines and close the editor \
                     to save; close it unchanged to give up.\n",
                    conflicts.len()
                );
                for c in &conflicts {
                    head.push_str(&format!("{HEADER}   {} at {}\n", c.kind, c.pointer));
                }
                shown = format!("{head}{marked}");
                write_file(&file, &shown)?;
                base = current;
                needs_change = true;
            }
            SaveResult::Merged { .. } => {
                say!(
                    "ifmatch: the server kept changing: still not saved after {} rounds; nothing \
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
                shown = format!("{HEADER} not saved: {message}\n{mine}");
                write_file(&file, &shown)?;
                needs_change = true;
            }
        }
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

/// The text without ifmatch's header lines at the top.
fn strip_header(text: &str) -> String {
    let mut rest = text;
    while rest.starts_with(HEADER) {
        rest = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
    }
    rest.to_string()
}

/// Where the text being edited lives: the temporary folder, named after the resource (and kept
/// when it does not land).
fn edit_file(url: &str) -> PathBuf {
    let name: String = url
        .rsplit('/')
        .find(|s| !s.is_empty())
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
/// with arguments, `code --wait`, works) and waits for it.
fn run_editor(file: &Path) -> Result<(), CliError> {
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
        .map_err(|e| CliError::local(format!("cannot start the editor ({editor}): {e}")))?;
    if !status.success() {
        return Err(CliError::local(format!(
            "the editor ({editor}) failed ({status}): nothing was saved; your text is in {}",
            file.display()
        )));
    }
    Ok(())
}
