//! Every outcome of the engine's client, against the real demo server on loopback.

use ifmatch_engine::outcome::ValidatorSource;
use ifmatch_engine::{
    Auth, Client, ClientConfig, EntityTag, Outcome, Precondition, Secret, Validator,
};
use ifmatch_tests::{demo, demo_with, fault, DemoConfig};
use std::time::{Duration, Instant};

fn client() -> Client {
    client_with(ClientConfig::default(), Auth::None)
}

fn client_with(cfg: ClientConfig, auth: Auth) -> Client {
    Client::new(cfg, auth).unwrap()
}

fn fetched(o: Outcome) -> ifmatch_engine::Received {
    match o {
        Outcome::Fetched { doc, .. } => doc,
        other => panic!("expected fetched, got {other:?}"),
    }
}

fn tag_of(doc: &ifmatch_engine::Received) -> EntityTag {
    match &doc.validator {
        Some(Validator::Etag { tag }) => tag.clone(),
        other => panic!("expected an ETag, got {other:?}"),
    }
}

#[tokio::test]
async fn read_gives_strong_etag_and_304_serves_the_cache() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/settings", d.url());
    let doc = fetched(c.get(&url).await);
    let tag = tag_of(&doc);
    assert!(!tag.weak && tag.quoted);
    assert!(doc.text.contains("\"siteName\""));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    // Second read revalidates with If-None-Match and is served from the cache on 304.
    match c.get(&url).await {
        Outcome::Fetched {
            doc: again,
            from_cache,
        } => {
            assert!(from_cache);
            assert_eq!(again.text, doc.text);
        }
        other => panic!("{other:?}"),
    }
    let trail = c.trail().entries();
    assert_eq!(
        trail[1].preconditions,
        vec![("If-None-Match".to_string(), tag.raw.clone())]
    );
    assert_eq!(trail[1].status, Some(304));
    // After someone else's change, the revalidation brings the new version.
    d.another_admin("/settings", None).unwrap();
    match c.get(&url).await {
        Outcome::Fetched {
            doc: newer,
            from_cache,
        } => {
            assert!(!from_cache);
            assert!(newer.text.contains("edited by another admin"));
            assert_ne!(tag_of(&newer), tag);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn conditional_write_saves_and_stale_write_conflicts_without_retry() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/flags/dark-mode", d.url());
    let doc = fetched(c.get_fresh(&url).await);
    let v1 = tag_of(&doc);
    let mine = doc.text.replace("\"enabled\": false", "\"enabled\": true");
    let out = c.put(&url, &mine, Precondition::IfMatch(v1.clone())).await;
    let Outcome::Saved {
        status: 200,
        doc: Some(saved),
        validator_from: ValidatorSource::Response,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_ne!(tag_of(&saved), v1);
    // A second writer still holding v1 is refused, and the first writer's change stays.
    let theirs = doc.text.replace("Dark theme", "Night theme");
    let before = c.trail().entries().len();
    let out = c.put(&url, &theirs, Precondition::IfMatch(v1)).await;
    assert!(
        matches!(
            out,
            Outcome::Conflict {
                status: 412,
                hint: None
            }
        ),
        "{out:?}"
    );
    assert_eq!(out.kind(), "conflict");
    assert_eq!(out.exit_code(), 3);
    assert_eq!(
        c.trail().entries().len(),
        before + 1,
        "a 412 is never retried"
    );
    let server = d.text("/flags/dark-mode").unwrap();
    assert!(server.contains("\"enabled\": true") && !server.contains("Night theme"));
}

#[tokio::test]
async fn create_then_create_again_conflicts() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/posts/2", d.url());
    let out = c.create(&url, r#"{"id": 2, "title": "Hello"}"#).await;
    assert!(matches!(out, Outcome::Saved { status: 201, .. }), "{out:?}");
    let trail = c.trail().entries();
    assert_eq!(
        trail[0].preconditions,
        vec![("If-None-Match".to_string(), "*".to_string())]
    );
    let out = c.create(&url, r#"{"id": 2, "title": "Other"}"#).await;
    match out {
        Outcome::Conflict {
            status: 412,
            hint: Some(h),
        } => assert!(h.contains("already exists")),
        other => panic!("{other:?}"),
    }
    assert!(d.text("/posts/2").unwrap().contains("Hello"));
}

#[tokio::test]
async fn delete_is_conditional_and_leaves_gone() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/posts/1", d.url());
    let v = tag_of(&fetched(c.get_fresh(&url).await));
    d.another_admin("/posts/1", None).unwrap();
    assert!(matches!(
        c.delete(&url, Precondition::IfMatch(v)).await,
        Outcome::Conflict { .. }
    ));
    let v2 = tag_of(&fetched(c.get_fresh(&url).await));
    assert!(matches!(
        c.delete(&url, Precondition::IfMatch(v2)).await,
        Outcome::Deleted { status: 204 }
    ));
    let gone = c.get(&url).await;
    assert_eq!(gone, Outcome::Gone);
    assert!(gone.message().contains("deleted"));
    assert_eq!(
        c.get(&format!("{}/posts/404", d.url())).await,
        Outcome::NotFound
    );
}

#[tokio::test]
async fn unconditional_write_gets_precondition_required() {
    let d = demo().await;
    let c = client();
    let out = c
        .put(&format!("{}/settings", d.url()), "{}", Precondition::None)
        .await;
    assert_eq!(out, Outcome::PreconditionRequired);
    assert_eq!(out.exit_code(), 4);
    assert!(
        d.text("/settings").unwrap().contains("siteName"),
        "nothing was overwritten"
    );
    // Switched off, the same write goes through (the switch exists for servers that allow it).
    d.set_require_preconditions(false);
    assert!(c
        .put(&format!("{}/settings", d.url()), "{}", Precondition::None)
        .await
        .is_success());
}

#[tokio::test]
async fn if_unmodified_since_from_last_modified() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/labels/Label_2", d.url());
    let doc = fetched(c.get_fresh(&url).await);
    // Use only the date, as a client of a server without ETags would.
    let out = reqwest::get(&url).await.unwrap();
    let last_modified = out.headers()["last-modified"].to_str().unwrap().to_string();
    let ok = c
        .put(
            &url,
            &doc.text,
            Precondition::IfUnmodifiedSince(last_modified.clone()),
        )
        .await;
    assert!(ok.is_success(), "{ok:?}");
    // One second later someone changes it: the date-based write is now refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    d.another_admin("/labels/Label_2", None).unwrap();
    let stale = c
        .put(
            &url,
            &doc.text,
            Precondition::IfUnmodifiedSince(last_modified),
        )
        .await;
    assert!(
        matches!(stale, Outcome::Conflict { status: 412, .. }),
        "{stale:?}"
    );
}

#[tokio::test]
async fn merge_patch_is_conditional() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/labels/Label_1", d.url());
    let v = tag_of(&fetched(c.get_fresh(&url).await));
    let patch = r##"{"color": {"backgroundColor": "#000000"}}"##;
    let out = c
        .patch(
            &url,
            patch,
            "application/merge-patch+json",
            Precondition::IfMatch(v.clone()),
            None,
        )
        .await;
    assert!(matches!(out, Outcome::Saved { .. }), "{out:?}");
    assert!(d.text("/labels/Label_1").unwrap().contains("#000000"));
    let out = c
        .patch(
            &url,
            patch,
            "application/merge-patch+json",
            Precondition::IfMatch(v),
            None,
        )
        .await;
    assert!(matches!(out, Outcome::Conflict { .. }), "{out:?}");
}

#[tokio::test]
async fn unauthorized_and_forbidden() {
    let d = demo_with(DemoConfig {
        bearer_token: Some("s3cret-demo-token".into()),
        ..Default::default()
    })
    .await;
    let url = format!("{}/settings", d.url());
    match client().get(&url).await {
        Outcome::Unauthorized { challenge } => {
            assert_eq!(challenge.as_deref(), Some("Bearer realm=\"ifmatch-demo\""))
        }
        other => panic!("{other:?}"),
    }
    let wrong = client_with(ClientConfig::default(), Auth::Bearer(Secret::new("nope")));
    assert!(matches!(
        wrong.get(&url).await,
        Outcome::Unauthorized { .. }
    ));
    let right = client_with(
        ClientConfig::default(),
        Auth::Bearer(Secret::new("s3cret-demo-token")),
    );
    let doc = fetched(right.get(&url).await);
    assert!(doc.text.contains("siteName"));
    let sys = format!("{}/system/info", d.url());
    let v = tag_of(&fetched(right.get(&sys).await));
    let out = right.put(&sys, "{}", Precondition::IfMatch(v)).await;
    assert_eq!(out, Outcome::Forbidden);
    assert_eq!(out.exit_code(), 5);
    // The token appears nowhere in the trail or in any message.
    let trail = right.trail().to_json();
    assert!(!trail.contains("s3cret-demo-token"), "{trail}");
    assert!(!out.message().contains("s3cret"));
    assert!(
        trail.contains("demo-"),
        "the server's request id is recorded"
    );
}

#[tokio::test]
async fn rate_limited_and_unavailable_are_retried_with_a_bound() {
    let d = demo().await;
    let cfg = ClientConfig {
        backoff_base: Duration::from_millis(10),
        ..Default::default()
    };
    let c = client_with(cfg, Auth::None);
    let url = format!("{}/settings", d.url());
    // One 503 with Retry-After: 1, then the real answer: retried after ~1 s.
    d.add_fault(ifmatch_tests::Fault {
        status: Some(503),
        retry_after: Some(1),
        count: 1,
        ..fault()
    });
    let t0 = Instant::now();
    assert!(c.get(&url).await.is_success());
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "Retry-After was honoured"
    );
    assert_eq!(c.trail().entries().len(), 2);
    // Persistent 429: three attempts, then reported with the server's wait.
    d.add_fault(ifmatch_tests::Fault {
        status: Some(429),
        retry_after: Some(0),
        count: 10,
        ..fault()
    });
    let out = c.get_fresh(&url).await;
    assert_eq!(
        out,
        Outcome::RateLimited {
            retry_after_secs: Some(0),
            attempts: 3
        }
    );
    assert_eq!(c.trail().entries().len(), 5);
    d.clear_faults();
    // A wait longer than the client's bound is not slept through: reported at once.
    d.add_fault(ifmatch_tests::Fault {
        status: Some(503),
        retry_after: Some(3600),
        count: 10,
        path: None,
        ..fault()
    });
    let t0 = Instant::now();
    let out = c.get_fresh(&url).await;
    assert!(t0.elapsed() < Duration::from_secs(5));
    match out {
        Outcome::Unavailable {
            retry_after_secs: Some(3600),
            attempts: 1,
        } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_error_and_non_json_and_too_large() {
    let d = demo().await;
    let url = format!("{}/settings", d.url());
    let c = client_with(
        ClientConfig {
            max_body_bytes: 2000,
            ..Default::default()
        },
        Auth::None,
    );
    d.add_fault(ifmatch_tests::Fault {
        status: Some(500),
        ..fault()
    });
    match c.get(&url).await {
        Outcome::ServerError {
            status: 500,
            detail,
            may_have_landed: false,
        } => assert_eq!(detail, "injected by the demo server"),
        other => panic!("{other:?}"),
    }
    d.add_fault(ifmatch_tests::Fault {
        status: Some(200),
        body: Some("<html><body>Please log in</body></html>".into()),
        content_type: Some("text/html".into()),
        ..fault()
    });
    match c.get(&url).await {
        Outcome::InvalidResponse { problem, detail } => {
            assert_eq!(problem, ifmatch_engine::outcome::AnswerProblem::NotJson);
            assert!(
                detail.contains("text/html") && detail.contains("Please log in"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    d.add_fault(ifmatch_tests::Fault {
        status: Some(200),
        body: Some(format!("[{}0]", "0,".repeat(5000))),
        ..fault()
    });
    match c.get(&url).await {
        Outcome::InvalidResponse { problem, .. } => {
            assert_eq!(problem, ifmatch_engine::outcome::AnswerProblem::TooLarge)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn network_failure_before_sending() {
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = client()
        .put(
            &format!("http://127.0.0.1:{port}/x"),
            "{}",
            Precondition::IfNoneMatchAny,
        )
        .await;
    match &out {
        Outcome::NetworkBeforeSend { detail } => assert!(detail.contains("connection"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(out.exit_code(), 6);
    assert!(out.message().contains("Nothing was sent"));
}

#[tokio::test]
async fn network_failure_after_sending_is_ambiguous() {
    let d = demo().await;
    let c = client();
    let url = format!("{}/labels/Label_3", d.url());
    let doc = fetched(c.get_fresh(&url).await);
    let mine = doc.text.replace("Escalations", "Escalated");
    // The server applies the write, then breaks the connection instead of answering.
    d.add_fault(ifmatch_tests::Fault {
        method: Some("PUT".into()),
        drop_after_apply: true,
        ..fault()
    });
    let out = c
        .put(&url, &mine, Precondition::IfMatch(tag_of(&doc)))
        .await;
    assert!(matches!(out, Outcome::NetworkAfterSend { .. }), "{out:?}");
    assert_eq!(out.exit_code(), 7);
    assert!(out.message().contains("may or may not"));
    assert!(
        d.text("/labels/Label_3").unwrap().contains("Escalated"),
        "the write did land"
    );
}

#[tokio::test]
async fn timeout_after_sending() {
    let d = demo().await;
    let c = client_with(
        ClientConfig {
            timeout: Duration::from_millis(500),
            ..Default::default()
        },
        Auth::None,
    );
    d.add_fault(ifmatch_tests::Fault {
        delay_ms: 3000,
        ..fault()
    });
    match c.get(&format!("{}/settings", d.url())).await {
        Outcome::NetworkAfterSend { detail } => assert!(detail.contains("timed out"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_outcome_kind_has_words() {
    // The messages say what happened and what to do; kinds are stable snake_case names.
    let d = demo().await;
    let c = client();
    let out = c.get(&format!("{}/nope", d.url())).await;
    assert_eq!(out.kind(), "not_found");
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["kind"], "not_found");
    assert!(out.message().contains("Check the path"));
}

#[tokio::test]
async fn json_patch_generated_by_the_merge_applies_on_the_server_and_its_tests_refuse_stale_state()
{
    use ifmatch_engine::json::Doc;
    use ifmatch_engine::merge::patches::json_patch;
    let d = demo().await;
    let c = client();
    let url = format!("{}/flags/new-checkout", d.url());
    let doc = fetched(c.get_fresh(&url).await);
    let edited = doc.text.replace("\"enabled\": true", "\"enabled\": false");
    let patch = json_patch(
        &Doc::parse(&doc.text).unwrap(),
        &Doc::parse(&edited).unwrap(),
    );
    assert!(patch.contains("\"test\""), "{patch}");
    // Sent without If-Match (the server allows it here): only the patch's own tests protect it.
    d.set_require_preconditions(false);
    let out = c
        .patch(
            &url,
            &patch,
            "application/json-patch+json",
            Precondition::None,
            Some(&edited),
        )
        .await;
    assert!(out.is_success(), "{out:?}");
    assert!(d
        .text("/flags/new-checkout")
        .unwrap()
        .contains("\"enabled\": false"));
    // The same patch again: its test sees enabled=false now, and the server refuses (409).
    let out = c
        .patch(
            &url,
            &patch,
            "application/json-patch+json",
            Precondition::None,
            None,
        )
        .await;
    match out {
        Outcome::HttpError {
            status: 409,
            detail,
        } => assert!(detail.contains("test failed"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

/// Ambiguous write answers are settled by a read: a 5xx after the write was committed is a
/// save, a 5xx that did not apply says so, and a retried 503 whose first attempt landed is not
/// reported as somebody else's change.
#[tokio::test]
async fn a_write_answered_5xx_is_settled_by_reading() {
    let d = demo().await;
    let cfg = ClientConfig {
        backoff_base: Duration::from_millis(10),
        ..Default::default()
    };
    let c = client_with(cfg, Auth::None);
    let url = format!("{}/settings", d.url());
    let put_fault = |f: ifmatch_tests::Fault| ifmatch_tests::Fault {
        method: Some("PUT".into()),
        ..f
    };
    // A gateway's 500 after the upstream committed: saved, and the warning says how it is known.
    let doc = fetched(c.get_fresh(&url).await);
    let mine = doc.text.replace("Acme Support", "Acme One");
    d.add_fault(put_fault(ifmatch_tests::Fault {
        status_after_apply: Some(500),
        ..fault()
    }));
    match c
        .put(&url, &mine, doc.validator.clone().unwrap().precondition())
        .await
    {
        Outcome::Saved {
            status: 500,
            doc: Some(now),
            validator_from: ValidatorSource::Refetch,
        } => {
            assert!(
                now.warnings[0].contains("answered 500"),
                "{:?}",
                now.warnings
            );
            assert!(now.text.contains("Acme One"));
        }
        other => panic!("{other:?}"),
    }
    // A 500 that did not apply: the outcome says a read showed it was not applied.
    let doc = fetched(c.get_fresh(&url).await);
    d.add_fault(put_fault(ifmatch_tests::Fault {
        status: Some(500),
        ..fault()
    }));
    let out = c
        .put(
            &url,
            &doc.text.replace("Acme One", "Acme Two"),
            doc.validator.clone().unwrap().precondition(),
        )
        .await;
    match &out {
        Outcome::ServerError {
            status: 500,
            detail,
            may_have_landed: false,
        } => assert!(detail.contains("not applied"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert!(!out.message().contains("probably"), "{}", out.message());
    // A 500 after the commit, and the read to settle it fails too: it may have landed, and the
    // outcome says so in a field (the window offers "reload"), not only in words.
    d.add_fault(put_fault(ifmatch_tests::Fault {
        status_after_apply: Some(500),
        ..fault()
    }));
    d.add_fault(ifmatch_tests::Fault {
        method: Some("GET".into()),
        status: Some(500),
        ..fault()
    });
    let out = c
        .put(
            &url,
            &doc.text.replace("Acme One", "Acme Four"),
            doc.validator.clone().unwrap().precondition(),
        )
        .await;
    match &out {
        Outcome::ServerError {
            status: 500,
            detail,
            may_have_landed: true,
        } => assert!(detail.contains("may have landed"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // (It did land: the next read shows it.)
    assert!(fetched(c.get_fresh(&url).await).text.contains("Acme Four"));
    let doc = fetched(c.get_fresh(&url).await);
    // A 503 after the commit, retried: the retry meets 412 because of our own first attempt.
    d.add_fault(put_fault(ifmatch_tests::Fault {
        status_after_apply: Some(503),
        ..fault()
    }));
    let mine = doc.text.replace("Acme Four", "Acme Three");
    match c
        .put(&url, &mine, doc.validator.clone().unwrap().precondition())
        .await
    {
        Outcome::Saved { doc: Some(now), .. } => assert!(now.text.contains("Acme Three")),
        other => panic!("a conflict with itself is not a conflict: {other:?}"),
    }
    assert!(d.text("/settings").unwrap().contains("Acme Three"));
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_limit_is_reported_not_slept_through() {
    let d = demo().await;
    let c = client_with(
        ClientConfig {
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
        Auth::None,
    );
    d.add_fault(ifmatch_tests::Fault {
        status: Some(503),
        retry_after: Some(5),
        ..fault()
    });
    let t0 = Instant::now();
    let out = c.get_fresh(&format!("{}/settings", d.url())).await;
    assert_eq!(
        out,
        Outcome::Unavailable {
            retry_after_secs: Some(5),
            attempts: 1
        }
    );
    assert!(t0.elapsed() < Duration::from_secs(2), "--timeout 2 is kept");
}

/// The window's request preview under a dialect is what the write then sends: the same method,
/// URL (the version in Elasticsearch's query, Grafana's other path) and preconditions.
#[tokio::test]
async fn a_dialects_preview_is_the_request_sent() {
    use ifmatch_engine::dialect::Dialect;
    use ifmatch_engine::session::{plan_write, Version, WriteMethod};
    let d = demo().await;
    for (name, path, field) in [
        ("elasticsearch", "/settings/_doc/1", "siteName"),
        ("grafana", "/api/dashboards/uid/ops", "title"),
        (
            "kubernetes",
            "/api/v1/namespaces/default/configmaps/settings",
            "kind",
        ),
    ] {
        let cfg = ClientConfig {
            dialect: Dialect::preset(name).unwrap(),
            ..ClientConfig::default()
        };
        let c = client_with(cfg, Auth::None);
        let url = format!("{}{path}", d.url());
        let doc = fetched(c.get(&url).await);
        let mut v: serde_json::Value = serde_json::from_str(&doc.text).unwrap();
        if name == "kubernetes" {
            v["data"]["note"] = "previewed".into();
        } else {
            v[field] = "Previewed".into();
        }
        let mine = serde_json::to_string_pretty(&v).unwrap();
        let base = Version {
            text: doc.text.clone(),
            validator: doc.validator.clone(),
        };
        let plan = plan_write(WriteMethod::Put, &base, &mine).unwrap();
        let shown = c.request_for(&plan, &url).unwrap();
        let before = c.trail().entries().len();
        let out = c
            .put(&url, &plan.body, plan.precondition.clone().unwrap())
            .await;
        assert!(matches!(out, Outcome::Saved { .. }), "{name}: {out:?}");
        let sent = c.trail().entries()[before].clone();
        assert_eq!(sent.method, shown.method, "{name}");
        assert_eq!(sent.url, shown.url, "{name}");
        for p in &sent.preconditions {
            assert!(
                shown.headers.contains(p),
                "{name}: {p:?} not in {:?}",
                shown.headers
            );
        }
        let shown_pre = shown
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("If-"))
            .count();
        assert_eq!(shown_pre, sent.preconditions.len(), "{name}");
        assert_ne!(
            shown.body, plan.body,
            "{name}: the preview shows the API's body"
        );
    }
}
