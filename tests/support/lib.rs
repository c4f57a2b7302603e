//! Shared test helpers: the demo server in-process, scripted raw HTTP servers for quirks no
//! well-behaved server shows, the hostile-input kit's stateful misbehaving server (`hostile`), an Apache httpd harness, and the path of the built `ifmatch` CLI.
//! Every server listens on 127.0.0.1 with an ephemeral port and stops when dropped.

pub mod apache;
pub mod consul;
pub mod hostile;
pub mod kinto;
pub mod nginx;
pub mod pouchdb;
pub mod proxy;
pub mod raw;
pub mod torture;
pub mod watching;

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

/// Waits until `child`, a server told to listen on `port` of 127.0.0.1, is the one listening
/// there. A port that merely accepts a connection proves nothing: between picking a free port and
/// binding it, a server started by a parallel test may take it; ours then fails to bind and
/// exits, and the test would talk to the other one (and see "connection reset" when that test
/// stops its server). So the listening socket is looked up in /proc/net/tcp and must be one of
/// the child's open files. Returns false when the child exits or `timeout` passes.
pub fn wait_until_serving(child: &mut Child, port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if listens_on(child.id(), port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Whether process `pid` holds the socket listening on 127.0.0.1:`port` (Linux /proc).
pub fn listens_on(pid: u32, port: u16) -> bool {
    let local = format!("0100007F:{port:04X}");
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    let Some(inode) = table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() > 9 && cols[1] == local && cols[3] == "0A").then(|| cols[9].to_string())
    }) else {
        return false;
    };
    let socket = PathBuf::from(format!("socket:[{inode}]"));
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == socket))
        })
        .unwrap_or(false)
}

/// A port on 127.0.0.1 free right now (a server started on it may still lose it to another:
/// `wait_until_serving` tells).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port on 127.0.0.1")
}

/// Starts a server with `spawn(port)` on a free port and waits until it serves there; a port a
/// parallel test's server took first is given up for another (five tries). `diagnose` says why
/// the last try failed (its stderr, its log).
pub fn serve_on_free_port(
    what: &str,
    timeout: Duration,
    mut spawn: impl FnMut(u16) -> Child,
    diagnose: impl Fn(Child) -> String,
) -> (u16, Child) {
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port();
        let mut child = spawn(port);
        if wait_until_serving(&mut child, port, timeout) {
            return (port, child);
        }
        let _ = child.kill();
        last = diagnose(child);
    }
    panic!("{what} did not start: {last}");
}

/// What a server that did not start said: its stderr (when piped) and its log file.
pub fn stderr_and_log(child: Child, log: Option<&std::path::Path>) -> String {
    let out = child.wait_with_output().ok();
    format!(
        "{}\n{}",
        out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default(),
        log.and_then(|l| std::fs::read_to_string(l).ok())
            .unwrap_or_default()
    )
}

/// A number no other call in this test process gets: for folder names that must not collide
/// between tests running in parallel.
pub fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// One plain HTTP request through the engine's client, as another writer not using ifmatch's
/// rules would send it (no precondition): status and body. For harnesses whose servers are set
/// up over HTTP, and for tests' "other writer".
pub fn http(
    auth: ifmatch_engine::Auth,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let client = ifmatch_engine::Client::new(Default::default(), auth).expect("a client");
        let a = client
            .exchange(method, url, &[], body.map(|b| (b, "application/json")))
            .await
            .unwrap_or_else(|out| panic!("{method} {url}: {}", out.message()));
        (a.status, a.body)
    })
}

/// Runs the `ifmatch` CLI with its server profiles in `state` (`IFMATCH_STATE_DIR`), no token
/// from the environment, and `stdin` as its input.
pub fn run_cli(
    state: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    run_cli_with(state, &[], args, stdin)
}

/// `run_cli` with extra environment variables (credentials: `IFMATCH_USER`, …).
pub fn run_cli_with(
    state: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(ifmatch_bin())
        .args(args)
        .env("IFMATCH_STATE_DIR", state)
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_USER")
        .env_remove("IFMATCH_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ifmatch runs");
    {
        let mut si = child.stdin.take().expect("piped stdin");
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).expect("stdin takes the input");
        }
    }
    child.wait_with_output().expect("ifmatch ends")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A port that answers is not enough: the server listening must be the one we started.
    #[test]
    fn a_port_held_by_someone_else_is_not_our_server() {
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = other.local_addr().unwrap().port();
        let mut lost = Command::new("sleep").arg("5").spawn().unwrap();
        assert!(!wait_until_serving(
            &mut lost,
            port,
            Duration::from_millis(500)
        ));
        stop(&mut lost);
        assert!(
            listens_on(std::process::id(), port),
            "this process holds it"
        );
        // (That a server that did bind the port is found serving, every Apache test shows.)
    }
}
