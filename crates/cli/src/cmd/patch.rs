//! `ifmatch patch`: a JSON Merge Patch (RFC 7396), conditional like `put`.

use crate::common::{precondition_for, print_saved, read_json_input, report};
use crate::error::Exit;
use ifmatch_engine::Client;
use std::path::PathBuf;

pub async fn run(
    client: &Client,
    url: &str,
    file: &Option<PathBuf>,
    if_match: &Option<String>,
    force: bool,
) -> Exit {
    let body = read_json_input(file)?;
    let pre = match precondition_for(client, url, if_match, force).await? {
        Ok(p) => p,
        Err(out) => return Ok(report(&out)),
    };
    let out = client
        .patch(url, &body, "application/merge-patch+json", pre, None)
        .await;
    print_saved(&out)?;
    Ok(report(&out))
}
