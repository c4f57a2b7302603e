//! `ifmatch watch --json` as a child process whose lines and stderr the test reads as they come,
//! with bounded waits (never a sleep standing for "fast enough"); and a TCP forwarder on loopback
//! whose open connections a test can cut (a change stream dropped mid-way).

use std::io::{BufRead, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `ifmatch watch`.
pub struct Watching {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Watching {
    /// Starts `ifmatch watch ARGS` (add `--json` yourself) with its state in `state`.
    pub fn start(state: &std::path::Path, args: &[&str]) -> Watching {
        Watching::start_with(state, &[], args)
    }

    /// `start` with extra environment variables (credentials: `IFMATCH_USER`, …).
    pub fn start_with(state: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Watching {
        let mut child = Command::new(crate::ifmatch_bin())
            .arg("watch")
            .args(args)
            .env("IFMATCH_STATE_DIR", state)
            .env_remove("IFMATCH_TOKEN")
            .env_remove("IFMATCH_USER")
            .env_remove("IFMATCH_PASSWORD")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ifmatch watch starts");
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("piped stderr");
        let e2 = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    return;
                }
                e2.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Watching {
            child,
            lines,
            stderr,
        }
    }

    /// The next stdout line, parsed as JSON, waiting at most `limit` (None: none came).
    pub fn next(&self, limit: Duration) -> Option<serde_json::Value> {
        let l = self.lines.recv_timeout(limit).ok()?;
        Some(serde_json::from_str(&l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
    }

    /// Stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits at most `limit` for stderr to contain `text`.
    pub fn wait_stderr(&self, text: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.stderr().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stderr().contains(text)
    }

    /// SIGINT, then the exit code (waiting at most 5 s; killed and None after that).
    pub fn interrupt(self) -> (Option<i32>, String) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        self.wait(Duration::from_secs(5))
    }

    /// The exit code once it ends by itself (at most `limit`; killed and None after that).
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(s)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return (s.code(), self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        (None, self.stderr())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP forwarder to `upstream` (host:port) on a loopback port; `cut` closes every connection
/// open through it (the client sees its stream end or break).
pub struct CutProxy {
    pub port: u16,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl CutProxy {
    pub fn start(upstream: &str) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up, o2) = (upstream.to_string(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(&up) else {
                    continue;
                };
                for s in [&client, &server] {
                    if let Ok(c) = s.try_clone() {
                        o2.lock().unwrap().push(c);
                    }
                }
                let pipe = |mut a: TcpStream, mut b: TcpStream| {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut a, &mut b);
                        let _ = b.shutdown(Shutdown::Write);
                    });
                };
                if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
                    pipe(client, s2);
                    pipe(server, c2);
                }
            }
        });
        CutProxy { port, open }
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}
