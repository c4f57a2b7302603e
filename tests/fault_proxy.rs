//! Ambiguous writes against real servers: a fault-injecting proxy (tests/support/proxy.rs) in
//! front of Apache mod_dav and of the demo server (`ifmatch serve-demo`, its own process) loses
//! answers after the upstream committed the write, turns them into gateway errors, or drops the
//! request before it arrives. The CLI must say only what the evidence shows: saved when a read
//! shows the server holds what was sent, "may have landed" when nothing can tell.

use ifmatch_tests::apache::Apache;
use ifmatch_tests::proxy::{Fault, Proxy};
use ifmatch_tests::{run_cli, DemoProcess};
use std::path::PathBuf;
use std::process::Output;

const SETTINGS: &str = "{\n  \"theme\": \"light\",\n  \"pageSize\": 50\n}\n";

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A real upstream with settings holding SETTINGS, behind a fresh proxy.
enum Upstream {
    Apache(Apache),
    Demo(DemoProcess),
}

struct Setup {
    upstream: Upstream,
    proxy: Proxy,
    /// The resource through the proxy.
    url: String,
    /// The resource straight at the upstream (to see what it holds).
    direct: String,
    state: PathBuf,
}

impl Setup {
    fn new(apache: bool) -> Setup {
        let (upstream, base, path) = if apache {
            let a = Apache::start(&[("settings.json", SETTINGS)]);
            let u = a.url.clone();
            (Upstream::Apache(a), u, "/settings.json")
        } else {
            let d = DemoProcess::start(&[], &[]);
            let u = d.url.clone();
            (Upstream::Demo(d), u, "/prefs")
        };
        let proxy = Proxy::start(&base);
        let state = std::env::temp_dir().join(format!(
            "ifmatch-proxy-state-{}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let s = Setup {
            url: format!("{}{path}", proxy.url),
            direct: format!("{base}{path}"),
            upstream,
            proxy,
            state,
        };
        if let Upstream::Demo(_) = s.upstream {
            let o = s.cli(&["create", &s.direct], Some(SETTINGS));
            assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        }
        s
    }
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.state, args, stdin)
    }
    /// What the upstream holds: Apache's file on disk; the demo's answer to a direct read.
    fn held(&self) -> serde_json::Value {
        let text = match &self.upstream {
            Upstream::Apache(a) => a.file("settings.json").unwrap_or_default(),
            Upstream::Demo(d) => out(&self.cli(&["get", &format!("{}/prefs", d.url)], None)),
        };
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
    fn tag(&self) -> String {
        out(&self.cli(&["get", "--etag", &self.direct], None))
            .trim()
            .to_string()
    }
    fn save(&self, mine: &str, tag: &str) -> Output {
        std::fs::write(self.state.join("base.json"), SETTINGS).unwrap();
        std::fs::write(self.state.join("mine.json"), mine).unwrap();
        self.cli(
            &[
                "save",
                &self.url,
                self.state.join("mine.json").to_str().unwrap(),
                "--base",
                self.state.join("base.json").to_str().unwrap(),
                "--if-match",
                tag,
            ],
            None,
        )
    }
    fn name(&self) -> &'static str {
        match self.upstream {
            Upstream::Apache(_) => "apache",
            Upstream::Demo(_) => "demo",
        }
    }
}

const MINE: &str = "{\n  \"theme\": \"dark\",\n  \"pageSize\": 50\n}\n";

#[test]
fn a_write_whose_answer_is_lost_is_settled_by_a_read() {
    for apache in [true, false] {
        // save: the PUT lands, its answer never comes; the read shows it landed: saved.
        let s = Setup::new(apache);
        s.proxy.fault("PUT", Fault::DropAnswer);
        let o = s.save(MINE, &s.tag());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}\n{:?}",
            s.name(),
            err(&o),
            s.proxy.log()
        );
        assert_eq!(s.held()["theme"], "dark", "{}", s.name());
        assert!(
            !err(&o).contains("merged in"),
            "{}: nothing was merged: {}",
            s.name(),
            err(&o)
        );

        // ... and when the read after it fails too: "may have landed", exit 7, never "nothing
        // was sent" and never "not applied".
        let s = Setup::new(apache);
        // (the server is not checked, so save reads before writing: that read goes through)
        s.proxy.fault("GET", Fault::Pass);
        s.proxy.fault("PUT", Fault::DropAnswer);
        s.proxy.fault("GET", Fault::StatusAfter(500));
        let o = s.save(MINE, &s.tag());
        let e = err(&o);
        assert_eq!(
            o.status.code(),
            Some(7),
            "{}: {e}\n{:?}",
            s.name(),
            s.proxy.log()
        );
        assert!(e.contains("may have landed"), "{}: {e}", s.name());
        assert!(
            !e.contains("Nothing was sent") && !e.contains("not applied"),
            "{}: {e}",
            s.name()
        );
        assert_eq!(s.held()["theme"], "dark", "{}: it did land", s.name());
    }
}

#[test]
fn a_gateway_error_after_the_commit_is_not_a_conflict_nor_a_failure() {
    for apache in [true, false] {
        for status in [503, 500, 502] {
            let s = Setup::new(apache);
            let tag = s.tag();
            s.proxy.fault("PUT", Fault::StatusAfter(status));
            let o = s.cli(&["put", &s.url, "--if-match", &tag], Some(MINE));
            let e = err(&o);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{} {status}: {e}\n{:?}",
                s.name(),
                s.proxy.log()
            );
            assert!(
                e.contains(&status.to_string()),
                "the warning names the answer: {e}"
            );
            assert!(
                !e.contains("changed on the server"),
                "{} {status}: {e}",
                s.name()
            );
            assert_eq!(s.held()["theme"], "dark");
            assert!(!out(&o).trim().is_empty(), "the new validator is printed");
        }
    }
}

#[test]
fn a_write_that_never_arrived() {
    for apache in [true, false] {
        // put: the connection broke after sending; nothing tells whether it landed.
        let s = Setup::new(apache);
        let tag = s.tag();
        s.proxy.fault("PUT", Fault::DropRequest);
        let o = s.cli(&["put", &s.url, "--if-match", &tag], Some(MINE));
        assert_eq!(o.status.code(), Some(7), "{}: {}", s.name(), err(&o));
        assert!(err(&o).contains("may"), "{}", err(&o));
        assert_eq!(s.held()["theme"], "light", "it really did not land");

        // save: reads, finds the version unchanged, sends the same write again: saved, and
        // says an earlier attempt did not land (not "changes were merged in").
        let s = Setup::new(apache);
        let tag = s.tag();
        s.proxy.fault("PUT", Fault::DropRequest);
        let o = s.save(MINE, &tag);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}\n{:?}",
            s.name(),
            err(&o),
            s.proxy.log()
        );
        assert!(
            err(&o).contains("did not land"),
            "{}: {}",
            s.name(),
            err(&o)
        );
        assert_eq!(s.held()["theme"], "dark");
    }
}
