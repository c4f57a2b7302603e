//! The engine against a real Apache httpd 2.4 with mod_dav + mod_dav_fs (`FileETag Digest`),
//! started from tests/apache/httpd.conf.in on a loopback port.

use ifmatch_engine::outcome::ValidatorSource;
use ifmatch_engine::{Auth, Client, ClientConfig, Outcome, Precondition, Validator};
use ifmatch_tests::apache::Apache;

const SETTINGS: &str = "{\n  \"theme\": \"light\",\n  \"pageSize\": 50\n}\n";

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

#[tokio::test]
async fn read_write_create_delete_and_stale_write() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let c = client();
    let url = format!("{}/settings.json", apache.url);

    // Read: a strong digest ETag.
    let Outcome::Fetched { doc, .. } = c.get(&url).await else {
        panic!("read failed")
    };
    assert_eq!(doc.text, SETTINGS);
    let Some(Validator::Etag { tag: v1 }) = doc.validator.clone() else {
        panic!("{doc:?}")
    };
    assert!(!v1.weak, "FileETag Digest gives strong tags: {v1}");
    // Revalidation: 304 from Apache, body from the cache.
    assert!(matches!(
        c.get(&url).await,
        Outcome::Fetched {
            from_cache: true,
            ..
        }
    ));

    // Conditional write: Apache answers 204 without an ETag, so the client GETs to learn it.
    let mine = SETTINGS.replace("light", "dark");
    let out = c.put(&url, &mine, Precondition::IfMatch(v1.clone())).await;
    let Outcome::Saved {
        doc: Some(saved),
        validator_from: ValidatorSource::Refetch,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(saved.text, mine);
    let v2 = saved.validator.unwrap().etag().unwrap().clone();
    assert_ne!(v2.opaque, v1.opaque);
    assert_eq!(apache.file("settings.json").unwrap(), mine);

    // Stale write: refused with 412, the file keeps the first write.
    let theirs = SETTINGS.replace("50", "100");
    let out = c
        .put(&url, &theirs, Precondition::IfMatch(v1.clone()))
        .await;
    assert!(
        matches!(out, Outcome::Conflict { status: 412, .. }),
        "{out:?}"
    );
    assert_eq!(apache.file("settings.json").unwrap(), mine);

    // Create: If-None-Match: * makes a new file, and refuses to overwrite an existing one.
    let new_url = format!("{}/flags.json", apache.url);
    let out = c.create(&new_url, "{\"beta\": true}\n").await;
    assert!(matches!(out, Outcome::Saved { status: 201, .. }), "{out:?}");
    let again = c.create(&new_url, "{\"beta\": false}\n").await;
    assert!(
        matches!(again, Outcome::Conflict { status: 412, .. }),
        "{again:?}"
    );
    assert_eq!(apache.file("flags.json").unwrap(), "{\"beta\": true}\n");

    // Delete: stale If-Match refused, current one accepted; then 404.
    let out = c.delete(&url, Precondition::IfMatch(v1)).await;
    assert!(matches!(out, Outcome::Conflict { .. }), "{out:?}");
    let out = c.delete(&url, Precondition::IfMatch(v2)).await;
    assert!(matches!(out, Outcome::Deleted { .. }), "{out:?}");
    assert_eq!(c.get(&url).await, Outcome::NotFound);
    assert!(apache.file("settings.json").is_none());
}

#[tokio::test]
async fn apache_serving_a_non_json_file_is_reported() {
    let apache = Apache::start(&[("index.html", "<html><body>It works!</body></html>")]);
    match client().get(&format!("{}/index.html", apache.url)).await {
        Outcome::InvalidResponse { problem, detail } => {
            assert_eq!(problem, ifmatch_engine::outcome::AnswerProblem::NotJson);
            assert!(detail.contains("text/html"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}
