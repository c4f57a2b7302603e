//! `--cacert` against a real TLS server on loopback (`openssl s_server`, certificates made by
//! `openssl req` the way users make them): the certificate a default `openssl req -x509` makes
//! (CA:TRUE) is trusted when the server presents exactly it, as curl does, and only then (another
//! certificate, another host name, an expired one, one not made for servers are refused and
//! explained); a CA:FALSE self-signed certificate is trusted; a file without a certificate is
//! refused before anything is sent, with words saying what it holds.

use ifmatch_tests::{ifmatch_bin, stop, wait_until_serving};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A fresh folder for one test (tests run in parallel).
fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ifmatch-tls-{}-{test}", std::process::id()));
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

/// A self-signed certificate for 127.0.0.1 with these validity dates (`YYYYMMDDHHMMSSZ`) and
/// extensions, made with `openssl ca -selfsign` (`openssl req` cannot date a certificate in the
/// past).
fn dated_certificate(
    dir: &Path,
    name: &str,
    (start, end): (&str, &str),
    extensions: &[&str],
) -> (PathBuf, PathBuf) {
    let ca = dir.join(format!("{name}-ca"));
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "01\n").unwrap();
    std::fs::write(
        ca.join("cnf"),
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {0}/index.txt\nnew_certs_dir = {0}\n\
             serial = {0}/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n\
             [p]\ncommonName = supplied\n",
            ca.display()
        ),
    )
    .unwrap();
    let (cert, key, csr) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
        ca.join("csr.pem"),
    );
    let mut req = Command::new("openssl");
    req.args(["req", "-new", "-newkey", "rsa:2048", "-nodes"])
        .args(["-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"]);
    for e in extensions {
        req.args(["-addext", e]);
    }
    req.arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .stderr(Stdio::null());
    assert!(req.status().unwrap().success());
    let signed = Command::new("openssl")
        .args(["ca", "-batch", "-selfsign", "-notext", "-config"])
        .arg(ca.join("cnf"))
        .arg("-keyfile")
        .arg(&key)
        .arg("-in")
        .arg(&csr)
        .arg("-out")
        .arg(&cert)
        .args(["-startdate", start, "-enddate", end])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(signed.success());
    (cert, key)
}

fn get(cacert: Option<&Path>, url: &str) -> (Option<i32>, String) {
    let mut cmd = Command::new(ifmatch_bin());
    if let Some(c) = cacert {
        cmd.arg("--cacert").arg(c);
    }
    let out: Output = cmd
        .args(["get", url])
        .env_remove("IFMATCH_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The handshake succeeded: s_server answers with an HTML page, which is not JSON (exit 5).
fn trusted((code, err): (Option<i32>, String)) {
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("not JSON"),
        "TLS worked, the page is HTML: {err}"
    );
}

/// The handshake was refused (exit 6, nothing sent), with these words.
fn refused((code, err): (Option<i32>, String), words: &[&str]) {
    assert_eq!(code, Some(6), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} in: {err}");
    }
}

#[test]
fn a_default_openssl_certificate_is_trusted_when_the_server_presents_exactly_it() {
    let d = dir("trusted");
    let (ca_cert, ca_key) = certificate(&d, "ca-true", true);
    let server = TlsServer::start(&ca_cert, &ca_key);
    // What curl --cacert accepts: the server's own certificate, marked CA:TRUE.
    trusted(get(Some(&ca_cert), &server.url));
    // Without --cacert it is refused, and the words say how to trust it.
    refused(get(None, &server.url), &["CA:TRUE", "--cacert"]);
    // Another CA:TRUE certificate for the same address trusts nothing more.
    let (other, _) = certificate(&d, "other-ca-true", true);
    refused(get(Some(&other), &server.url), &["CA:TRUE"]);
    // The trusted certificate, reached by a name it does not list: the host name still counts.
    let by_name = server.url.replace("127.0.0.1", "localhost");
    refused(
        get(Some(&ca_cert), &by_name),
        &["not made out for this host name"],
    );
    drop(server);

    // The CA:FALSE self-signed certificate openssl makes with one more option: trusted too.
    let (cert, key) = certificate(&d, "ca-false", false);
    let server = TlsServer::start(&cert, &key);
    trusted(get(Some(&cert), &server.url));
}

#[test]
fn a_trusted_ca_certificate_is_still_checked_for_its_dates_and_purpose() {
    let d = dir("checked");
    // Expired in 2020.
    let (cert, key) = dated_certificate(
        &d,
        "expired",
        ("20200101000000Z", "20200102000000Z"),
        &["basicConstraints=critical,CA:TRUE"],
    );
    let server = TlsServer::start(&cert, &key);
    refused(get(Some(&cert), &server.url), &["has expired"]);
    drop(server);
    // Made for TLS clients only (extendedKeyUsage clientAuth).
    let (cert, key) = dated_certificate(
        &d,
        "client-only",
        ("20200101000000Z", "20991231000000Z"),
        &[
            "basicConstraints=critical,CA:TRUE",
            "extendedKeyUsage=clientAuth",
        ],
    );
    let server = TlsServer::start(&cert, &key);
    refused(get(Some(&cert), &server.url), &["serverAuth"]);
    drop(server);
    // The same with serverAuth listed: trusted.
    let (cert, key) = dated_certificate(
        &d,
        "server-too",
        ("20200101000000Z", "20991231000000Z"),
        &[
            "basicConstraints=critical,CA:TRUE",
            "extendedKeyUsage=clientAuth,serverAuth",
        ],
    );
    let server = TlsServer::start(&cert, &key);
    trusted(get(Some(&cert), &server.url));
}

#[test]
fn a_cacert_file_without_a_certificate_is_named_and_nothing_is_sent() {
    let d = dir("no-cert");
    let (cert, key) = certificate(&d, "cert", true);
    let server = TlsServer::start(&cert, &key);
    let empty = d.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let broken = d.join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = d.join("missing.pem");
    for (file, words) in [
        (&empty, "holds no PEM certificate (it is empty)"),
        (&key, "holds no PEM certificate (it holds a private key"),
        (&garbage, "holds no PEM certificate"),
        (&broken, "holds a certificate block that does not decode"),
        (&d, "is a directory"),
        (&missing, "does not exist"),
    ] {
        let (code, err) = get(Some(file), &server.url);
        assert_eq!(code, Some(1), "{}: {err}", file.display());
        let said = format!("--cacert {} {words}", file.display());
        assert!(err.contains(&said), "{said:?} in: {err}");
        assert!(err.contains("nothing was sent"), "{err}");
        assert!(!err.contains("could not be set up"), "{err}");
    }
}
