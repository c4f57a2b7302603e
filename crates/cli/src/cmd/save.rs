//! `ifmatch save`: the safe save loop for scripts, the way the desktop app saves: a conditional
//! write; on a conflict, fetch, merge three ways, and resubmit when nothing collides (as many
//! rounds as `--rounds`); exit 3 with the conflicts as JSON when something does.

use crate::args::MethodArg;
use crate::common::{parse_tag, print, read_json_input};
use crate::error::{CliError, Exit};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::session::{self, SaveResult, Version, WriteMethod};
use ifmatch_engine::trust::Ask;
use ifmatch_engine::{Client, Validator};
use std::path::PathBuf;

/// What `--watch SECS` / `--no-watch` asked for.
#[derive(Debug, Clone, Copy)]
pub enum Watch {
    /// Neither: watch where the server is not known to be atomic (`Decision::watch_after`).
    Default,
    /// `--watch SECS`.
    Secs(f64),
    /// `--no-watch`.
    Off,
}

impl Watch {
    /// From the two flags (clap keeps them apart).
    pub fn from_flags(secs: Option<f64>, off: bool) -> Result<Watch, CliError> {
        Ok(match (secs, off) {
            (_, true) => Watch::Off,
            (Some(s), false) => Watch::Secs(crate::watch::checked_secs(s)?),
            (None, false) => Watch::Default,
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &Client,
    url: &str,
    file: &Option<PathBuf>,
    base_path: &PathBuf,
    if_match: Option<&str>,
    method: MethodArg,
    (rounds, watch, server_lock): (usize, Watch, bool),
    id_keys: &[String],
) -> Exit {
    let mine = read_json_input(file)?;
    let base_text = std::fs::read_to_string(base_path)
        .map_err(|e| CliError::local(format!("cannot read {}: {e}", base_path.display())))?;
    let base = Version {
        text: base_text,
        validator: match if_match {
            Some(t) => Some(Validator::Etag { tag: parse_tag(t)? }),
            None => None,
        },
    };
    let method = match method {
        MethodArg::Put => WriteMethod::Put,
        MethodArg::MergePatch => WriteMethod::MergePatch,
        MethodArg::JsonPatch => WriteMethod::JsonPatch,
    };
    let mut opts = ifmatch_engine::merge::Options::default();
    if !id_keys.is_empty() {
        opts.id_keys = id_keys.to_vec();
    }
    let guard = crate::guard::Guard::for_ask(
        url,
        client,
        Ask {
            kind: method.into(),
            auto_resubmit: true,
            max_rounds: rounds,
            decline_lock: !server_lock,
        },
    );
    let decision = guard.decision();
    // The server's own write lock, where the check found one it enforces.
    client.use_server_lock(decision.take_lock);
    let report = session::save(client, url, base, mine, method, &opts, decision.policy).await;
    let used = report.rounds;
    // Once a write of this save was acknowledged, "nothing was overwritten" is not known: that
    // write landed, and may have replaced another writer's change before it was replaced itself.
    let landed = report.acknowledged > 0;
    let nothing_overwritten = if landed {
        "an earlier write of this save was acknowledged by the server and then replaced, so it \
         may have replaced another writer's change in between: read the resource before saving \
         again"
    } else {
        "nothing was overwritten"
    };
    match report.result {
        SaveResult::Saved { base, .. } => {
            if let Some(v) = &base.validator {
                crate::common::print_validator(&v.text())?;
            }
            // The watch: asked for, or by default where the server is not known to make its
            // check atomic with its write (and the write was not made under its lock).
            let watch = match watch {
                Watch::Secs(s) => Some(s),
                Watch::Off => None,
                Watch::Default => decision
                    .watch_after(report.under_lock)
                    .map(|d| d.as_secs_f64()),
            };
            if let Some(secs) = watch {
                if let Err(code) =
                    crate::watch::confirm(client, url, &report.base.text, &report.mine, secs, &opts)
                        .await
                {
                    return Ok(code);
                }
            }
            if report.under_lock {
                say!(
                    "ifmatch: written under the server's write lock: read, compared and written \
                     while every writer that honours the server's locks was held off"
                );
            }
            for note in &report.notes {
                say!("ifmatch: {note}");
            }
            guard.warn();
            if !report.notes.is_empty() {
                // Said by the notes.
            } else if used > 1 && report.merged_from_theirs > 0 {
                say!(
                    "ifmatch: saved after {used} rounds: {} concurrent change(s) on the server \
                     were merged in",
                    report.merged_from_theirs
                );
            } else if used > 1 && report.resent > 0 {
                say!(
                    "ifmatch: saved after {used} rounds: an earlier attempt did not land (nothing \
                     had changed on the server), so the same write was sent again"
                );
            } else if used > 1 {
                say!(
                    "ifmatch: saved after {used} rounds: the first write was refused or the \
                     server's version had moved on, with nothing of it to merge into yours, so \
                     it was sent again with the server's current validator"
                );
            }
            Ok(exit::OK)
        }
        SaveResult::Conflicts { round } => {
            let (current, merged, conflicts) = (round.current, round.start, round.conflicts);
            let report = serde_json::json!({
                "current_validator": current
                    .validator
                    .as_ref()
                    .map(|v| v.text())
                    .filter(|t| !crate::holds_secret(t)),
                "current": current.text,
                "merged": merged,
                "conflicts": conflicts,
            });
            print(&format!(
                "{}\n",
                serde_json::to_string_pretty(&report).expect("serialises")
            ))?;
            say!(
                "ifmatch: the resource changed on the server and {} change(s) collide with yours; {nothing_overwritten}. \
                 Resolve them in \"merged\" (it shows the base value at each conflict) and save again with \
                 --base set to \"current\" and --if-match set to \"current_validator\".",
                conflicts.len()
            );
            for c in &conflicts {
                say!("  {} {}", c.kind, c.pointer);
            }
            Ok(exit::CONFLICT)
        }
        SaveResult::Merged { .. } => {
            if landed {
                say!(
                    "ifmatch: the server kept changing: not saved after {used} round(s). {} of this \
                     save's writes were acknowledged and then replaced by other writers' changes, \
                     so your change was written and then replaced, and may have replaced someone \
                     else's in between. Read the resource (ifmatch get) before saving again.",
                    report.acknowledged
                );
            } else {
                say!("ifmatch: the server kept changing: still not saved after {used} round(s); nothing was overwritten. Try again.");
            }
            Ok(exit::CONFLICT)
        }
        SaveResult::Failed { outcome, message } => {
            let message = if landed && !outcome.is_success() {
                message.replace("Nothing was overwritten", "An earlier write of this save was acknowledged and then replaced (it may have replaced another writer's change)")
            } else {
                message
            };
            say!("ifmatch: {message}");
            Ok(outcome.exit_code())
        }
        SaveResult::Invalid { message } => Err(CliError::local(message)),
    }
}
