//! The save loop end to end, without a window: two editors (tabs) of one resource, against the
//! demo server and Apache mod_dav. Mirrors the desktop app's acceptance scenarios (a)–(c).

use ifmatch_engine::merge::Options;
use ifmatch_engine::session::{save_round, Round, SaveResult, Version, WriteMethod};
use ifmatch_engine::{Auth, Client, ClientConfig, Outcome};
use ifmatch_tests::apache::Apache;
use ifmatch_tests::{demo, fault};
use serde_json::Value;

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

async fn load(c: &Client, url: &str) -> Version {
    match c.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => Version {
            text: doc.text,
            validator: doc.validator,
        },
        other => panic!("{other:?}"),
    }
}

fn edit(text: &str, pointer: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    serde_json::to_string_pretty(&v).unwrap()
}

fn server(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// (a) Two tabs edit different fields; the second save merges without a collision and, once
/// resubmitted, the server holds both changes.
async fn different_fields_merge(url: &str, read_server: impl Fn() -> String, method: WriteMethod) {
    let (a, b) = (client(), client());
    let base_a = load(&a, url).await;
    let base_b = load(&b, url).await;
    let mine_a = edit(&base_a.text, "/session/timeoutMinutes", 45.into());
    let mine_b = edit(&base_b.text, "/notifications/digest", "weekly".into());
    let ra = save_round(&a, url, &base_a, &mine_a, method, &Options::default()).await;
    assert!(matches!(ra, SaveResult::Saved { .. }), "{ra:?}");
    let rb = save_round(&b, url, &base_b, &mine_b, method, &Options::default()).await;
    let SaveResult::Merged {
        round:
            Round {
                current,
                start: merged,
                stats,
                ..
            },
    } = rb
    else {
        panic!("{rb:?}")
    };
    assert_eq!(
        (stats.from_mine, stats.from_theirs, stats.conflicts),
        (1, 1, 0)
    );
    let again = save_round(&b, url, &current, &merged, method, &Options::default()).await;
    assert!(matches!(again, SaveResult::Saved { .. }), "{again:?}");
    let s = server(&read_server());
    assert_eq!(s["session"]["timeoutMinutes"], 45);
    assert_eq!(s["notifications"]["digest"], "weekly");
}

const SETTINGS: &str = r#"{
  "siteName": "Acme Support",
  "session": {"timeoutMinutes": 30, "rememberMe": true},
  "notifications": {"email": true, "digest": "daily"},
  "limits": {"maxUploadMb": 25}
}
"#;

#[tokio::test]
async fn a_different_fields_merge_on_the_demo_server() {
    let d = demo().await;
    let url = format!("{}/settings", d.url());
    different_fields_merge(&url, || d.text("/settings").unwrap(), WriteMethod::Put).await;
}

#[tokio::test]
async fn a_different_fields_merge_with_merge_patch_and_json_patch() {
    let d = demo().await;
    let url = format!("{}/settings", d.url());
    different_fields_merge(
        &url,
        || d.text("/settings").unwrap(),
        WriteMethod::MergePatch,
    )
    .await;
    let d = demo().await;
    let url = format!("{}/settings", d.url());
    different_fields_merge(
        &url,
        || d.text("/settings").unwrap(),
        WriteMethod::JsonPatch,
    )
    .await;
}

#[tokio::test]
async fn a_different_fields_merge_on_apache() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let url = format!("{}/settings.json", apache.url);
    different_fields_merge(
        &url,
        || apache.file("settings.json").unwrap(),
        WriteMethod::Put,
    )
    .await;
}

/// (b) + (c): both edit the same fields: conflicts by pointer; the user resolves one with mine and
/// one by editing; a third writer changes something else meanwhile: the resubmit conflicts again,
/// and the next round keeps the resolutions and the third writer's change.
async fn conflicts_resolve_and_survive_a_third_writer(
    url: &str,
    third_writer: impl Fn(),
    read_server: impl Fn() -> String,
) {
    let (a, b) = (client(), client());
    let base_a = load(&a, url).await;
    let base_b = load(&b, url).await;
    let mine_a = edit(
        &edit(&base_a.text, "/siteName", "Acme Help".into()),
        "/limits/maxUploadMb",
        50.into(),
    );
    let mine_b = edit(
        &edit(&base_b.text, "/siteName", "Acme Care".into()),
        "/limits/maxUploadMb",
        100.into(),
    );
    assert!(matches!(
        save_round(
            &a,
            url,
            &base_a,
            &mine_a,
            WriteMethod::Put,
            &Options::default()
        )
        .await,
        SaveResult::Saved { .. }
    ));
    let rb = save_round(
        &b,
        url,
        &base_b,
        &mine_b,
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    let SaveResult::Conflicts {
        round:
            Round {
                current,
                start: merged,
                conflicts,
                ..
            },
    } = rb
    else {
        panic!("{rb:?}")
    };
    let pointers: Vec<_> = conflicts
        .iter()
        .map(|c| (c.pointer.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        pointers,
        vec![
            ("/siteName", "modify/modify"),
            ("/limits/maxUploadMb", "modify/modify")
        ]
    );
    assert_eq!(conflicts[0].mine.as_deref(), Some("\"Acme Care\""));
    assert_eq!(conflicts[0].theirs.as_deref(), Some("\"Acme Help\""));
    // The user: /siteName ← mine; /limits/maxUploadMb ← typed 75.
    let resolved = edit(
        &edit(&merged, "/siteName", "Acme Care".into()),
        "/limits/maxUploadMb",
        75.into(),
    );
    // Meanwhile a third writer changes another field.
    third_writer();
    let r2 = save_round(
        &b,
        url,
        &current,
        &resolved,
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    let SaveResult::Merged {
        round: Round {
            current: c2,
            start: m2,
            ..
        },
    } = r2
    else {
        panic!("the resubmit must meet the third writer: {r2:?}")
    };
    let r3 = save_round(&b, url, &c2, &m2, WriteMethod::Put, &Options::default()).await;
    assert!(matches!(r3, SaveResult::Saved { .. }), "{r3:?}");
    let s = server(&read_server());
    assert_eq!(s["siteName"], "Acme Care");
    assert_eq!(s["limits"]["maxUploadMb"], 75);
    assert_eq!(
        s["notifications"]["email"], false,
        "the third writer's change is kept"
    );
}

#[tokio::test]
async fn b_c_conflicts_on_the_demo_server() {
    let d = demo().await;
    let url = format!("{}/settings", d.url());
    conflicts_resolve_and_survive_a_third_writer(
        &url,
        || {
            d.another_admin(
                "/settings",
                Some(&serde_json::json!({"notifications": {"email": false}})),
            );
        },
        || d.text("/settings").unwrap(),
    )
    .await;
}

#[tokio::test]
async fn b_c_conflicts_on_apache() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let url = format!("{}/settings.json", apache.url);
    let third = client();
    let url2 = url.clone();
    let writer = move || {
        // Another client of the same server, through plain HTTP.
        let url = url2.clone();
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let base = load(&third, &url).await;
                    let mine = edit(&base.text, "/notifications/email", false.into());
                    let r = save_round(
                        &third,
                        &url,
                        &base,
                        &mine,
                        WriteMethod::Put,
                        &Options::default(),
                    )
                    .await;
                    assert!(matches!(r, SaveResult::Saved { .. }), "{r:?}");
                });
            });
        });
    };
    conflicts_resolve_and_survive_a_third_writer(&url, writer, || {
        apache.file("settings.json").unwrap()
    })
    .await;
}

#[tokio::test]
async fn invalid_json_is_not_sent() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/settings", d.url());
    let base = load(&c, &url).await;
    let before = c.trail().entries().len();
    let r = save_round(
        &c,
        &url,
        &base,
        "{\n  \"a\": 1,\n}",
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    match r {
        SaveResult::Invalid { message } => assert!(
            message.contains("line 3") && message.contains("not sent"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.trail().entries().len(), before, "nothing was sent");
}

#[tokio::test]
async fn an_ambiguous_failure_is_resolved_by_looking() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/posts/1", d.url());
    let base = load(&c, &url).await;
    let mine = edit(&base.text, "/published", true.into());
    d.add_fault(ifmatch_tests::Fault {
        method: Some("PUT".into()),
        drop_after_apply: true,
        ..fault()
    });
    let r = save_round(
        &c,
        &url,
        &base,
        &mine,
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    match r {
        SaveResult::Saved { base: nb, outcome } => {
            assert_eq!(
                outcome.kind(),
                "network_after_send",
                "the write landed although its answer was lost"
            );
            assert!(server(&nb.text)["published"] == true);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn other_failures_keep_the_text() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/settings", d.url());
    let base = load(&c, &url).await;
    d.add_fault(ifmatch_tests::Fault {
        method: Some("PUT".into()),
        status: Some(500),
        ..fault()
    });
    let r = save_round(
        &c,
        &url,
        &base,
        &base.text.replace("Acme", "Acne"),
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    match r {
        SaveResult::Failed { outcome, message } => {
            assert_eq!(outcome.kind(), "server_error");
            assert!(message.contains("Your text is kept"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_lost_answer_whose_check_fails_too_may_have_landed() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/posts/1", d.url());
    let base = load(&c, &url).await;
    let mine = edit(&base.text, "/published", true.into());
    d.add_fault(ifmatch_tests::Fault {
        method: Some("PUT".into()),
        drop_after_apply: true,
        ..fault()
    });
    d.add_fault(ifmatch_tests::Fault {
        method: Some("GET".into()),
        status: Some(500),
        ..fault()
    });
    let r = save_round(
        &c,
        &url,
        &base,
        &mine,
        WriteMethod::Put,
        &Options::default(),
    )
    .await;
    match r {
        SaveResult::Failed { outcome, message } => {
            assert_eq!(outcome.kind(), "network_after_send", "{message}");
            assert!(message.contains("may have landed"), "{message}");
            assert!(!message.contains("Nothing was sent"), "{message}");
            assert!(!message.contains("probably"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
