//! The review before a resubmit and the local history of a resource.

use crate::support::*;

/// Review before resubmit (issue 11, item 3): on the first resubmit the window shows what it
/// will change on the server — the server's current version → what will be sent — which after a
/// clean merge is exactly my change, not the other admin's. Cancel sends nothing; Send writes;
/// turned off, the next resubmit goes straight out. "Review changes" shows the same for a save.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_review_before_resubmit() {
    let (_one_at_a_time, _driver, c) = app().await;
    js(
        &c,
        "localStorage.removeItem('ifmatch.reviewBeforeResubmit')",
    )
    .await;
    first_tab(&c).await;
    open(&c, "/settings").await;
    // Tab 2 (active) changes the digest and saves; tab 1, still on the old version, the timeout.
    let loaded = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/notifications/digest", json!("weekly")),
    )
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 1, "clean", "saved").await;
    activate(&c, 0).await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/session/timeoutMinutes", json!(45)),
    )
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "merged", "the merge").await;
    click(&c, &tid("resubmit")).await;
    let diff = wait_for("the review", || async {
        visible(&c, "review-dialog").await.then_some(())?;
        let t = text_of(&c, "review-diff").await;
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert!(diff.contains("-     \"timeoutMinutes\": 30,"), "{diff}");
    assert!(diff.contains("+     \"timeoutMinutes\": 45,"), "{diff}");
    assert!(
        !diff.contains("digest"),
        "the other admin's change is already there: {diff}"
    );
    assert!(
        text_of(&c, "review-summary")
            .await
            .contains("1 line(s) added, 1 removed"),
        "{}",
        text_of(&c, "review-summary").await
    );
    screenshot(&c, "review-before-resubmit").await;
    // Cancel: nothing sent.
    click(&c, &tid("review-cancel")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tab_status(&c, 0).await, "merged");
    let server: Value = serde_json::from_str(
        &reqwest::get(format!("{}/settings", demo_url(&c).await))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(server["session"]["timeoutMinutes"], 30, "nothing was sent");
    // Send, with the review turned off for next time.
    click(&c, &tid("resubmit")).await;
    until_visible(&c, "review-dialog", "the review again").await;
    click(&c, &tid("review-always")).await;
    click(&c, &tid("review-send")).await;
    until_status(&c, 0, "clean", "saved").await;
    let will = js(&c, "return window.ifmatchWillReview()").await;
    assert_eq!(will, json!(false), "turned off");
    // Review changes for an ordinary save: the loaded version → the edit.
    let now = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&now, "/siteName", json!("Acme Help"))).await;
    click(&c, &tid("review")).await;
    let diff = wait_for("the save's review", || async {
        visible(&c, "review-dialog").await.then_some(())?;
        let t = text_of(&c, "review-diff").await;
        t.contains("Acme Help").then_some(t)
    })
    .await;
    assert!(
        diff.contains("-   \"siteName\": \"Acme Support\","),
        "{diff}"
    );
    click(&c, &tid("review-send")).await;
    until_status(&c, 0, "clean", "saved").await;
    c.close().await.unwrap();
}

/// Local history (issue 11, item 5): every version loaded and saved is kept; an old one is
/// compared with the editor and restored into it, and Save writes it conditionally.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_history_keeps_versions_and_restores_one() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let loaded = editor_text(&c, "editor").await;
    for name in ["Acme Help", "Acme Care"] {
        let now = editor_text(&c, "editor").await;
        set_editor(&c, "editor", &edit(&now, "/siteName", json!(name))).await;
        click(&c, &tid("save")).await;
        wait_for("saved", || async {
            (text_of(&c, "merge-summary").await.starts_with("Saved")
                && tab_status(&c, 0).await == "clean")
                .then_some(())
        })
        .await;
    }
    click(&c, &tid("history-toggle")).await;
    let kinds = wait_for("three versions", || async {
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"history-row\"]')].map(r => r.dataset.kind);",
                vec![],
            )
            .await
            .ok()?;
        (v.as_array()?.len() == 3).then_some(v)
    })
    .await;
    assert_eq!(kinds, json!(["saved", "saved", "loaded"]));
    // Compare the loaded version with the editor: siteName was changed since.
    js(&c, "document.querySelectorAll('[data-testid=\"history-row\"]')[2].querySelector('[data-testid=\"history-compare\"]').click()").await;
    let diff = wait_for("the comparison", || async {
        visible(&c, "review-dialog").await.then_some(())?;
        let t = text_of(&c, "review-diff").await;
        t.contains("Acme Care").then_some(t)
    })
    .await;
    assert!(
        diff.contains("-   \"siteName\": \"Acme Support\","),
        "{diff}"
    );
    click(&c, &tid("review-cancel")).await;
    // Restore it and save: the server holds the first version again.
    js(&c, "document.querySelectorAll('[data-testid=\"history-row\"]')[2].querySelector('[data-testid=\"history-restore\"]').click()").await;
    wait_for("the restored text", || async {
        (editor_text(&c, "editor").await == loaded).then_some(())
    })
    .await;
    assert_eq!(tab_status(&c, 0).await, "dirty");
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let server: Value = serde_json::from_str(
        &reqwest::get(format!("{}/settings", demo_url(&c).await))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(server["siteName"], "Acme Support");
    wait_for("the open history showing the save", || async {
        let n = c
            .find_all(Locator::Css(&tid("history-row")))
            .await
            .ok()?
            .len();
        (n == 4).then_some(())
    })
    .await;
    screenshot(&c, "history").await;
    c.close().await.unwrap();
}

/// Issue 34, item 4: History lists the active tab's versions and follows the tab.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_history_follows_the_active_tab() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let loaded = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/siteName", json!("Acme Help")),
    )
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    open(&c, "/labels").await;
    let kinds = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"history-row\"]')].map(r => r.dataset.kind);").await
    };
    click(&c, &tid("history-toggle")).await;
    wait_for("the labels' one version", || async {
        (kinds().await == json!(["loaded"])).then_some(())
    })
    .await;
    activate(&c, 0).await;
    wait_for("the settings' versions", || async {
        (kinds().await == json!(["saved", "loaded"])).then_some(())
    })
    .await;
    activate(&c, 1).await;
    wait_for("back to the labels'", || async {
        (kinds().await == json!(["loaded"])).then_some(())
    })
    .await;
    // A review of an edit shows its legend; a comparison afterwards does not carry it over.
    activate(&c, 0).await;
    let now = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&now, "/siteName", json!("Acme Desk"))).await;
    click(&c, &tid("review")).await;
    wait_for("the review's legend", || async {
        (visible(&c, "review-dialog").await && !text_of(&c, "review-legend").await.is_empty())
            .then_some(())
    })
    .await;
    click(&c, &tid("review-cancel")).await;
    wait_for("the settings' versions", || async {
        (kinds().await == json!(["saved", "loaded"])).then_some(())
    })
    .await;
    js(&c, "document.querySelector('[data-testid=\"history-row\"] [data-testid=\"history-compare\"]').click()").await;
    wait_for("the comparison", || async {
        (visible(&c, "review-dialog").await
            && text_of(&c, "review-diff").await.contains("Acme Desk"))
        .then_some(())
    })
    .await;
    assert_eq!(
        text_of(&c, "review-legend").await,
        "",
        "no sides in a comparison"
    );
    c.close().await.unwrap();
}

/// The review's rows: `[text, side]`.
pub async fn review_rows(c: &Client) -> Vec<(String, String)> {
    let v = wait_for("the review", || async {
        visible(c, "review-dialog").await.then_some(())?;
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"review-diff\"] > div')].map(r => [r.textContent, r.dataset.side ?? '']);",
                vec![],
            )
            .await
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await;
    serde_json::from_value(v).unwrap()
}

/// Issue 34, item 2: the review tells each line by where its value came from, by JSON path.
/// Theirs changed the object's last member and mine added one after it: the server's value is
/// kept although its line gained a comma — "theirs", never "the server's change, which this
/// write replaces", and not "typed".
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_review_tells_a_kept_change_of_theirs_by_its_path() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    activate(&c, 0).await;
    let t = editor_text(&c, "editor").await;
    let theirs = edit(
        &edit(&t, "/notifications/digest", json!("weekly")),
        "/siteName",
        json!("Acme Help"),
    );
    set_editor(&c, "editor", &theirs).await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "the first tab saved").await;
    activate(&c, 1).await;
    let t = editor_text(&c, "editor").await;
    let mine = edit(&t, "/siteName", json!("Acme Care")).replace(
        "\"digest\": \"daily\"\n",
        "\"digest\": \"daily\",\n    \"sms\": true\n",
    );
    assert!(mine.contains("\"sms\""), "{mine}");
    set_editor(&c, "editor", &mine).await;
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    js(
        &c,
        "localStorage.setItem('ifmatch.reviewBeforeResubmit', 'always')",
    )
    .await;
    click(&c, &result_accept(0, "mine")).await;
    click(&c, &tid("resubmit")).await;
    let rows = review_rows(&c).await;
    let side_of = |text: &str| {
        rows.iter()
            .filter(|r| r.0.trim_end() == text)
            .map(|r| r.1.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        side_of("-     \"digest\": \"weekly\""),
        vec![""],
        "kept, not replaced: {rows:?}"
    );
    assert_eq!(
        side_of("+     \"digest\": \"weekly\","),
        vec!["theirs"],
        "{rows:?}"
    );
    assert_eq!(side_of("+     \"sms\": true"), vec!["mine"], "{rows:?}");
    assert_eq!(
        side_of("+   \"siteName\": \"Acme Care\","),
        vec!["mine"],
        "{rows:?}"
    );
    assert_eq!(
        side_of("-   \"siteName\": \"Acme Help\","),
        vec!["theirs"],
        "theirs' siteName is replaced: {rows:?}"
    );
    screenshot(&c, "review-by-path").await;
    click(&c, &tid("review-send")).await;
    until_status(&c, 1, "clean", "resubmitted").await;
    let s = Server::Demo.read(&c).await;
    assert_eq!(
        (
            s["notifications"]["digest"].clone(),
            s["notifications"]["sms"].clone()
        ),
        (json!("weekly"), json!(true))
    );
    c.close().await.unwrap();
}
