//! `ifmatch delete`: deletes a resource only if it is still the version you read.

use crate::common::{precondition_for, report};
use crate::error::Exit;
use crate::guard::Guard;
use ifmatch_engine::{Client, Precondition};

pub async fn run(client: &Client, url: &str, if_match: &Option<String>, force: bool) -> Exit {
    let pre = match precondition_for(client, url, if_match, force).await? {
        Ok(p) => p,
        Err(out) => return Ok(report(&out)),
    };
    let guard = Guard::for_write(url, client, ifmatch_engine::check::WriteKind::Delete);
    if let (Precondition::IfMatch(t), Some(_)) = (&pre, if_match) {
        if let Err(code) = guard.still_at(client, url, t).await {
            return Ok(code);
        }
    }
    let out = client.delete(url, pre).await;
    if out.is_success() && !force {
        guard.warn();
    }
    Ok(report(&out))
}
