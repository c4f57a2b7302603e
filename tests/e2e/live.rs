//! Live: the server's changes reach the open tab as they happen (engine::live in the window).
//! A clean tab shows them; a tab with unsaved edits gets a disjoint change merged into the
//! edit, and its Save is then one conditional PUT with no 412; a colliding change is marked
//! before Save; a tab in a conflict round re-merges keeping its decisions.

use crate::support::*;

/// The app with the watch on (the other window tests turn it off), polling every 0.5 s where a
/// server has no stream.
pub async fn live_app(
    env: &[(&str, &str)],
) -> (tokio::sync::MutexGuard<'static, ()>, Driver, Client) {
    let one_at_a_time = serial().await;
    let mut all = vec![("IFMATCH_LIVE", "on"), ("IFMATCH_LIVE_INTERVAL", "0.5")];
    all.extend_from_slice(env);
    let d = Driver::start(&all);
    let c = d.session().await;
    (one_at_a_time, d, c)
}

/// Another client changes `pointer` of the resource at `url` to `v` (a conditional PUT on the
/// ETag it read), as another admin would.
pub async fn another_client_sets(url: &str, pointer: &str, v: Value) {
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let r = http.get(url).send().await.unwrap();
        let etag = r
            .headers()
            .get("etag")
            .map(|e| e.to_str().unwrap().to_string());
        let mut doc: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        *doc.pointer_mut(pointer).unwrap() = v.clone();
        let mut put = http
            .put(url)
            .header("Content-Type", "application/json")
            .body(serde_json::to_string_pretty(&doc).unwrap());
        if let Some(e) = etag {
            put = put.header("If-Match", e);
        }
        if put.send().await.unwrap().status().is_success() {
            return;
        }
    }
    panic!("another client could not write {url}");
}

/// Waits until the live status line names how the tab is watched.
pub async fn until_watched(c: &Client) -> String {
    wait_for("the tab says how it is watched", || async {
        // (Read as the page holds it: WebKit's WebDriver gives no text for an ellipsised span.)
        let t = js(
            c,
            "return document.getElementById('live-status').textContent",
        )
        .await;
        let t = t.as_str().unwrap_or_default().to_string();
        (t.contains("live") || t.contains("polling")).then_some(t)
    })
    .await
}

/// The request trail's rows of the active tab, as text.
pub async fn trail_rows(c: &Client) -> Vec<String> {
    if !visible(c, "request-trail").await {
        click(c, &tid("trail-toggle")).await;
    }
    settle(c).await;
    let mut out = vec![];
    for r in c.find_all(Locator::Css(&tid("trail-row"))).await.unwrap() {
        out.push(r.text().await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_clean_tab_shows_the_servers_change() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    let how = until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    another_client_sets(&url, "/limits/maxUploadMb", json!(77)).await;
    wait_for("the clean tab shows the server's change", || async {
        editor_text(&c, "editor").await.contains("77").then_some(())
    })
    .await;
    assert_eq!(
        tab_status(&c, 0).await,
        "clean",
        "it is the server's version: nothing unsaved"
    );
    let notice = text_of(&c, "merge-summary").await;
    assert!(
        notice.contains("newer version is shown") && notice.contains("/limits/maxUploadMb"),
        "{notice}"
    );
    assert!(how.contains("live") || how.contains("polling"), "{how}");
    screenshot(&c, "live-clean-tab").await;
    // The version that arrived is in the local history, newest first.
    click(&c, &tid("history-toggle")).await;
    let kinds = wait_for("the arrived version in History", || async {
        let v = js(
            &c,
            "return [...document.querySelectorAll('[data-testid=\"history-row\"]')].map(r => r.dataset.kind);",
        )
        .await;
        (v.as_array()?.len() >= 2).then_some(v)
    })
    .await;
    assert_eq!(kinds[0], json!("server"), "{kinds}");
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_disjoint_change_is_merged_into_the_edit_and_save_sends_one_put() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Live"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(64)).await;
    let notice = wait_for("the server's change merged into the edit", || async {
        let n = text_of(&c, "merge-summary").await;
        n.contains("merged into your edit").then_some(n)
    })
    .await;
    assert!(notice.contains("/limits/maxUploadMb"), "{notice}");
    screenshot(&c, "live-merged-into-edit").await;
    let text = editor_text(&c, "editor").await;
    assert!(
        text.contains("Acme Live") && text.contains("64"),
        "both are in the edit: {text}"
    );
    // Undo takes back the user's own edit, not the server's change.
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let server: Value =
        serde_json::from_str(&reqwest::get(&url).await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(server["siteName"], json!("Acme Live"));
    assert_eq!(server["limits"]["maxUploadMb"], json!(64));
    // Method and status cells (a row's time may hold "412" too).
    let rows = fresh_trail(&c).await;
    let puts = rows.iter().filter(|(m, _)| m == "PUT").count();
    assert_eq!(puts, 1, "one write: {rows:#?}");
    assert!(
        !rows.iter().any(|(_, s)| s == "412"),
        "no 412 on the wire: {rows:#?}"
    );
    screenshot(&c, "live-saved-with-one-put").await;
}

/// The server's version of `url`, as JSON.
async fn server_doc(url: &str) -> Value {
    serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap()
}

/// Replaces the first `from` in the editor by `to` as one small change (as typing would), not
/// the whole text.
async fn replace_in_editor(c: &Client, from: &str, to: &str) {
    let ok = c
        .execute(
            "const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; \
             const at = v.state.doc.toString().indexOf(arguments[0]); if (at < 0) return false; \
             v.dispatch({changes: {from: at, to: at + arguments[0].length, insert: arguments[1]}}); return true;",
            vec![json!(from), json!(to)],
        )
        .await
        .unwrap();
    assert_eq!(ok, json!(true), "{from:?} is in the editor");
}

/// The request trail read afresh (the panel is a snapshot taken when it opens: closed first),
/// each row as (method, status) — a row's whole text holds a timestamp that may read "412".
async fn fresh_trail(c: &Client) -> Vec<(String, String)> {
    if visible(c, "request-trail").await {
        click(c, &tid("trail-toggle")).await;
        wait_for("the trail closed", || async {
            (!visible(c, "request-trail").await).then_some(())
        })
        .await;
    }
    trail_rows(c).await;
    let rows = js(
        c,
        "return [...document.querySelectorAll('[data-testid=\"trail-row\"]')].map(r => [r.cells[1].textContent, r.cells[2].textContent]);",
    )
    .await;
    serde_json::from_value(rows).unwrap()
}

/// What the live status line says (read as the page holds it).
async fn live_status(c: &Client) -> String {
    js(
        c,
        "return document.getElementById('live-status').textContent",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Waits until the notice says the server changed a place the edit changed too.
async fn until_collision_said(c: &Client) -> String {
    wait_for("the notice says the change collides", || async {
        let n = text_of(c, "merge-summary").await;
        n.contains("you changed too").then_some(n)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_colliding_change_is_marked_before_save() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Mine"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/siteName", json!("Acme Theirs")).await;
    let notice = until_collision_said(&c).await;
    assert!(
        notice.contains("a place") && notice.contains("/siteName"),
        "{notice}"
    );
    wait_for("the colliding line is marked", || async {
        let n = js(
            &c,
            "return document.querySelectorAll('[data-testid=\"editor\"] .cm-live-collision').length",
        )
        .await;
        (n.as_u64().unwrap_or(0) > 0).then_some(())
    })
    .await;
    let marked = js(
        &c,
        "return [...document.querySelectorAll('[data-testid=\"editor\"] .cm-live-collision')].map(l => l.textContent).join('\\n')",
    )
    .await;
    assert!(
        marked.as_str().unwrap().contains("siteName"),
        "the marked line is /siteName's: {marked}"
    );
    until_visible(&c, "live-show-conflicts", "the Show conflicts button").await;
    let text = editor_text(&c, "editor").await;
    assert!(
        text.contains("Acme Mine") && !text.contains("Acme Theirs"),
        "nothing of theirs applied over the edit: {text}"
    );
    screenshot(&c, "live-collision-marked").await;
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view from Save").await;
    let rows = fresh_trail(&c).await;
    assert!(
        !rows.iter().any(|(m, _)| m == "PUT"),
        "nothing sent until decided: {rows:?}"
    );
    assert!(!rows.iter().any(|(_, s)| s == "412"), "{rows:?}");
    click(&c, &result_accept(0, "mine")).await;
    wait_for("the conflict decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    until_status(&c, 0, "clean", "resubmitted").await;
    let server = server_doc(&url).await;
    assert_eq!(server["siteName"], json!("Acme Mine"), "{server}");
    let rows = fresh_trail(&c).await;
    let puts = rows.iter().filter(|(m, _)| m == "PUT").count();
    assert_eq!(puts, 1, "one write: {rows:?}");
    assert!(!rows.iter().any(|(_, s)| s == "412"), "no 412: {rows:?}");
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_conflict_round_re_merges_keeping_decisions() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mut mine = editor_text(&c, "editor").await;
    mine = edit(&mine, "/siteName", json!("Acme Care"));
    mine = edit(&mine, "/limits/maxUploadMb", json!(100));
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/siteName", json!("Acme Help")).await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(50)).await;
    wait_for("both collisions said", || async {
        let n = text_of(&c, "merge-summary").await;
        n.contains("2 places").then_some(n)
    })
    .await;
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    wait_for("two conflicts, none decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("2 of 2")
            .then_some(())
    })
    .await;
    click(&c, &result_accept(0, "mine")).await;
    wait_for("conflict 0 decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("1 of 2")
            .then_some(())
    })
    .await;
    // Another client changes a field nobody here changed: the round is merged again.
    another_client_sets(&url, "/notifications/digest", json!("weekly")).await;
    wait_for("the Result carries the server's new change", || async {
        editor_text(&c, "editor")
            .await
            .contains("weekly")
            .then_some(())
    })
    .await;
    wait_for("the Theirs pane shows it", || async {
        editor_text(&c, "theirs-pane")
            .await
            .contains("weekly")
            .then_some(())
    })
    .await;
    settle(&c).await;
    let left = text_of(&c, "unresolved-count").await;
    assert!(left.starts_with("1 of 2"), "the decision is kept: {left}");
    let res = js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.resolution);").await;
    assert_eq!(
        res,
        json!(["mine", "unresolved"]),
        "decisions after the re-merge"
    );
    let result = editor_text(&c, "editor").await;
    assert!(
        result.contains("Acme Care") && !result.contains("Acme Help"),
        "conflict 0 holds mine in the Result: {result}"
    );
    screenshot(&c, "live-round-re-merged").await;
    click(&c, &result_accept(1, "theirs")).await;
    wait_for("all decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    until_status(&c, 0, "clean", "resubmitted").await;
    let s = server_doc(&url).await;
    assert_eq!(s["siteName"], json!("Acme Care"), "{s}");
    assert_eq!(s["limits"]["maxUploadMb"], json!(50), "{s}");
    assert_eq!(s["notifications"]["digest"], json!("weekly"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_undo_takes_back_only_the_users_edit() {
    use fantoccini::key::Key;
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    replace_in_editor(&c, "Acme Support", "Acme Live").await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(64)).await;
    wait_for("the server's change merged into the edit", || async {
        let n = text_of(&c, "merge-summary").await;
        n.contains("merged into your edit").then_some(n)
    })
    .await;
    let text = editor_text(&c, "editor").await;
    assert!(text.contains("Acme Live") && text.contains("64"), "{text}");
    js(
        &c,
        "document.querySelector('[data-testid=\"editor\"]').ifmatchView.focus()",
    )
    .await;
    for _ in 0..4 {
        if !editor_text(&c, "editor").await.contains("Acme Live") {
            break;
        }
        type_into(&c, "editor", &chord(&[Key::Control], "z")).await;
        settle(&c).await;
    }
    let text = editor_text(&c, "editor").await;
    assert!(
        !text.contains("Acme Live"),
        "the user's edit undone: {text}"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["siteName"], json!("Acme Support"), "{text}");
    assert_eq!(
        doc["limits"]["maxUploadMb"],
        json!(64),
        "the server's merged change stays: {text}"
    );
    // One more undo reaches nothing of the server's.
    type_into(&c, "editor", &chord(&[Key::Control], "z")).await;
    settle(&c).await;
    let again: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    assert_eq!(again["limits"]["maxUploadMb"], json!(64), "{again}");
    until_status(&c, 0, "clean", "the text is the server's version again").await;
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_pouchdb_change_reaches_the_tab_within_a_second() {
    // (PouchDb::start makes its own runtime: started off this one.)
    let p = std::thread::spawn(|| PouchDb::start("cfg")).join().unwrap();
    let doc_url = format!("{}/cfg/settings", p.url);
    let http = reqwest::Client::new();
    let r = http
        .put(&doc_url)
        .header("Content-Type", "application/json")
        .body(r#"{"siteName": "Acme Support", "limits": {"maxUploadMb": 25}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (_g, _d, c) =
        live_app(&[("IFMATCH_API_URL", &p.url), ("IFMATCH_DIALECT", "couchdb")]).await;
    open(&c, "/cfg/settings").await;
    activate(&c, 0).await;
    wait_for("the document shown", || async {
        editor_text(&c, "editor")
            .await
            .contains("Acme Support")
            .then_some(())
    })
    .await;
    let how = wait_for("watched by the changes feed", || async {
        let t = live_status(&c).await;
        t.contains("live: CouchDB changes feed").then_some(t)
    })
    .await;
    // The feed's `since=now` is taken when its request arrives: a moment for it to get there.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut doc = server_doc(&doc_url).await;
    doc["limits"]["maxUploadMb"] = json!(4242);
    let at = Instant::now();
    let r = http
        .put(&doc_url)
        .header("Content-Type", "application/json")
        .body(doc.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    until(
        &c,
        "the tab shows the change",
        &format!("return {SHOWN_DOC}.toString().includes('4242');"),
        vec![],
    )
    .await;
    let took = at.elapsed();
    println!("pouchdb change shown after {took:?} ({how})");
    assert!(took < Duration::from_millis(1500), "shown after {took:?}");
    assert_eq!(tab_status(&c, 0).await, "clean");
}

/// A server that serves one JSON document with a strong ETag and answers every GET 200 with the
/// whole body, even to an If-None-Match that matches; no event stream.
async fn careless_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let body = SETTINGS;
                let resp = if head.starts_with("GET ") || head.starts_with("HEAD ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"v1\"\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                        body.len(),
                        if head.starts_with("HEAD ") { "" } else { body }
                    )
                } else {
                    "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_server_that_ignores_if_none_match_is_said() {
    let url = careless_server().await;
    let (_g, _d, c) = live_app(&[("IFMATCH_API_URL", &url)]).await;
    open(&c, "/settings").await;
    activate(&c, 0).await;
    let said = wait_for(
        "the status says every poll costs the full document",
        || async {
            let t = live_status(&c).await;
            t.contains("every poll costs the full document")
                .then_some(t)
        },
    )
    .await;
    let flag = js(
        &c,
        "return document.getElementById('live-status').dataset.fullBodyPolls",
    )
    .await;
    assert_eq!(flag, json!("yes"), "{said}");
    assert!(
        c.find(Locator::Css("#live-status[data-full-body-polls=\"yes\"]"))
            .await
            .is_ok(),
        "{said}"
    );
    println!("{said}");
    screenshot(&c, "live-full-body-polls").await;
}

/// "12 B" / "1.2 KB" / "3.4 MB" as bytes.
fn bytes_of(s: &str) -> f64 {
    let (n, unit) = s.trim().split_once(' ').unwrap();
    let n: f64 = n.parse().unwrap();
    n * match unit {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        other => panic!("unit {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_apache_is_polled_conditionally() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let (_g, _d, c) = live_app(&[("IFMATCH_API_URL", &apache.url)]).await;
    open(&c, "/settings.json").await;
    activate(&c, 0).await;
    let how = until_watched(&c).await;
    assert!(how.contains("polling"), "{how}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (got, plain, t) = wait_for("the figures against plain polling", || async {
        let t = live_status(&c).await;
        let rest = t.split(" · ").nth(1)?;
        let (got, rest) = rest.split_once(" received, plain polling ")?;
        let plain = rest.split(" — ").next()?;
        let (got, plain) = (bytes_of(got), bytes_of(plain));
        (plain >= 5.0 * SETTINGS.len() as f64).then_some((got, plain, t.clone()))
    })
    .await;
    println!("{t}");
    assert!(
        got * 3.0 < plain,
        "received {got} against plain {plain}: {t}"
    );
}

/// The other client takes its colliding change back, so the server holds again the very version
/// the tab stands on (the demo's content-hash ETag is the base's again).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_collision_taken_back_on_the_server_is_unmarked() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    replace_in_editor(&c, "Acme Support", "Acme Mine").await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/siteName", json!("Acme Theirs")).await;
    until_collision_said(&c).await;
    until_visible(&c, "live-show-conflicts", "the Show conflicts button").await;
    // The other client puts the old value back: nothing collides any more.
    another_client_sets(&url, "/siteName", json!("Acme Support")).await;
    wait_for("the collision is gone", || async {
        let marks = js(
            &c,
            "return document.querySelectorAll('[data-testid=\"editor\"] .cm-live-collision').length",
        )
        .await;
        (!visible(&c, "live-show-conflicts").await && marks.as_u64() == Some(0)).then_some(())
    })
    .await;
    let text = editor_text(&c, "editor").await;
    assert!(text.contains("Acme Mine"), "{text}");
    // Save is a plain conditional write: no conflict view, one PUT, no 412.
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    assert!(!visible(&c, "conflict-view").await);
    assert_eq!(server_doc(&url).await["siteName"], json!("Acme Mine"));
    let rows = fresh_trail(&c).await;
    assert_eq!(
        rows.iter().filter(|(m, _)| m == "PUT").count(),
        1,
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(_, s)| s == "412"), "{rows:?}");
}

/// Polling every 60 s, a change made since the last poll is met by Save's last look at the
/// server, merged into the edit, and said: nothing is sent until Save again, which is then one
/// conditional PUT — no 412 round for a disjoint change, even between polls.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_save_looks_once_more_before_writing() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let (_g, _d, c) = live_app(&[
        ("IFMATCH_API_URL", &apache.url),
        ("IFMATCH_LIVE_INTERVAL", "60"),
    ])
    .await;
    open(&c, "/settings.json").await;
    let how = until_watched(&c).await;
    assert!(how.contains("polling every 60 s"), "{how}");
    let url = format!("{}/settings.json", apache.url);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Look"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(61)).await;
    click(&c, &tid("save")).await;
    let notice = wait_for("the change met by Save's last look", || async {
        let n = text_of(&c, "merge-summary").await;
        n.contains("save again").then_some(n)
    })
    .await;
    assert!(
        notice.contains("/limits/maxUploadMb") && notice.contains("Nothing was sent"),
        "{notice}"
    );
    let text = editor_text(&c, "editor").await;
    assert!(text.contains("Acme Look") && text.contains("61"), "{text}");
    assert_eq!(
        server_doc(&url).await["siteName"],
        json!("Acme Support"),
        "nothing written yet"
    );
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let server = server_doc(&url).await;
    assert_eq!(server["siteName"], json!("Acme Look"));
    assert_eq!(server["limits"]["maxUploadMb"], json!(61));
    let rows = fresh_trail(&c).await;
    assert_eq!(
        rows.iter().filter(|(m, _)| m == "PUT").count(),
        1,
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(_, s)| s == "412"), "{rows:?}");
}

/// Another client replaces `from` by `to` in the stored text, keeping every byte else (its
/// carriage returns too), with If-Match on the ETag it read.
async fn another_client_replaces(url: &str, from: &str, to: &str) {
    let http = reqwest::Client::new();
    let r = http.get(url).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let text = r.text().await.unwrap();
    assert!(text.contains(from), "{from:?} in {text:?}");
    let put = http
        .put(url)
        .header("If-Match", etag)
        .header("Content-Type", "application/json")
        .body(text.replacen(from, to, 1))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
}

/// A document with CRLF line ends (the editor holds lines without them): a clean tab takes the
/// change and stays clean; an edit gets the next one merged in and saves with one PUT.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_a_crlf_document_is_followed_line_for_line() {
    let crlf = SETTINGS.replace('\n', "\r\n");
    let apache = Apache::start(&[("settings.json", &crlf)]);
    let (_g, _d, c) = live_app(&[("IFMATCH_API_URL", &apache.url)]).await;
    open(&c, "/settings.json").await;
    until_watched(&c).await;
    let url = format!("{}/settings.json", apache.url);
    another_client_replaces(&url, "\"maxUploadMb\": 25", "\"maxUploadMb\": 26").await;
    wait_for("the clean tab shows the change", || async {
        editor_text(&c, "editor")
            .await
            .contains("\"maxUploadMb\": 26")
            .then_some(())
    })
    .await;
    assert_eq!(
        tab_status(&c, 0).await,
        "clean",
        "the server's version, nothing unsaved"
    );
    replace_in_editor(&c, "Acme Support", "Acme CRLF").await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_replaces(&url, "\"timeoutMinutes\": 30", "\"timeoutMinutes\": 31").await;
    wait_for("the change merged into the edit", || async {
        let t = editor_text(&c, "editor").await;
        (t.contains("\"timeoutMinutes\": 31") && t.contains("Acme CRLF")).then_some(())
    })
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let server = server_doc(&url).await;
    assert_eq!(server["siteName"], json!("Acme CRLF"));
    assert_eq!(server["session"]["timeoutMinutes"], json!(31));
    assert_eq!(server["limits"]["maxUploadMb"], json!(26));
    let rows = fresh_trail(&c).await;
    assert_eq!(
        rows.iter().filter(|(m, _)| m == "PUT").count(),
        1,
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(_, s)| s == "412"), "{rows:?}");
}
