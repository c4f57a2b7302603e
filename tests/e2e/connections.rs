//! Connections: the dialog, secrets kept out of files and messages, dialects, resources opened on their own connection.

use crate::support::*;

/// Opens the connection dialog with "New connection…". The button sits in a toolbar the window
/// redraws, so a click can land on a button that is being replaced: clicked again until the
/// dialog is open.
pub async fn new_connection(c: &Client) {
    wait_for("the connection dialog", || async {
        if visible(c, "connection-dialog").await {
            return Some(());
        }
        let settled = c
            .execute_async(SETTLED, vec![json!(tid("new-connection"))])
            .await
            .ok()?;
        if settled == json!(true) {
            c.find(Locator::Css(&tid("new-connection")))
                .await
                .ok()?
                .click()
                .await
                .ok()?;
        }
        None
    })
    .await;
}

pub async fn add_connection(
    c: &Client,
    name: &str,
    url: &str,
    auth: &str,
    secret: &str,
    extra: &str,
) {
    new_connection(c).await;
    set_field(c, "c-name", name).await;
    set_field(c, "c-url", url).await;
    set_field(c, "c-auth", auth).await;
    set_field(c, "c-secret", secret).await;
    if auth == "basic" {
        set_field(c, "c-user", extra).await;
    }
    if auth == "header" {
        set_field(c, "c-header", extra).await;
    }
    click(c, "#c-save").await;
    // Save tests the connection first; one that answers 401 is saved on the second click.
    let again = wait_for("the dialog to close or ask", || async {
        if !visible(c, "connection-dialog").await {
            return Some(false);
        }
        (text_of(c, "c-test-result").await.contains("401")
            && c.find(Locator::Css("#c-save"))
                .await
                .ok()?
                .text()
                .await
                .ok()?
                == "Save anyway")
            .then_some(true)
    })
    .await;
    if again {
        click(c, "#c-save").await;
    }
    wait_for("the dialog to close", || async {
        (!visible(c, "connection-dialog").await).then_some(())
    })
    .await;
}

/// The 401 message the window shows.
pub async fn unauthorized_message(c: &Client) -> String {
    wait_for("the 401", || async {
        let t = text_of(c, "error-message").await;
        t.contains("401").then_some(t)
    })
    .await
}

pub fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_secrets_never_reach_files_or_messages() {
    let _one_at_a_time = serial().await;
    const TOKEN: &str = "tok-e2e-bearer-7Q9";
    const PASSWORD: &str = "pw-e2e-basic-K2m";
    const HEADER: &str = "key-e2e-header-X5z";
    let demo = DemoProcess::start(&[("E2E_TOKEN", TOKEN)], &["--token-env", "E2E_TOKEN"]);
    let home = fresh_home("secrets");
    let mut messages = vec![];
    {
        let d = Driver::start_in(&home, &[]);
        let c = d.session().await;
        first_tab(&c).await;
        add_connection(&c, "Bearer API", &demo.url, "bearer", TOKEN, "").await;
        open(&c, "/settings").await;
        assert!(
            editor_text(&c, "editor").await.contains("siteName"),
            "the bearer token works"
        );
        // The request preview masks the secret.
        click(&c, &tid("preview-request")).await;
        let preview = wait_for("the preview", || async {
            let t = text_of(&c, "request-preview").await;
            t.contains("If-Match").then_some(t)
        })
        .await;
        assert!(
            preview.contains("Authorization: Bearer ••••••"),
            "{preview}"
        );
        messages.push(preview);
        // The trail of this tab, exported for a support ticket.
        click(&c, &tid("trail-toggle")).await;
        wait_for("trail rows", || async {
            c.find(Locator::Css(&tid("trail-row")))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        click(&c, &tid("export-trail")).await;
        let notice = wait_for("the export", || async {
            let t = text_of(&c, "merge-summary").await;
            t.contains("written to").then_some(t)
        })
        .await;
        messages.push(notice);
        add_connection(&c, "Basic API", &demo.url, "basic", PASSWORD, "alice").await;
        click(&c, &tid("open-resource-submit")).await;
        messages.push(unauthorized_message(&c).await);
        add_connection(&c, "Header API", &demo.url, "header", HEADER, "X-Api-Key").await;
        click(&c, &tid("open-resource-submit")).await;
        messages.push(unauthorized_message(&c).await);
        // A connection from a pasted curl command: its token goes where a typed one goes.
        new_connection(&c).await;
        click(&c, "#c-curl-row summary").await;
        set_field(
            &c,
            "c-curl",
            &format!(
                "curl -s -H 'Authorization: Bearer {TOKEN}' -H 'Accept: application/json' \\\n  '{}/settings?view=all'",
                demo.url
            ),
        )
        .await;
        click(&c, &tid("c-curl-fill")).await;
        let filled = wait_for("the curl import", || async {
            let t = text_of(&c, "c-curl-result").await;
            t.contains("Filled in").then_some(t)
        })
        .await;
        assert!(
            filled.contains("/settings?view=all opens after saving"),
            "{filled}"
        );
        assert!(
            filled.contains("Accept"),
            "what was not taken is said: {filled}"
        );
        let auth = js(&c, "return document.getElementById('c-auth').value").await;
        assert_eq!(auth, json!("bearer"));
        messages.push(filled);
        click(&c, "#c-save").await;
        wait_for("the dialog to close", || async {
            (!visible(&c, "connection-dialog").await).then_some(())
        })
        .await;
        let before = c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len();
        click(&c, &tid("open-resource-submit")).await;
        wait_for("the curl connection's tab", || async {
            (c.find_all(Locator::Css(&tid("tab"))).await.ok()?.len() > before).then_some(())
        })
        .await;
        wait_for("the document through the imported token", || async {
            editor_text(&c, "editor")
                .await
                .contains("siteName")
                .then_some(())
        })
        .await;
        // Everything the window shows.
        let body = js(
            &c,
            "return document.body.innerText + document.body.innerHTML;",
        )
        .await;
        messages.push(body.as_str().unwrap_or_default().to_string());
        screenshot(&c, "secrets-scenario").await;
        kill_app();
        let _ = c.close().await;
    }
    // Every file the app wrote: settings store, drafts, exported trail, anything else.
    let written = walk(&home);
    assert!(
        written.iter().any(|p| p.ends_with("settings.json")),
        "the settings store was written: {written:?}"
    );
    assert!(
        written
            .iter()
            .any(|p| p.to_string_lossy().contains("ifmatch-trail-")),
        "the trail was exported: {written:?}"
    );
    for p in &written {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        for s in [TOKEN, PASSWORD, HEADER] {
            assert!(!text.contains(s), "{} contains a secret", p.display());
        }
    }
    for m in &messages {
        for s in [TOKEN, PASSWORD, HEADER] {
            assert!(!m.contains(s), "a message shows a secret: {m}");
        }
    }
    // After a restart the connections come back from the store, and their secrets from the
    // keyring when one is available (scripts/test runs this under a kernel keyring session).
    {
        let d = Driver::start_in(&home, &[]);
        let c = d.session().await;
        first_tab(&c).await;
        let names = js(
            &c,
            "return [...document.querySelectorAll('#connection option')].map(o => o.textContent);",
        )
        .await;
        let names: Vec<String> = serde_json::from_value(names).unwrap();
        assert!(
            names.iter().any(|n| n.starts_with("Bearer API"))
                && names.iter().any(|n| n.starts_with("Header API")),
            "{names:?}"
        );
        let storage = js(
            &c,
            "return document.getElementById('secret-storage').textContent;",
        )
        .await;
        let storage = storage.as_str().unwrap_or_default().to_string();
        if std::env::var_os("IFMATCH_E2E_KEYRING").is_some() {
            assert!(
                storage.contains("kernel keyring") || storage.contains("system keyring"),
                "{storage}"
            );
            let id = js(&c, "return [...document.querySelectorAll('#connection option')].find(o => o.textContent.startsWith('Bearer API')).value;").await;
            set_field(&c, "connection", id.as_str().unwrap()).await;
            open(&c, "/settings").await;
            assert!(
                editor_text(&c, "editor").await.contains("siteName"),
                "the token came back from the keyring"
            );
        }
        c.close().await.unwrap();
    }
}

/// Whether an element by id takes space on screen (not hidden by itself or a parent).
pub async fn shown(c: &Client, id: &str) -> bool {
    c.execute(
        "return document.getElementById(arguments[0]).offsetParent !== null;",
        vec![json!(id)],
    )
    .await
    .unwrap()
    .as_bool()
    .unwrap()
}

pub async fn value_of(c: &Client, id: &str) -> String {
    let v = c
        .execute(
            "return document.getElementById(arguments[0]).value;",
            vec![json!(id)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

pub async fn connection_names(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll('#connection option')].map(o => o.textContent);",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// The connection dialog: only the chosen authentication's fields, a preset that resets, a test
/// before saving (an unreachable URL is not saved silently), editing keeps the secret, a 401 says
/// whether credentials were sent at all.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_connection_dialog() {
    let _one_at_a_time = serial().await;
    let demo = DemoProcess::start(
        &[("E2E_TOKEN", "tok-dialog")],
        &["--token-env", "E2E_TOKEN"],
    );
    let d = Driver::start(&[]);
    let c = d.session().await;
    first_tab(&c).await;
    new_connection(&c).await;
    for (auth, want) in [
        ("none", [false, false, false]),
        ("bearer", [false, false, true]),
        ("basic", [false, true, true]),
        ("header", [true, false, true]),
    ] {
        set_field(&c, "c-auth", auth).await;
        let got = [
            shown(&c, "c-header").await,
            shown(&c, "c-user").await,
            shown(&c, "c-secret").await,
        ];
        assert_eq!(got, want, "fields shown for {auth}: header, user, secret");
    }
    // The tallest form (basic: user and password): its buttons stay in view.
    set_field(&c, "c-auth", "basic").await;
    assert!(
        js(&c, "const r = document.getElementById('c-save').getBoundingClientRect(); return r.bottom <= window.innerHeight && r.top >= 0;").await
            == json!(true),
        "Save is in view"
    );
    screenshot(&c, "connection-dialog-basic").await;
    // A preset, then "—": everything it set is back to the defaults.
    set_field(&c, "c-preset", "gmail").await;
    assert_eq!(value_of(&c, "c-method").await, "merge_patch");
    set_field(&c, "c-preset", "").await;
    assert_eq!(
        value_of(&c, "c-method").await,
        "put",
        "the preset's PATCH is gone"
    );
    assert_eq!(value_of(&c, "c-auth").await, "none");
    assert_eq!(value_of(&c, "c-name").await, "");
    // Unreachable: Save tests first, says so, and does not close.
    let closed = free_port();
    set_field(&c, "c-name", "Local").await;
    set_field(&c, "c-url", &format!("http://127.0.0.1:{closed}")).await;
    set_field(&c, "c-auth", "bearer").await;
    set_field(&c, "c-secret", "tok-dialog").await;
    click(&c, "#c-save").await;
    let said = wait_for("the test's answer", || async {
        let t = text_of(&c, "c-test-result").await;
        (!t.is_empty() && !t.starts_with("Testing")).then_some(t)
    })
    .await;
    assert!(said.contains("reach"), "{said}");
    assert!(visible(&c, "connection-dialog").await, "not saved silently");
    assert_eq!(text_of(&c, "c-test-result").await, said);
    // Reachable: the test says what came back, and Save closes.
    set_field(&c, "c-url", &demo.url).await;
    click(&c, &tid("c-test")).await;
    let said = wait_for("the test's answer", || async {
        let t = text_of(&c, "c-test-result").await;
        t.starts_with("Reached").then_some(t)
    })
    .await;
    assert!(said.contains("bearer token was sent"), "{said}");
    click(&c, "#c-save").await;
    wait_for("the dialog to close", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    // The list is filled again once Rust has stored the connection (the dialog closes first).
    wait_for("the new connection in the list", || async {
        let all = connection_names(&c).await;
        all.contains(&"Local — bearer token, PUT".to_string())
            .then_some(())
    })
    .await;
    // Edit it: renamed, the secret left empty stays the one in the keyring (it still works).
    click(&c, &tid("edit-connection")).await;
    assert_eq!(value_of(&c, "c-name").await, "Local");
    set_field(&c, "c-name", "Local API").await;
    click(&c, "#c-save").await;
    wait_for("the dialog to close", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    let all = wait_for("the renamed connection in the list", || async {
        let all = connection_names(&c).await;
        all.contains(&"Local API — bearer token, PUT".to_string())
            .then_some(all)
    })
    .await;
    assert!(
        !all.iter().any(|n| n.starts_with("Local —")),
        "edited, not added: {all:?}"
    );
    open(&c, "/settings").await;
    assert!(
        editor_text(&c, "editor").await.contains("siteName"),
        "the kept token works"
    );
    // A connection without credentials: the 401 says that none were sent.
    add_connection(&c, "No creds", &demo.url, "none", "", "").await;
    click(&c, &tid("open-resource-submit")).await;
    let m = unauthorized_message(&c).await;
    assert!(m.contains("sent none"), "{m}");
    // The window offers to fix it: the connection's own dialog.
    assert!(
        visible(&c, "fix-connection").await,
        "a 401 offers to edit the connection"
    );
    screenshot(&c, "connection-dialog").await;
    click(&c, &tid("fix-connection")).await;
    until_visible(&c, "connection-dialog", "the edit dialog").await;
    assert_eq!(value_of(&c, "c-name").await, "No creds");
    c.close().await.unwrap();
}

/// A connection that speaks an API's own version dialect: chosen in the connection dialog
/// (which makes it write with PUT), the Kubernetes ConfigMap of a demo server opens without its
/// server-owned metadata, the request preview shows the version where Kubernetes wants it (in
/// the body, no If-Match), a change made meanwhile by another client is merged rather than
/// overwritten, and the resubmit lands with both changes.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_dialect_connection_edits_a_kubernetes_configmap() {
    let _one_at_a_time = serial().await;
    let demo = DemoProcess::start(&[], &[]);
    let path = "/api/v1/namespaces/default/configmaps/settings";
    let url = format!("{}{path}", demo.url);
    let d = Driver::start(&[]);
    let c = d.session().await;
    first_tab(&c).await;
    new_connection(&c).await;
    set_field(&c, "c-name", "Cluster").await;
    set_field(&c, "c-url", &demo.url).await;
    set_field(&c, "c-method", "merge_patch").await;
    set_field(&c, "c-dialect", "kubernetes").await;
    assert_eq!(
        value_of(&c, "c-method").await,
        "put",
        "a body version travels with the whole document"
    );
    click(&c, "#c-save").await;
    wait_for("the dialog to close", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    let all = connection_names(&c).await;
    assert!(
        all.contains(&"Cluster — no credentials, PUT, kubernetes dialect".to_string()),
        "{all:?}"
    );
    open(&c, path).await;
    let loaded = wait_for("the ConfigMap", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("pageSize").then_some(t)
    })
    .await;
    assert!(
        !loaded.contains("resourceVersion") && !loaded.contains("creationTimestamp"),
        "server-owned fields are not edited: {loaded}"
    );
    let badge = wait_for("the badge", || async {
        let b = text_of(&c, "server-safety").await;
        b.contains("dialect").then_some(b)
    })
    .await;
    assert!(badge.contains("kubernetes"), "{badge}");
    set_editor(&c, "editor", &edit(&loaded, "/data/theme", json!("dark"))).await;
    click(&c, &tid("preview-request")).await;
    let preview = wait_for("the preview", || async {
        let t = text_of(&c, "request-preview").await;
        t.contains("PUT").then_some(t)
    })
    .await;
    assert!(
        preview.contains("\"resourceVersion\":\"1\"")
            || preview.contains("\"resourceVersion\": \"1\""),
        "the version goes in the body: {preview}"
    );
    assert!(!preview.contains("If-Match"), "{preview}");
    // Another client (kubectl, say) changes another key meanwhile.
    let mut theirs = read_demo(&url).await;
    theirs["data"]["pageSize"] = json!("100");
    let r = reqwest::Client::new()
        .put(&url)
        .body(theirs.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the other writer");
    click(&c, &tid("save")).await;
    until_status(&c, 1, "merged", "the merge").await;
    assert_eq!(
        read_demo(&url).await["data"]["theme"],
        "light",
        "nothing written yet"
    );
    click(&c, &tid("resubmit")).await;
    wait_for("saved", || async {
        text_of(&c, "merge-summary")
            .await
            .starts_with("Saved")
            .then_some(())
    })
    .await;
    let now = read_demo(&url).await;
    assert_eq!(
        (
            now["data"]["theme"].clone(),
            now["data"]["pageSize"].clone()
        ),
        (json!("dark"), json!("100")),
        "both changes: {now}"
    );
    assert_eq!(
        now["metadata"]["uid"], "6f1c",
        "the server's own fields kept"
    );
    c.close().await.unwrap();
}

/// The server check proposes the dialect the document is shaped for, and the app takes it:
/// pouchdb-server (CouchDB's API) is recognised by `_id` / `_rev`, "Use this dialect…" opens the
/// connection with Version couchdb, and from then on its documents open without `_rev`, a
/// concurrent change is merged, and the save carries the revision in the body as CouchDB wants.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_check_proposes_a_dialect_and_couchdb_saves_through_rev() {
    let _one_at_a_time = serial().await;
    // The support crate's plain HTTP blocks on its own runtime: off this one.
    let db = std::thread::spawn(|| {
        let db = PouchDb::start("admin");
        for (path, body) in [
            ("/admin/settings", r#"{"theme": "light", "pageSize": 50}"#),
            ("/admin/flags", r#"{"beta": false, "limit": 10}"#),
        ] {
            let (s, b) = db.http("PUT", path, Some(body));
            assert_eq!(s, 201, "{b}");
        }
        db
    })
    .join()
    .unwrap();
    let d = Driver::start(&[]);
    let c = d.session().await;
    first_tab(&c).await;
    add_connection(&c, "Couch", &db.url, "none", "", "").await;
    open(&c, "/admin/settings").await;
    let plain = editor_text(&c, "editor").await;
    assert!(
        plain.contains("_rev"),
        "plain HTTP shows the body as is: {plain}"
    );
    click(&c, &tid("check-server")).await;
    let proposal = wait_for("the check's proposal", || async {
        visible(&c, "check-dialog").await.then_some(())?;
        let t = text_of(&c, "check-dialect").await;
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert!(proposal.contains("couchdb"), "{proposal}");
    assert!(
        text_of(&c, "check-report")
            .await
            .contains("shaped like the couchdb API"),
        "the finding is in the report"
    );
    click(&c, &tid("use-dialect")).await;
    until_visible(&c, "connection-dialog", "the connection dialog").await;
    assert_eq!(value_of(&c, "c-dialect").await, "couchdb");
    assert_eq!(value_of(&c, "c-name").await, "Couch", "the same connection");
    click(&c, "#c-save").await;
    wait_for("the dialog to close", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    let all = connection_names(&c).await;
    assert!(
        all.contains(&"Couch — no credentials, PUT, couchdb dialect".to_string()),
        "{all:?}"
    );
    open(&c, "/admin/flags").await;
    let loaded = wait_for("the flags", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("beta").then_some(t)
    })
    .await;
    assert!(
        !loaded.contains("_rev") && !loaded.contains("_id"),
        "CouchDB's own fields are not edited: {loaded}"
    );
    set_editor(&c, "editor", &edit(&loaded, "/beta", json!(true))).await;
    // Another client changes the limit meanwhile, the CouchDB way (its _rev in the body).
    let url = format!("{}/admin/flags", db.url);
    let mut theirs = read_demo(&url).await;
    theirs["limit"] = json!(20);
    let r = reqwest::Client::new()
        .put(&url)
        .header("Content-Type", "application/json")
        .body(theirs.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the other writer");
    click(&c, &tid("save")).await;
    until_status(&c, 2, "merged", "the merge").await;
    assert_eq!(read_demo(&url).await["beta"], false, "nothing written yet");
    click(&c, &tid("resubmit")).await;
    wait_for("saved", || async {
        text_of(&c, "merge-summary")
            .await
            .starts_with("Saved")
            .then_some(())
    })
    .await;
    let now = read_demo(&url).await;
    assert_eq!(
        (now["beta"].clone(), now["limit"].clone()),
        (json!(true), json!(20)),
        "both changes: {now}"
    );
    assert!(
        now["_rev"].as_str().is_some_and(|r| r.starts_with("3-")),
        "a third revision: {now}"
    );
    c.close().await.unwrap();
    drop(d);
    std::thread::spawn(move || drop(db)).join().unwrap();
}

/// Issue 34, item 4: a recent resource remembers its connection. /settings opened on the demo
/// (the first tab), then another connection whose server has its own /settings is added and
/// selected; the Recent entry still opens the demo's /settings.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_recent_resource_opens_on_its_own_connection() {
    use ifmatch_tests::hostile::{Hostile, Knobs};
    let _one_at_a_time = serial().await;
    let other = Hostile::start(
        Knobs::default(),
        &[
            ("/", "{}"),
            ("/settings", "{\n  \"where\": \"the other server\"\n}\n"),
        ],
    )
    .await;
    let d = Driver::start(&[]);
    let c = d.session().await;
    first_tab(&c).await;
    add_connection(&c, "Other", &other.url, "none", "", "").await;
    let selected = js(
        &c,
        "const s = document.getElementById('connection'); return s.options[s.selectedIndex].text;",
    )
    .await;
    assert!(
        selected.as_str().unwrap_or_default().starts_with("Other"),
        "the new connection is selected: {selected}"
    );
    click(&c, &tid("ws-toggle")).await;
    let label = wait_for("the recent resource", || async {
        let v = c
            .execute(
                "const li = document.querySelector('[data-testid=\"ws-recent-item\"]'); return li ? li.textContent : null;",
                vec![],
            )
            .await
            .ok()?;
        v.as_str().map(String::from)
    })
    .await;
    assert!(
        label.contains("/settings") && !label.contains("Other"),
        "the entry names its own connection: {label}"
    );
    let before = c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len();
    js(
        &c,
        "document.querySelector('[data-testid=\"ws-recent-item\"] a').click()",
    )
    .await;
    wait_for("the new tab", || async {
        (c.find_all(Locator::Css(&tid("tab"))).await.ok()?.len() > before).then_some(())
    })
    .await;
    let text = wait_for("its text", || async {
        let t = editor_text(&c, "editor").await;
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert!(
        text.contains("siteName") && !text.contains("the other server"),
        "opened on the demo, where it was opened before: {text}"
    );
    assert!(
        other
            .seen_method("GET")
            .iter()
            .all(|r| r.path != "/settings"),
        "nothing was read from the other server's /settings"
    );
    // /settings on the other connection too: tabs of the same name on different connections
    // each say which connection they are on.
    js(&c, "const s = document.getElementById('connection'); s.value = [...s.options].find(o => o.text.startsWith('Other')).value; s.dispatchEvent(new Event('change'));").await;
    open(&c, "/settings").await;
    let names = wait_for("the tabs' connections", || async {
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"tab\"]')].map(t => { const n = t.querySelector('[data-testid=\"tab-connection\"]'); return n ? n.textContent : ''; });",
                vec![],
            )
            .await
            .ok()?;
        (v.as_array()?.len() == 3).then_some(v)
    })
    .await;
    assert_eq!(names, json!(["Demo server", "Demo server", "Other"]));
    c.close().await.unwrap();
}
