//! `ifmatch delete`: deletes a resource only if it is still the version you read.

use crate::common::{precondition_for, report};
use crate::error::Exit;
use ifmatch_engine::Client;

pub async fn run(client: &Client, url: &str, if_match: &Option<String>, force: bool) -> Exit {
    let pre = match precondition_for(client, url, if_match, force).await? {
        Ok(p) => p,
        Err(out) => return Ok(report(&out)),
    };
    Ok(report(&client.delete(url, pre).await))
}
