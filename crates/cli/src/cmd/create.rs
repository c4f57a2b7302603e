//! `ifmatch create`: creates a resource with `If-None-Match: *`, so it never overwrites one (on a
//! server not known to refuse a create over an existing resource, it looks first).

use crate::common::{print_saved, read_json_input, report};
use crate::error::Exit;
use crate::guard::Guard;
use ifmatch_engine::Client;
use std::path::PathBuf;

pub async fn run(client: &Client, url: &str, file: &Option<PathBuf>) -> Exit {
    let body = read_json_input(file)?;
    let guard = Guard::for_write(url, client, ifmatch_engine::check::WriteKind::Create);
    if let Err(code) = guard.absent(client, url).await {
        return Ok(code);
    }
    let out = client.create(url, &body).await;
    if out.is_success() {
        guard.warn();
    }
    print_saved(&out)?;
    Ok(report(&out))
}
