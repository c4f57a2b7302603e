//! Shared test helpers: the demo server in-process, scripted raw HTTP servers for quirks no
//! well-behaved server shows, an Apache httpd harness, and the path of the built `ifmatch` CLI.
//! Every server listens on 127.0.0.1 with an ephemeral port and stops when dropped.

pub mod apache;
pub mod raw;

use std::path::PathBuf;

pub use ifmatch_engine::demo::{DemoConfig, DemoServer, Fault};

/// The demo server with default settings (preconditions required).
pub async fn demo() -> DemoServer {
    demo_with(DemoConfig::default()).await
}

pub async fn demo_with(cfg: DemoConfig) -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("the demo server starts on 127.0.0.1")
}

/// A fault with every field at its default.
pub fn fault() -> Fault {
    serde_json::from_str("{}").expect("an empty fault is valid")
}

/// The `ifmatch` binary of this build (target/<profile>/ifmatch). The test command builds it
/// (`cargo build --workspace --bins`) before running the tests.
pub fn ifmatch_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/ifmatch
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("test binaries live in target/<profile>/deps");
    let bin = dir.join(if cfg!(windows) {
        "ifmatch.exe"
    } else {
        "ifmatch"
    });
    assert!(
        bin.exists(),
        "{} does not exist: build it first with `cargo build -p ifmatch-engine --bins` \
         (scripts/test does)",
        bin.display()
    );
    bin
}
