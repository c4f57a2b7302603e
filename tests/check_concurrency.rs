//! The server check's concurrency findings (engine::concurrency) against real servers on
//! loopback: whether validators see a same-size change within the same second, whether the
//! precondition check is atomic with the write (bursts of writes carrying one If-Match), and
//! whether the server offers a write lock it enforces.

use ifmatch_engine::concurrency::{probe, Concurrency};
use ifmatch_engine::{Auth, Client, ClientConfig};
use ifmatch_tests::apache::Apache;
use ifmatch_tests::nginx::Nginx;

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

fn said(c: &Concurrency) -> String {
    c.findings
        .iter()
        .map(|f| {
            format!(
                "{:?} {}: {}\n  {}",
                f.mark,
                f.topic,
                f.says,
                f.evidence.join("\n  ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn apache_offers_an_enforced_lock_and_strong_validators() {
    let apache = Apache::start(&[("scratch.json", "{}")]);
    let url = format!("{}/scratch.json", apache.url);
    let c = probe(&client(), &url).await;
    eprintln!("{}", said(&c));
    assert_eq!(c.lock, Some(true), "{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(false), "{}", said(&c));
    assert!(c.atomic.is_some(), "{}", said(&c));
    // Its check races its own writes: a burst finds two acknowledgements now and then (one
    // check may see none; a few checks in a row do).
    let mut found = c.atomic == Some(false);
    for _ in 0..6 {
        if found {
            break;
        }
        found = probe(&client(), &url).await.atomic == Some(false);
    }
    assert!(
        found,
        "Apache mod_dav's If-Match check was never seen racing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_validators_miss_same_size_changes_and_it_has_no_lock() {
    let nginx = Nginx::start(&[("scratch.json", "{}")]);
    let c = probe(&client(), &format!("{}/scratch.json", nginx.url)).await;
    eprintln!("{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(true), "{}", said(&c));
    assert_eq!(c.lock, Some(false), "{}", said(&c));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_server_is_atomic() {
    let demo = ifmatch_tests::demo().await;
    let url = format!("{}/scratch-probe", demo.url());
    let cl = client();
    assert!(cl.create(&url, "{}").await.is_success());
    let c = probe(&cl, &url).await;
    eprintln!("{}", said(&c));
    assert_eq!(c.atomic, Some(true), "{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(false), "{}", said(&c));
    assert_eq!(c.lock, Some(false), "{}", said(&c));
}
