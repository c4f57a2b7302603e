//! The save loop of docs/architecture.md, GUI-free: conditional write → on conflict fetch the
//! current version → three-way merge (base, mine, current) → a clean merge is ready to resubmit
//! with the current validator; collisions go to the user → resubmit → if the server changed again,
//! the next round starts from the newer version (the resolutions already made are part of "mine"
//! by then, so they are kept).
//!
//! Owns: what to do with every write outcome (412, a server's 409 dialect, 428 without a
//! validator, "saved but now different", an ambiguous network failure), and building the request
//! body for each write method (PUT, Merge Patch, JSON Patch, all from base → result).
//!
//! Must never: overwrite a newer server version without the user's decision (a clean merge is
//! resubmitted only when the caller asks for it), or lose the user's text (every outcome carries
//! it, or it was saved).

use crate::client::Client;
use crate::json::Doc;
use crate::merge::{self, patches, Fill, Options};
use crate::outcome::{Doc as Fetched, Outcome};
use crate::precondition::{Precondition, Validator};
use serde::{Deserialize, Serialize};

/// How a connection writes a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum WriteMethod {
    /// The whole document.
    #[default]
    Put,
    /// `PATCH` with `application/merge-patch+json` (RFC 7396).
    MergePatch,
    /// `PATCH` with `application/json-patch+json` (RFC 6902), with `test` operations.
    JsonPatch,
}

/// The version a save starts from: what the tab loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub text: String,
    pub validator: Option<Validator>,
}

/// One conflict as the UI and the CLI show it (values as JSON text; absent is None).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictInfo {
    pub pointer: String,
    pub kind: String,
    pub array_hunk: bool,
    pub base: Option<String>,
    pub mine: Option<String>,
    pub theirs: Option<String>,
    /// The place in words, array elements named by identity where they have one
    /// (`labels › id=Label_7 › color`).
    #[serde(default)]
    pub label: String,
    /// 1-based first and last line of each side's value in that side's text (base, mine,
    /// theirs), for scrolling the panes to it; None where that side has it absent.
    #[serde(default)]
    pub lines: SideLines,
}

/// Where one conflict is in each side's text (1-based first and last line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SideLines {
    pub base: Option<(usize, usize)>,
    pub mine: Option<(usize, usize)>,
    pub theirs: Option<(usize, usize)>,
}

/// The lines of tape nodes `first..=last` (a member's key line included).
fn node_lines(doc: &Doc, nodes: Option<(usize, usize)>) -> Option<(usize, usize)> {
    let (first, last) = nodes?;
    let a = doc.node(first);
    let from = if a.key_end > 0 { a.key_start } else { a.start } as usize;
    let to = doc.node(last).end as usize;
    Some((doc.line_of(from) + 1, doc.line_of(to.saturating_sub(1)) + 1))
}

/// What one save round ended in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SaveResult {
    /// Written; the new base.
    Saved { base: Base, outcome: Outcome },
    /// The resource changed on the server; merging kept every change of both sides without a
    /// collision. Resubmitting `merged` with `current`'s validator finishes the save.
    Merged {
        current: Base,
        merged: String,
        stats: merge::Stats,
        positional_arrays: Vec<String>,
    },
    /// The resource changed on the server and some changes collide: the user decides.
    /// `merged` holds base's value at each conflict (the conflict view's starting Result).
    Conflicts {
        current: Base,
        merged: String,
        conflicts: Vec<ConflictInfo>,
        stats: merge::Stats,
        positional_arrays: Vec<String>,
    },
    /// Anything else: nothing was overwritten; the user's text stays a draft.
    Failed { outcome: Outcome, message: String },
    /// The user's text is not valid JSON: nothing was sent.
    Invalid { message: String },
}

/// The body and content type of a write from `base` to `result`.
pub fn request_body(
    method: WriteMethod,
    base: &str,
    result: &str,
) -> Result<(String, &'static str), String> {
    match method {
        WriteMethod::Put => Ok((result.to_string(), "application/json")),
        WriteMethod::MergePatch | WriteMethod::JsonPatch => {
            let b =
                Doc::parse(base).map_err(|e| format!("the base version is not valid JSON: {e}"))?;
            let r =
                Doc::parse(result).map_err(|e| format!("the document is not valid JSON: {e}"))?;
            if method == WriteMethod::JsonPatch {
                Ok((patches::json_patch(&b, &r), "application/json-patch+json"))
            } else {
                let mp = patches::merge_patch(&b, &r).map_err(|e| e.to_string())?;
                Ok((
                    mp.text.unwrap_or_else(|| "{}\n".into()),
                    "application/merge-patch+json",
                ))
            }
        }
    }
}

/// One save round: writes `mine` conditionally on `base`; on a conflict, fetches and merges.
pub async fn save_round(
    client: &Client,
    url: &str,
    base: &Base,
    mine: &str,
    method: WriteMethod,
    opts: &Options,
) -> SaveResult {
    if let Err(e) = Doc::parse(mine) {
        return SaveResult::Invalid {
            message: format!(
                "The document is not valid JSON ({e}); it was not sent. Fix it and save again."
            ),
        };
    }
    let pre = match &base.validator {
        Some(v) => v.precondition(),
        // No validator (the server gives none, or a 428 told us to get one): learn it first.
        None => match client.get_fresh(url).await {
            Outcome::Fetched { doc, .. } => {
                let current = base_of(doc);
                if !crate::client::same_json(&current.text, &base.text) {
                    return merge_with(base, mine, current, opts);
                }
                match &current.validator {
                    Some(v) => v.precondition(),
                    None => Precondition::None,
                }
            }
            other => return failed(other),
        },
    };
    let (body, content_type) = match request_body(method, &base.text, mine) {
        Ok(b) => b,
        Err(message) => return SaveResult::Invalid { message },
    };
    let out = match method {
        WriteMethod::Put => client.put(url, &body, pre).await,
        _ => {
            client
                .patch(url, &body, content_type, pre, Some(mine))
                .await
        }
    };
    match out {
        Outcome::Saved { ref doc, .. } => {
            let new_base = match doc {
                Some(d) => base_of(d.clone()),
                None => Base {
                    text: mine.to_string(),
                    validator: None,
                },
            };
            SaveResult::Saved {
                base: new_base,
                outcome: out,
            }
        }
        Outcome::SavedThenChanged { current, .. } => merge_with(base, mine, base_of(current), opts),
        Outcome::Conflict { .. } => refetch_and_merge(client, url, base, mine, opts, None).await,
        Outcome::PreconditionRequired if base.validator.is_none() => SaveResult::Failed {
            message:
                "The server requires a validator and gives none for this resource (no ETag, no \
                      Last-Modified), so ifmatch cannot write it safely. Nothing was sent twice; \
                      your text is kept."
                    .into(),
            outcome: Outcome::PreconditionRequired,
        },
        Outcome::NetworkAfterSend { .. } => {
            // Did it land? Look before deciding (ARCHITECTURE: ambiguous failures).
            refetch_and_merge(client, url, base, mine, opts, Some(out)).await
        }
        other => failed(other),
    }
}

fn failed(outcome: Outcome) -> SaveResult {
    SaveResult::Failed {
        message: format!("{} Your text is kept.", outcome.message()),
        outcome,
    }
}

fn base_of(d: Fetched) -> Base {
    Base {
        text: d.text,
        validator: d.validator,
    }
}

async fn refetch_and_merge(
    client: &Client,
    url: &str,
    base: &Base,
    mine: &str,
    opts: &Options,
    ambiguous: Option<Outcome>,
) -> SaveResult {
    let mut fetched = client.get_fresh(url).await;
    if matches!(&fetched, Outcome::InvalidResponse { problem, .. } if problem == "not_json") {
        // A server may serve a half-written file during someone else's write: look again.
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        fetched = client.get_fresh(url).await;
    }
    let current = match fetched {
        Outcome::Fetched { doc, .. } => base_of(doc),
        other => return failed(other),
    };
    if let Some(amb) = ambiguous {
        if crate::client::same_json(&current.text, mine) {
            return SaveResult::Saved {
                base: current,
                outcome: amb,
            };
        }
        if current.validator.is_some() && current.validator == base.validator {
            // It did not land and nothing changed: the same conditional write is safe to retry,
            // and the caller does so with this unchanged base.
            return merge_with(base, mine, current, opts);
        }
    }
    merge_with(base, mine, current, opts)
}

/// Merges base → mine with base → current.
pub fn merge_with(base: &Base, mine: &str, current: Base, opts: &Options) -> SaveResult {
    let parsed = (
        Doc::parse(&base.text),
        Doc::parse(mine),
        Doc::parse(&current.text),
    );
    let (b, m, t) = match parsed {
        (Ok(b), Ok(m), Ok(t)) => (b, m, t),
        (Err(e), _, _) => {
            return SaveResult::Invalid {
                message: format!("The version this edit started from is not valid JSON ({e})."),
            }
        }
        (_, Err(e), _) => {
            return SaveResult::Invalid {
                message: format!("The document is not valid JSON ({e}); it was not sent."),
            }
        }
        (_, _, Err(e)) => {
            return SaveResult::Failed {
                outcome: Outcome::InvalidResponse {
                    problem: "not_json".into(),
                    detail: e.to_string(),
                },
                message: format!("The server's current version is not valid JSON ({e}), so it cannot be merged. Your text is kept."),
            }
        }
    };
    let result = merge::three_way(&b, &m, &t, opts);
    let merged = result
        .render(Fill::Base)
        .expect("a base fill always renders");
    let stats = result.stats;
    let positional_arrays = result.positional_arrays.clone();
    if result.is_clean() {
        return SaveResult::Merged {
            merged,
            stats,
            positional_arrays,
            current: current.clone(),
        };
    }
    let conflicts = result
        .conflicts
        .iter()
        .map(|c| {
            let side = |v: &Vec<&str>| -> Option<String> {
                if c.hunk {
                    Some(
                        crate::json::print::pretty(&format!("[{}]", v.join(",")))
                            .trim_end()
                            .to_string(),
                    )
                } else {
                    v.first()
                        .map(|s| crate::json::print::pretty(s).trim_end().to_string())
                }
            };
            ConflictInfo {
                pointer: c.pointer.clone(),
                kind: c.kind.as_str().to_string(),
                array_hunk: c.hunk,
                base: side(&c.base),
                mine: side(&c.mine),
                theirs: side(&c.theirs),
                label: crate::round::label(&merged, &c.pointer, c.hunk.then_some(c.base.len())),
                lines: SideLines {
                    base: node_lines(&b, c.nodes[0]),
                    mine: node_lines(&m, c.nodes[1]),
                    theirs: node_lines(&t, c.nodes[2]),
                },
            }
        })
        .collect();
    SaveResult::Conflicts {
        current: current.clone(),
        merged,
        conflicts,
        stats,
        positional_arrays,
    }
}

/// Saves until done: clean merges are resubmitted automatically (at most `max_rounds` rounds);
/// stops at the first round whose merge needs the user. For scripts and for connections that
/// opted into automatic resubmission.
pub async fn save_until_done(
    client: &Client,
    url: &str,
    mut base: Base,
    mut mine: String,
    method: WriteMethod,
    opts: &Options,
    max_rounds: usize,
) -> (SaveResult, usize) {
    let mut rounds = 0;
    loop {
        rounds += 1;
        let r = save_round(client, url, &base, &mine, method, opts).await;
        match r {
            SaveResult::Merged {
                current, merged, ..
            } if rounds < max_rounds => {
                base = current;
                mine = merged;
            }
            other => return (other, rounds),
        }
    }
}
