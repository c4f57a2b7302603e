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
    let rows = trail_rows(&c).await;
    let puts: Vec<&String> = rows.iter().filter(|r| r.contains("PUT")).collect();
    assert_eq!(puts.len(), 1, "one write: {rows:#?}");
    assert!(
        !rows.iter().any(|r| r.contains("412")),
        "no 412 on the wire: {rows:#?}"
    );
    screenshot(&c, "live-merged-into-edit").await;
}
