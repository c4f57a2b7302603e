//! `--cacert` against a real TLS server on loopback (`openssl s_server`, certificates made by
//! `openssl req` the way users make them): a CA:TRUE certificate used as the server's own is
//! explained, a file without a certificate is refused before anything is sent, a CA:FALSE
//! self-signed certificate is trusted.

use ifmatch_tests::{ifmatch_bin, stop, wait_until_serving};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ifmatch-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A self-signed certificate for 127.0.0.1 (`ca`: with OpenSSL's default CA:TRUE).
fn certificate(dir: &Path, name: &str, ca: bool) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
    ])
    .args([
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ])
    .arg("-keyout")
    .arg(&key)
    .arg("-out")
    .arg(&cert)
    .stderr(Stdio::null());
    if !ca {
        cmd.args(["-addext", "basicConstraints=critical,CA:FALSE"]);
    }
    assert!(cmd.status().expect("openssl is installed").success());
    (cert, key)
}

struct TlsServer {
    child: Child,
    url: String,
}

impl TlsServer {
    fn start(cert: &Path, key: &Path) -> TlsServer {
        // A port picked free may be taken by a parallel test's server before ours binds it:
        // then ours exits, and another port is tried.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("openssl")
                .args(["s_server", "-www", "-quiet", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if wait_until_serving(&mut child, port, Duration::from_secs(10)) {
                return TlsServer {
                    child,
                    url: format!("https://127.0.0.1:{port}/"),
                };
            }
            stop(&mut child);
        }
        panic!("openssl s_server did not start");
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn get(cacert: &Path, url: &str) -> Output {
    Command::new(ifmatch_bin())
        .arg("--cacert")
        .arg(cacert)
        .args(["get", url])
        .env_remove("IFMATCH_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn cacert_outcomes_say_what_is_wrong_with_the_certificate() {
    let d = dir();
    let (ca_cert, ca_key) = certificate(&d, "ca-true", true);
    let server = TlsServer::start(&ca_cert, &ca_key);
    let out = get(&ca_cert, &server.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("CA:TRUE") && err.contains("CA:FALSE"),
        "explained: {err}"
    );

    // A key file where the certificate belongs: refused before any connection.
    let out = get(&ca_key, &server.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--cacert") && err.contains("holds no certificate"),
        "{err}"
    );
    drop(server);

    // A CA:FALSE self-signed certificate is trusted: the handshake succeeds (s_server answers
    // with an HTML page, which is not JSON).
    let (cert, key) = certificate(&d, "ca-false", false);
    let server = TlsServer::start(&cert, &key);
    let out = get(&cert, &server.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("not JSON"),
        "TLS worked, the page is HTML: {err}"
    );
}
