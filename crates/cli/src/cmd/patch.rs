//! `ifmatch patch`: a JSON Merge Patch (RFC 7396), conditional like `put`. On a server not known
//! to refuse stale writes, the resource is compared before and read back after: a patch the
//! server acknowledged without applying it is said, not taken for saved.

use crate::common::{precondition_for, print_saved, read_json_input, report};
use crate::error::Exit;
use crate::guard::Guard;
use ifmatch_engine::{Client, Precondition};
use std::path::PathBuf;

pub async fn run(
    client: &Client,
    url: &str,
    file: &Option<PathBuf>,
    if_match: &Option<String>,
    force: bool,
) -> Exit {
    let body = read_json_input(file)?;
    let guard = Guard::for_write(url, client, ifmatch_engine::check::WriteKind::MergePatch);
    let pre = match precondition_for(client, url, if_match, force).await? {
        Ok(p) => p,
        Err(out) => return Ok(report(&out)),
    };
    let before = match &pre {
        Precondition::IfMatch(t) if !force => match guard.still_at(client, url, t).await {
            Ok(b) => b,
            Err(code) => return Ok(code),
        },
        _ => None,
    };
    // What the patch should make of the version just read (when one was).
    let expected = before.as_deref().and_then(|b| {
        let mut doc: serde_json::Value = serde_json::from_str(b).ok()?;
        let patch: serde_json::Value = serde_json::from_str(&body).ok()?;
        ifmatch_engine::patch::apply_merge_patch(&mut doc, &patch);
        serde_json::to_string(&doc).ok()
    });
    let out = client
        .patch(
            url,
            &body,
            "application/merge-patch+json",
            pre,
            expected.as_deref(),
        )
        .await;
    let out = match &expected {
        Some(exp) => crate::guard::judged(out, exp, before.as_deref()),
        None => out,
    };
    if out.is_success() && !force {
        if let Some(exp) = &expected {
            if let Some(code) = guard.read_back(client, url, exp, before.as_deref()).await {
                return Ok(code);
            }
        }
        guard.warn();
    }
    print_saved(&out)?;
    Ok(report(&out))
}
