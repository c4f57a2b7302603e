//! `ifmatch serve-demo`: the built-in demo server on 127.0.0.1; prints its URL, runs until
//! Ctrl+C or SIGTERM.

use crate::error::{CliError, Exit};
use ifmatch_demo::{DemoConfig, DemoServer};
use ifmatch_engine::outcome::exit;
use std::io::Write;

pub async fn run(
    port: u16,
    allow_unconditional: bool,
    careless: bool,
    token_env: &Option<String>,
) -> Exit {
    let token = match token_env {
        Some(v) => Some(
            std::env::var(v)
                .map_err(|_| CliError::usage(format!("--token-env: ${v} is not set")))?,
        ),
        None => None,
    };
    let cfg = DemoConfig {
        require_preconditions: !allow_unconditional,
        bearer_token: token,
        careless,
        ..DemoConfig::default()
    };
    let server = DemoServer::start(([127, 0, 0, 1], port).into(), cfg)
        .await
        .map_err(|e| CliError::local(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    {
        let mut so = std::io::stdout().lock();
        writeln!(so, "{}", server.url())
            .and_then(|_| so.flush())
            .map_err(CliError::output)?;
    }
    say!(
        "ifmatch demo server on {} — try: ifmatch get -i {}/settings ; \
         make another admin edit it: curl -X POST {}/_demo/another-admin/settings ; \
         Ctrl+C stops it",
        server.url(),
        server.url(),
        server.url()
    );
    wait_for_stop().await;
    server.stop().await;
    Ok(exit::OK)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
