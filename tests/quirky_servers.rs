//! Servers that deviate from RFC 9110 in ways seen in the wild, scripted byte for byte on a raw
//! loopback socket: header spelling, unquoted / weak / garbled ETags, writes answered without a
//! validator, half-written files, cut-off bodies, redirects.

use ifmatch_engine::outcome::ValidatorSource;
use ifmatch_engine::{Auth, Client, ClientConfig, Outcome, Precondition, Secret, Validator};
use ifmatch_tests::raw::{RawServer, Reply};

const DOC: &str = r#"{"name": "Customers", "color": "green"}"#;

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

fn doc_of(o: &Outcome) -> &ifmatch_engine::Received {
    match o {
        Outcome::Fetched { doc, .. } => doc,
        other => panic!("expected fetched, got {other:?}"),
    }
}

#[tokio::test]
async fn etag_header_spelled_differently_and_unquoted_is_echoed_byte_for_byte() {
    let s = RawServer::start(vec![
        Reply::json(&["Etag: abc123"], DOC),
        Reply::new("204 No Content", &["Etag: def456"], ""),
    ])
    .await;
    let c = client();
    let url = format!("{}/labels/1", s.url);
    let got = c.get(&url).await;
    let doc = doc_of(&got);
    let Some(Validator::Etag { tag }) = &doc.validator else {
        panic!("{doc:?}")
    };
    assert!(!tag.quoted && tag.opaque == "abc123");
    assert!(
        doc.warnings.iter().any(|w| w.contains("no double quotes")),
        "{:?}",
        doc.warnings
    );
    let out = c
        .put(&url, DOC, doc.validator.clone().unwrap().precondition())
        .await;
    assert!(
        matches!(
            out,
            Outcome::Saved {
                validator_from: ValidatorSource::Response,
                ..
            }
        ),
        "{out:?}"
    );
    let seen = s.seen();
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(
        seen[1].header("if-match"),
        Some("abc123"),
        "sent back exactly as received"
    );
}

#[tokio::test]
async fn weak_etag_warns_and_a_refused_write_explains_why() {
    let s = RawServer::start(vec![
        Reply::json(&["ETag: W/\"5-abc\""], DOC),
        Reply::new(
            "412 Precondition Failed",
            &["Content-Type: text/plain"],
            "precondition failed",
        ),
    ])
    .await;
    let c = client();
    let url = format!("{}/x", s.url);
    let got = c.get(&url).await;
    let doc = doc_of(&got);
    assert!(
        doc.warnings.iter().any(|w| w.contains("weak")),
        "{:?}",
        doc.warnings
    );
    let out = c
        .put(&url, DOC, doc.validator.clone().unwrap().precondition())
        .await;
    match &out {
        Outcome::Conflict {
            status: 412,
            hint: Some(h),
        } => assert!(h.contains("weak"), "{h}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.seen()[1].header("If-Match"), Some("W/\"5-abc\""));
}

#[tokio::test]
async fn garbled_etag_is_ignored_with_a_warning_and_last_modified_is_used() {
    let s = RawServer::start(vec![
        Reply::json(
            &[
                "ETag: \"unterminated",
                "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT",
            ],
            DOC,
        ),
        Reply::new("204 No Content", &[], ""),
        Reply::json(&["Last-Modified: Sun, 06 Nov 1994 08:49:38 GMT"], DOC),
    ])
    .await;
    let c = client();
    let url = format!("{}/x", s.url);
    let got = c.get(&url).await;
    let doc = doc_of(&got);
    assert!(
        matches!(&doc.validator, Some(Validator::LastModified { raw }) if raw.ends_with("08:49:37 GMT"))
    );
    assert!(
        doc.warnings.iter().any(|w| w.contains("not an entity tag")),
        "{:?}",
        doc.warnings
    );
    assert!(
        doc.warnings.iter().any(|w| w.contains("one-second")),
        "{:?}",
        doc.warnings
    );
    let out = c
        .put(&url, DOC, doc.validator.clone().unwrap().precondition())
        .await;
    assert!(
        matches!(
            out,
            Outcome::Saved {
                validator_from: ValidatorSource::Refetch,
                ..
            }
        ),
        "{out:?}"
    );
    let seen = s.seen();
    assert_eq!(
        seen[1].header("If-Unmodified-Since"),
        Some("Sun, 06 Nov 1994 08:49:37 GMT")
    );
    assert_eq!(seen[1].header("If-Match"), None);
}

#[tokio::test]
async fn write_answer_without_validator_is_completed_by_a_get() {
    let s = RawServer::start(vec![
        Reply::new("204 No Content", &[], ""),
        Reply::json(&["ETag: \"v2\""], DOC),
    ])
    .await;
    let c = client();
    let out = c
        .put(
            &format!("{}/x", s.url),
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::strong("v1")),
        )
        .await;
    match out {
        Outcome::Saved {
            validator_from: ValidatorSource::Refetch,
            doc: Some(d),
            ..
        } => {
            assert_eq!(d.validator.unwrap().etag().unwrap().raw, "\"v2\"")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.seen()[1].method, "GET");
}

#[tokio::test]
async fn write_acknowledged_but_server_holds_something_else() {
    // The non-atomic server: our PUT is acknowledged, but another write landed right after it.
    let other = r#"{"name": "Someone else's", "color": "red"}"#;
    let s = RawServer::start(vec![
        Reply::new("204 No Content", &[], ""),
        Reply::json(&["ETag: \"v3\""], other),
    ])
    .await;
    let out = client()
        .put(
            &format!("{}/x", s.url),
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::strong("v1")),
        )
        .await;
    match &out {
        Outcome::SavedThenChanged { current, .. } => assert!(current.text.contains("Someone else")),
        other => panic!("{other:?}"),
    }
    assert_eq!(out.exit_code(), 3);
}

#[tokio::test]
async fn half_written_read_after_a_write_is_retried_before_it_is_believed() {
    let s = RawServer::start(vec![
        Reply::new("201 Created", &[], ""),
        Reply::json(&["ETag: \"half\""], "{\"name\": \"Cust"),
        Reply::json(&["ETag: \"v2\""], DOC),
    ])
    .await;
    let out = client()
        .put(&format!("{}/x", s.url), DOC, Precondition::IfNoneMatchAny)
        .await;
    assert!(
        matches!(
            out,
            Outcome::Saved {
                status: 201,
                validator_from: ValidatorSource::Refetch,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(s.seen().len(), 3);
}

#[tokio::test]
async fn no_validator_at_all_is_said() {
    let s = RawServer::start(vec![Reply::json(&[], DOC)]).await;
    let got = client().get(&format!("{}/x", s.url)).await;
    let doc = doc_of(&got);
    assert!(doc.validator.is_none());
    assert!(
        doc.warnings.iter().any(|w| w.contains("no validator")),
        "{:?}",
        doc.warnings
    );
}

#[tokio::test]
async fn body_cut_off_mid_answer_is_a_network_failure_after_sending() {
    let s = RawServer::start(vec![Reply::raw(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\nETag: \"a\"\r\n\r\n{\"na",
    )])
    .await;
    let out = client().get(&format!("{}/x", s.url)).await;
    assert!(matches!(out, Outcome::NetworkAfterSend { .. }), "{out:?}");
}

#[tokio::test]
async fn redirects_never_carry_credentials_to_another_origin() {
    let b = RawServer::start(vec![Reply::json(&["ETag: \"b\""], DOC)]).await;
    let a = RawServer::start(vec![
        Reply::new(
            "307 Temporary Redirect",
            &[&format!("Location: {}/moved", b.url)],
            "",
        ),
        Reply::new("308 Permanent Redirect", &["Location: /same-origin"], ""),
        Reply::json(&["ETag: \"a\""], DOC),
    ])
    .await;
    let c = Client::new(
        ClientConfig::default(),
        Auth::Bearer(Secret::new("tok-SECRET")),
    )
    .unwrap();
    assert!(c.get(&format!("{}/x", a.url)).await.is_success());
    assert_eq!(
        a.seen()[0].header("authorization"),
        Some("Bearer tok-SECRET")
    );
    assert_eq!(b.seen()[0].path, "/moved");
    assert_eq!(
        b.seen()[0].header("authorization"),
        None,
        "credentials stayed home"
    );
    // A same-origin redirect keeps them.
    assert!(c.get(&format!("{}/y", a.url)).await.is_success());
    assert_eq!(a.seen()[2].path, "/same-origin");
    assert_eq!(
        a.seen()[2].header("authorization"),
        Some("Bearer tok-SECRET")
    );
    let trail = c.trail().to_json();
    assert!(!trail.contains("tok-SECRET"));
    assert!(trail.contains("credentials not sent"), "{trail}");
}

#[tokio::test]
async fn a_write_redirected_with_301_is_reported_not_followed() {
    let s = RawServer::start(vec![Reply::new(
        "301 Moved Permanently",
        &["Location: /v2/x"],
        "",
    )])
    .await;
    let out = client()
        .put(&format!("{}/x", s.url), DOC, Precondition::IfNoneMatchAny)
        .await;
    match &out {
        Outcome::HttpError {
            status: 301,
            detail,
        } => assert!(detail.contains("/v2/x"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn a_307_on_a_write_keeps_method_body_and_precondition() {
    let s = RawServer::start(vec![
        Reply::new("307 Temporary Redirect", &["Location: /v2/x"], ""),
        Reply::new(
            "200 OK",
            &["ETag: \"n\"", "Content-Type: application/json"],
            DOC,
        ),
    ])
    .await;
    let out = client()
        .put(
            &format!("{}/x", s.url),
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::strong("o")),
        )
        .await;
    assert!(out.is_success(), "{out:?}");
    let second = &s.seen()[1];
    assert_eq!(
        (second.method.as_str(), second.path.as_str()),
        ("PUT", "/v2/x")
    );
    assert_eq!(second.header("If-Match"), Some("\"o\""));
    assert_eq!(second.body, DOC.as_bytes());
}

#[tokio::test]
async fn server_conflict_409_is_a_conflict_only_when_the_dialect_says_so() {
    let body = r#"{"error": "Document update conflict."}"#;
    let s = RawServer::start(vec![
        Reply::new("409 Conflict", &["Content-Type: application/json"], body),
        Reply::new("409 Conflict", &["Content-Type: application/json"], body),
    ])
    .await;
    let url = format!("{}/db/doc", s.url);
    let plain = client()
        .put(
            &url,
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::strong("1-a")),
        )
        .await;
    assert!(
        matches!(&plain, Outcome::HttpError { status: 409, detail } if detail.contains("update conflict")),
        "{plain:?}"
    );
    let couch = Client::new(
        ClientConfig {
            conflict_statuses: vec![412, 409],
            ..Default::default()
        },
        Auth::None,
    )
    .unwrap();
    let out = couch
        .put(
            &url,
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::strong("1-a")),
        )
        .await;
    assert!(
        matches!(out, Outcome::Conflict { status: 409, .. }),
        "{out:?}"
    );
}

/// A JSON 200 whose head carries `etag` as raw bytes.
fn json_with_raw_etag(etag: &[u8], body: &str) -> Reply {
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: ".to_vec();
    r.extend_from_slice(etag);
    r.extend_from_slice(
        format!(
            "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    Reply(r)
}

#[tokio::test]
async fn an_etag_with_obs_text_goes_back_byte_for_byte() {
    // RFC 9110 etagc includes obs-text (0x80-0xFF): here Latin-1 "é" and a UTF-8 "ü".
    let tag: &[u8] = b"\"v\xe9-\xc3\xbc\"";
    let s = RawServer::start(vec![
        json_with_raw_etag(tag, DOC),
        Reply::new("204 No Content", &["ETag: \"next\""], ""),
    ])
    .await;
    let c = client();
    let url = format!("{}/x", s.url);
    let got = c.get(&url).await;
    let doc = doc_of(&got);
    let pre = doc.validator.clone().expect("a validator").precondition();
    let out = c.put(&url, DOC, pre).await;
    assert!(matches!(out, Outcome::Saved { .. }), "{out:?}");
    let head = &s.seen()[1].head;
    let want = [b"If-Match: ".as_slice(), tag].concat();
    assert!(
        head.windows(want.len())
            .any(|w| w.eq_ignore_ascii_case(&want)),
        "If-Match sent back altered: {:?}",
        String::from_utf8_lossy(head)
    );
}

#[tokio::test]
async fn an_etag_of_star_is_no_validator_and_never_becomes_if_match_star() {
    let s = RawServer::start(vec![Reply::json(&["ETag: *"], DOC)]).await;
    let c = client();
    let got = c.get(&format!("{}/x", s.url)).await;
    let doc = doc_of(&got);
    assert_eq!(doc.validator, None, "\"*\" would match any version");
    assert!(
        doc.warnings.iter().any(|w| w.contains("not an entity tag")),
        "{:?}",
        doc.warnings
    );
}

#[tokio::test]
async fn a_server_that_stores_numbers_respelled_still_holds_what_was_written() {
    // PUT answered 204 without ETag; the read after it has the same values, spelled differently.
    let s = RawServer::start(vec![
        Reply::new("204 No Content", &[], ""),
        Reply::json(&["ETag: \"2\""], r#"{"price": 1.5, "max": 100.0}"#),
    ])
    .await;
    let c = client();
    let out = c
        .put(
            &format!("{}/x", s.url),
            r#"{"price": 1.50, "max": 1e2}"#,
            Precondition::IfMatch(ifmatch_engine::EntityTag::parse("\"1\"").unwrap()),
        )
        .await;
    assert!(
        matches!(
            out,
            Outcome::Saved {
                validator_from: ValidatorSource::Refetch,
                ..
            }
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_server_echoing_the_credentials_never_gets_them_printed() {
    // A debugging proxy that puts the request's Authorization header into its error bodies.
    let s = RawServer::start(vec![
        Reply::new(
            "400 Bad Request",
            &["Content-Type: application/json"],
            r#"{"message": "bad request (Authorization: Bearer sk-live-4242)"}"#,
        ),
        Reply::new(
            "500 Internal Server Error",
            &["Content-Type: text/plain"],
            "upstream said: Basic dXNlcjpodW50ZXIy and hunter2",
        ),
    ])
    .await;
    let bearer = Client::new(
        ClientConfig::default(),
        Auth::Bearer(Secret::new("sk-live-4242")),
    )
    .unwrap();
    let out = bearer.get(&format!("{}/x", s.url)).await;
    assert!(
        matches!(out, Outcome::HttpError { status: 400, .. }),
        "{out:?}"
    );
    let words = format!("{out:?} {}", out.message());
    assert!(!words.contains("sk-live-4242"), "{words}");
    assert!(words.contains("••••••"), "{words}");
    let basic = Client::new(
        ClientConfig::default(),
        Auth::Basic {
            user: "user".into(),
            password: Secret::new("hunter2"),
        },
    )
    .unwrap();
    let out = basic.get(&format!("{}/x", s.url)).await;
    let words = format!("{out:?} {}", out.message());
    assert!(
        !words.contains("hunter2") && !words.contains("dXNlcjpodW50ZXIy"),
        "{words}"
    );
}

#[tokio::test]
async fn a_redirect_loop_on_a_write_is_named_as_one() {
    let hop = || Reply::new("307 Temporary Redirect", &["Location: /loop"], "");
    let s = RawServer::start((0..10).map(|_| hop()).collect()).await;
    let c = client();
    let out = c
        .put(
            &format!("{}/loop", s.url),
            DOC,
            Precondition::IfMatch(ifmatch_engine::EntityTag::parse("\"1\"").unwrap()),
        )
        .await;
    let words = out.message();
    assert!(words.contains("redirect"), "{words}");
    assert!(
        !words.contains("508"),
        "no status the server never sent: {words}"
    );
    assert_eq!(out.exit_code(), ifmatch_engine::outcome::exit::HTTP_ERROR);
    assert_eq!(
        s.seen().len(),
        6,
        "the first request and five hops, then it stops"
    );
}
