//! Shared test helpers: the demo server in-process, scripted raw HTTP servers for quirks no
//! well-behaved server shows, an Apache httpd harness, and the path of the built `ifmatch` CLI.
//! Every server listens on 127.0.0.1 with an ephemeral port and stops when dropped.

pub mod apache;
pub mod raw;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use ifmatch_demo::{seed, DemoConfig, DemoServer, Fault};

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
        "{} does not exist: build it first with `cargo build -p ifmatch-cli` \
         (scripts/test does)",
        bin.display()
    );
    bin
}

/// Stops a child with SIGTERM (so it can clean up: tauri-driver must stop WebKitWebDriver, Apache
/// its workers), then SIGKILL after 5 s.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `ifmatch serve-demo` as its own process on an ephemeral loopback port (it outlives a killed
/// app, and it is what an admin runs); stopped when dropped.
pub struct DemoProcess {
    pub url: String,
    child: Child,
}

impl DemoProcess {
    pub fn start(env: &[(&str, &str)], args: &[&str]) -> DemoProcess {
        let mut cmd = Command::new(ifmatch_bin());
        cmd.arg("serve-demo")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("ifmatch serve-demo starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("serve-demo prints its URL");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "serve-demo printed {url:?}"
        );
        DemoProcess { url, child }
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
