//! `ifmatch create`: creates a resource with `If-None-Match: *`, so it never overwrites one.

use crate::common::{print_saved, read_json_input, report};
use crate::error::Exit;
use ifmatch_engine::Client;
use std::path::PathBuf;

pub async fn run(client: &Client, url: &str, file: &Option<PathBuf>) -> Exit {
    let body = read_json_input(file)?;
    let out = client.create(url, &body).await;
    print_saved(&out)?;
    Ok(report(&out))
}
