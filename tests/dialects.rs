//! The CLI with a connection dialect (`--dialect`) against the demo server's Kubernetes-,
//! Grafana- and Elasticsearch-shaped resources (their real servers cannot run here; shapes from
//! their documentation), each through the same scenarios: fresh put, stale put, create over an
//! existing one, stale delete, save with a disjoint concurrent change, save with a colliding
//! one, and each PATCH method. "Another writer" is plain HTTP speaking the API as its own
//! clients do. What the server holds is checked after every step.

use ifmatch_tests::proxy::{Fault, Proxy};
use ifmatch_tests::{run_cli, DemoProcess};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Output;

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One API's resource on a fresh demo server.
struct Api {
    demo: DemoProcess,
    state: PathBuf,
    dialect: &'static str,
    /// The resource's path (what ifmatch reads and writes).
    path: &'static str,
    /// What a document of this API looks like to the user (server-owned fields left out).
    field: &'static str,
}

impl Api {
    fn new(dialect: &'static str, path: &'static str, field: &'static str) -> Api {
        let state = std::env::temp_dir().join(format!(
            "ifmatch-dialect-{dialect}-{}-{}",
            std::process::id(),
            ifmatch_tests::unique()
        ));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        Api {
            demo: DemoProcess::start(&[], &[]),
            state,
            dialect,
            path,
            field,
        }
    }
    fn url(&self) -> String {
        format!("{}{}", self.demo.url, self.path)
    }
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut all = vec!["--dialect", self.dialect];
        all.extend_from_slice(args);
        run_cli(&self.state, &all, stdin)
    }
    fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        ifmatch_tests::http(
            ifmatch_engine::Auth::None,
            method,
            &format!("{}{path}", self.demo.url),
            body,
        )
    }
    /// The whole answer of a plain GET (the API's own shape).
    fn raw(&self) -> Value {
        let (s, b) = self.http("GET", self.path, None);
        assert_eq!(s, 200, "{b}");
        serde_json::from_str(&b).unwrap()
    }
    /// The user's document as the server holds it, and its validator, via `ifmatch get`.
    fn read(&self) -> (Value, String) {
        let tag = self.state.join("tag");
        let o = self.cli(
            &["get", &self.url(), "--etag-file", tag.to_str().unwrap()],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        (
            serde_json::from_str(&out(&o)).unwrap(),
            std::fs::read_to_string(tag).unwrap().trim().to_string(),
        )
    }
    /// The user's field as the server holds it now.
    fn now(&self, key: &str) -> Value {
        self.read()
            .0
            .pointer(&format!("{}/{key}", self.field))
            .cloned()
            .unwrap_or(Value::Null)
    }
    /// Another client changes `key` the way that API's clients do.
    fn other_writer(&self, key: &str, v: Value) {
        let mut raw = self.raw();
        let (method, path, body) = match self.dialect {
            "kubernetes" => {
                raw["data"][key] = v;
                ("PUT", self.path.to_string(), raw)
            }
            "consul" => {
                // A Consul client that writes without ?cas (last write wins).
                raw[key] = v;
                let key_path = self.path.split('?').next().unwrap().to_string();
                ("PUT", key_path, raw)
            }
            "confluence" => {
                raw[key] = v;
                let n = raw["version"]["number"].as_u64().unwrap();
                raw["version"] = json!({"number": n + 1});
                ("PUT", self.path.to_string(), raw)
            }
            "grafana" => {
                raw["dashboard"][key] = v;
                (
                    "POST",
                    "/api/dashboards/db".to_string(),
                    json!({"dashboard": raw["dashboard"], "overwrite": false}),
                )
            }
            _ => {
                let mut source = raw["_source"].clone();
                source[key] = v;
                (
                    "PUT",
                    format!(
                        "{}?if_seq_no={}&if_primary_term={}",
                        self.path, raw["_seq_no"], raw["_primary_term"]
                    ),
                    source,
                )
            }
        };
        let (s, b) = self.http(method, &path, Some(&body.to_string()));
        assert!((200..300).contains(&s), "the other writer: {s} {b}");
    }
    fn file(&self, name: &str, v: &Value) -> String {
        let p = self.state.join(name);
        std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
        p.to_str().unwrap().to_string()
    }
}

fn with(doc: &Value, field: &str, key: &str, v: Value) -> Value {
    let mut d = doc.clone();
    let at = if field.is_empty() {
        &mut d
    } else {
        d.pointer_mut(field).unwrap()
    };
    at[key] = v;
    d
}

/// The scenario set for one API. `a` and `b` are two keys of the user's document, `v1`/`v2`
/// values of them.
fn scenarios(dialect: &'static str, path: &'static str, field: &'static str, a: &str, b: &str) {
    let (v1, v2) = (json!("one"), json!("two"));

    // Server-owned fields are out of what the user edits; the version is the validator.
    let api = Api::new(dialect, path, field);
    let (doc, tag) = api.read();
    for owned in ["resourceVersion", "\"version\"", "_seq_no", "_source"] {
        assert!(
            !doc.to_string().contains(owned),
            "{dialect}: {owned} in {doc}"
        );
    }

    // Fresh put: the version read is the one the server holds; the write lands.
    let o = api.cli(
        &[
            "put",
            &api.url(),
            &api.file("fresh.json", &with(&doc, field, a, v1.clone())),
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{dialect} fresh put: {}", err(&o));
    assert_eq!(api.now(a), v1, "{dialect}: the fresh put landed");
    let printed = out(&o);
    let (_, tag_now) = api.read();
    assert!(
        printed.contains(&tag_now),
        "{dialect}: put prints the new validator {tag_now}: {printed}"
    );

    // Stale put: another writer changed it since; refused, nothing overwritten.
    let (doc, tag) = api.read();
    api.other_writer(b, v2.clone());
    let o = api.cli(
        &[
            "put",
            &api.url(),
            &api.file("stale.json", &with(&doc, field, a, json!("mine"))),
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{dialect} stale put: {}{}",
        out(&o),
        err(&o)
    );
    assert_eq!(
        (api.now(a), api.now(b)),
        (v1.clone(), v2.clone()),
        "{dialect}: nothing overwritten"
    );

    // Create over an existing one: refused.
    let (doc, _) = api.read();
    let o = api.cli(
        &["create", &api.url(), &api.file("create.json", &doc)],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{dialect} create: {}{}",
        out(&o),
        err(&o)
    );
    assert_eq!(api.now(b), v2);

    // Save with a disjoint concurrent change: both land.
    let (base, tag) = api.read();
    let base_file = api.file("base.json", &base);
    api.other_writer(b, json!("theirs"));
    let o = api.cli(
        &[
            "save",
            &api.url(),
            &api.file("mine.json", &with(&base, field, a, json!("mine"))),
            "--base",
            &base_file,
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{dialect} disjoint save: {}",
        err(&o)
    );
    assert_eq!(
        (api.now(a), api.now(b)),
        (json!("mine"), json!("theirs")),
        "{dialect}: both kept"
    );

    // Save with a colliding change: exit 3, the other writer's value stays.
    let (base, tag) = api.read();
    let base_file = api.file("base.json", &base);
    api.other_writer(a, json!("theirs again"));
    let o = api.cli(
        &[
            "save",
            &api.url(),
            &api.file("mine.json", &with(&base, field, a, json!("mine again"))),
            "--base",
            &base_file,
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{dialect} colliding save: {}{}",
        out(&o),
        err(&o)
    );
    assert_eq!(api.now(a), json!("theirs again"));

    // Each PATCH method: not sent (the version cannot travel in a patch here), said so.
    let (base, tag) = api.read();
    let base_file = api.file("base.json", &base);
    let before = api.raw();
    for method in ["merge-patch", "json-patch"] {
        let o = api.cli(
            &[
                "save",
                &api.url(),
                &api.file("mine.json", &with(&base, field, a, json!("patched"))),
                "--base",
                &base_file,
                "--if-match",
                &tag,
                "--method",
                method,
            ],
            None,
        );
        assert_eq!(
            o.status.code(),
            Some(2),
            "{dialect} {method}: {}{}",
            out(&o),
            err(&o)
        );
        assert!(
            err(&o).contains("Nothing left this machine"),
            "{dialect} {method}: {}",
            err(&o)
        );
        assert_eq!(
            api.raw(),
            before,
            "{dialect} {method}: the server unchanged"
        );
    }
}

#[test]
fn kubernetes_resource_version_in_the_body() {
    scenarios(
        "kubernetes",
        "/api/v1/namespaces/default/configmaps/settings",
        "/data",
        "theme",
        "pageSize",
    );
}

#[test]
fn grafana_version_number_and_its_own_write_endpoint() {
    scenarios("grafana", "/api/dashboards/uid/ops", "", "title", "refresh");
}

#[test]
fn confluence_version_number_plus_one() {
    scenarios(
        "confluence",
        "/wiki/rest/api/content/42",
        "",
        "title",
        "status",
    );
}

/// Confluence answers 400 for a title another page has: an error said as such, not a conflict
/// to merge; a write carries the version plus one, and a stale one is a conflict.
#[test]
fn confluence_title_clash_is_not_a_conflict() {
    let api = Api::new("confluence", "/wiki/rest/api/content/42", "");
    let (doc, tag) = api.read();
    let clash = api.file("clash.json", &with(&doc, "", "title", json!("Postmortems")));
    let o = api.cli(&["put", &api.url(), &clash, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(5), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("400"), "{}", err(&o));
    assert_eq!(api.raw()["title"], "Runbook", "unchanged");
    let mut mine = doc.clone();
    mine["body"]["storage"]["value"] = json!("<p>Restart it twice.</p>");
    let f = api.file("mine.json", &mine);
    let o = api.cli(&["put", &api.url(), &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(api.raw()["version"]["number"], 2, "sent as 1 + 1");
    // The same version again: 409 "Version must be incremented", a conflict.
    let o = api.cli(&["put", &api.url(), &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
}

#[test]
fn consul_check_and_set_index() {
    scenarios("consul", "/v1/kv/settings?raw", "", "theme", "pageSize");
}

/// Consul answers a stale check-and-set with 200 `false`: a conflict, never "saved" or
/// "deleted"; the current index deletes.
#[test]
fn consul_false_is_a_conflict_for_deletes_too() {
    let api = Api::new("consul", "/v1/kv/settings?raw", "");
    let (_, tag) = api.read();
    api.other_writer("theme", json!("dark"));
    let o = api.cli(&["delete", &api.url(), "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(api.now("theme"), json!("dark"), "not deleted");
    let (_, tag) = api.read();
    let o = api.cli(&["delete", &api.url(), "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let (s, _) = api.http("GET", "/v1/kv/settings?raw", None);
    assert_eq!(s, 404, "deleted");
}

/// A change that lands between the read ifmatch compares with and its write: the compare finds
/// nothing, so only Consul's own `false` to `?cas=` stands between the write and a lost update.
/// `put` says conflict and overwrites nothing; `save` merges both changes in and saves.
#[test]
fn consul_false_after_the_compare_is_a_conflict_then_a_merge() {
    let api = Api::new("consul", "/v1/kv/settings?raw", "");
    let proxy = Proxy::start(&api.demo.url);
    let url = format!("{}{}", proxy.url, api.path);
    let theirs = |raw: &mut Value| {
        raw["theme"] = json!("dark");
        let text: &'static str = Box::leak(raw.to_string().into_boxed_str());
        Fault::WriteFirst("PUT", "/v1/kv/settings", text)
    };
    let (doc, tag) = api.read();
    let before = api.now("pageSize");
    proxy.fault("PUT", theirs(&mut api.raw()));
    let f = api.file("mine.json", &with(&doc, "", "pageSize", json!(77)));
    let o = api.cli(&["put", &url, &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("answered `false`"), "{}", err(&o));
    assert_eq!(api.now("theme"), json!("dark"), "theirs kept");
    assert_eq!(api.now("pageSize"), before, "mine not written over theirs");
    let log = proxy.log().join("\n");
    assert!(log.contains("first: 200"), "{log}");
    assert!(log.contains("&cas="), "{log}");

    let (doc, tag) = api.read();
    let base = api.file("base.json", &doc);
    let mut raw = api.raw();
    raw["theme"] = json!("light");
    let light: &'static str = Box::leak(raw.to_string().into_boxed_str());
    proxy.fault("PUT", Fault::WriteFirst("PUT", "/v1/kv/settings", light));
    let o = api.cli(
        &["save", &url, &f, "--base", &base, "--if-match", &tag],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(api.now("theme"), json!("light"), "theirs merged in");
    assert_eq!(api.now("pageSize"), json!(77), "mine saved");
}

#[test]
fn elasticsearch_sequence_numbers_in_the_query() {
    scenarios("elasticsearch", "/settings/_doc/1", "", "theme", "pageSize");
}

/// A stale delete: refused where the dialect can carry the version (Elasticsearch's query),
/// not sent where it cannot (Kubernetes takes it in a body DeleteOptions ifmatch does not
/// build), and the resource is there afterwards either way.
#[test]
fn stale_deletes_are_refused_or_not_sent() {
    let es = Api::new("elasticsearch", "/settings/_doc/1", "");
    let (_, tag) = es.read();
    es.other_writer("theme", json!("dark"));
    let o = es.cli(&["delete", &es.url(), "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(es.now("theme"), json!("dark"));
    let (_, tag) = es.read();
    let o = es.cli(&["delete", &es.url(), "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "a fresh delete: {}", err(&o));
    assert_eq!(es.http("GET", es.path, None).0, 404);

    let k8s = Api::new(
        "kubernetes",
        "/api/v1/namespaces/default/configmaps/settings",
        "/data",
    );
    let (_, tag) = k8s.read();
    let o = k8s.cli(&["delete", &k8s.url(), "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(2), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("Nothing left this machine"), "{}", err(&o));
    assert_eq!(k8s.http("GET", k8s.path, None).0, 200);
}

/// Grafana answers 412 for a name clash too: that is not a conflict to merge, it is said as
/// the server said it.
#[test]
fn grafana_name_clash_is_not_a_conflict() {
    let api = Api::new("grafana", "/api/dashboards/uid/ops", "");
    let (s, b) = api.http(
        "POST",
        "/api/dashboards/db",
        Some(r#"{"dashboard": {"uid": "other", "title": "Other"}, "overwrite": false}"#),
    );
    assert_eq!(s, 200, "{b}");
    let (doc, tag) = api.read();
    let o = api.cli(
        &[
            "put",
            &api.url(),
            &api.file("clash.json", &with(&doc, "", "title", json!("Other"))),
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(5), "{}{}", out(&o), err(&o));
    assert!(
        err(&o).contains("412") && err(&o).contains("same name"),
        "{}",
        err(&o)
    );
    assert_eq!(api.now("title"), json!("Operations"));
}

/// `--dialect FILE`: an API described by hand (here Confluence's rules, as a user would write
/// them for an API without a preset) works like a preset; a file that does not describe a
/// dialect is refused before anything is sent.
#[test]
fn a_dialect_described_in_a_file() {
    let api = Api::new("confluence", "/wiki/rest/api/content/42", "");
    let file = api.state.join("wiki.json");
    std::fs::write(
        &file,
        r#"{"name": "wiki", "version": {"kind": "body", "pointer": "/version/number",
            "plus_one": true, "create_refused_if_exists": false, "delete_param": null},
            "conflict_statuses": [409], "server_owned": ["/version", "/_links"]}"#,
    )
    .unwrap();
    let custom = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--dialect", file.to_str().unwrap()];
        all.extend_from_slice(args);
        run_cli(&api.state, &all, stdin)
    };
    let tag_file = api.state.join("tag");
    let o = custom(
        &["get", &api.url(), "--etag-file", tag_file.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let doc: Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(
        doc.get("version").is_none() && doc.get("_links").is_none(),
        "{doc}"
    );
    let tag = std::fs::read_to_string(&tag_file)
        .unwrap()
        .trim()
        .to_string();
    let f = api.file("mine.json", &with(&doc, "", "status", json!("draft")));
    let o = custom(&["put", &api.url(), &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(api.raw()["version"]["number"], 2);
    assert_eq!(api.raw()["status"], "draft");
    let o = custom(&["put", &api.url(), &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "stale: {}{}", out(&o), err(&o));
    // Not a dialect: a usage error naming the file, nothing sent.
    let bad = api.state.join("bad.json");
    std::fs::write(&bad, r#"{"version": {"kind": "somewhere"}}"#).unwrap();
    let o = run_cli(
        &api.state,
        &["--dialect", bad.to_str().unwrap(), "put", &api.url(), &f],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("bad.json"), "{}", err(&o));
    assert_eq!(api.raw()["version"]["number"], 2, "nothing sent");
}

/// `--dialect none` (an API that keeps no version, last write wins): every write is compared
/// before and read back after, and the risk that remains is said on stderr; a change made since
/// the version read is caught before anything is sent.
#[test]
fn no_version_dialect_compares_and_says_the_risk() {
    let api = Api::new("none", "/settings", "");
    let (doc, tag) = api.read();
    let f = api.file("mine.json", &with(&doc, "", "siteName", json!("Mine")));
    let o = api.cli(&["put", &api.url(), &f, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("keeps no version"), "{}", err(&o));
    assert_eq!(api.raw()["siteName"], "Mine");
    // Another writer (no ifmatch) changes it; the stale put is refused before sending.
    let (s, b) = api.http(
        "POST",
        "/_demo/another-admin/settings",
        Some(r#"{"timezone": "UTC"}"#),
    );
    assert!((200..300).contains(&s), "{b}");
    let stale = api.file("stale.json", &with(&doc, "", "siteName", json!("Stale")));
    let o = api.cli(&["put", &api.url(), &stale, "--if-match", &tag], None);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert_eq!(api.raw()["siteName"], "Mine", "nothing overwritten");
    assert_eq!(api.raw()["timezone"], "UTC");
    // The same described in a file: `"versioned": false` is what `none` is, whatever its name.
    let kv = api.state.join("kv.json");
    std::fs::write(&kv, r#"{"name": "my-kv", "versioned": false}"#).unwrap();
    let (doc, tag) = api.read();
    let f = api.file(
        "file.json",
        &with(&doc, "", "siteName", json!("From a file")),
    );
    let o = run_cli(
        &api.state,
        &[
            "--dialect",
            kv.to_str().unwrap(),
            "put",
            &api.url(),
            &f,
            "--if-match",
            &tag,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("keeps no version"), "{}", err(&o));
    assert_eq!(api.raw()["siteName"], "From a file");
}

/// `ifmatch check` under `--dialect consul` asks its questions through the dialect (a scratch
/// key beside the real one, `?cas=` with the index just read and with one a write has replaced):
/// the demo's Consul KV refuses both the stale write and the create over an existing key, and
/// deletes only with the current index. Before, the check sent plain If-Match probes that Consul
/// ignores, read the scratch key without `?raw`, and its verdict said nothing about `?cas=`.
#[test]
fn the_check_asks_consul_through_its_index() {
    check_through_the_query("consul", "/v1/kv/settings?raw", "/v1/");
}

/// The same for Elasticsearch's `?if_seq_no=&if_primary_term=` and `op_type=create`.
#[test]
fn the_check_asks_elasticsearch_through_its_sequence_numbers() {
    check_through_the_query("elasticsearch", "/settings/_doc/1", "/settings/");
}

fn check_through_the_query(dialect: &'static str, path: &'static str, root: &str) {
    let api = Api::new(dialect, path, "");
    let before = api.raw();
    let o = api.cli(&["check", &api.url(), "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["verdict"], "protected", "{r}");
    for m in ["create", "put", "delete"] {
        assert!(
            r["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["method"] == m && x["verdict"] == "protected"),
            "{m}: {r}"
        );
    }
    assert_eq!(api.raw(), before, "the real key is untouched");
    let scratch = r["scratch"].as_str().unwrap();
    let path = &scratch[scratch.find(root).unwrap()..];
    assert_eq!(
        api.http("GET", path, None).0,
        404,
        "the scratch key is gone"
    );
    assert!(
        r["wrote"][1].as_str().unwrap().starts_with("deleted"),
        "{r}"
    );
}
