//! The server's own layout is kept: a merge sent back to the server is printed in the server
//! document's indentation, line ends and final newline, so the write changes only the lines
//! whose values changed (a diff on the server, or in its version history, shows the change and
//! nothing else). Through `ifmatch save` against the hostile-input kit's server on 127.0.0.1.

use ifmatch_tests::hostile::{Hostile, Knobs};
use ifmatch_tests::ifmatch_bin;
use std::process::{Command, Stdio};

/// `{"replicas": 3, "image": "app:1", "env": {"A": "1"}, "tags": ["x", "y"]}` laid out with
/// `indent` per level, `eol` line ends, and a final line end or not.
fn laid_out(indent: &str, eol: &str, final_eol: bool) -> String {
    let lines = [
        (0, "{"),
        (1, "\"replicas\": 3,"),
        (1, "\"image\": \"app:1\","),
        (1, "\"env\": {"),
        (2, "\"A\": \"1\""),
        (1, "},"),
        (1, "\"tags\": ["),
        (2, "\"x\","),
        (2, "\"y\""),
        (1, "]"),
        (0, "}"),
    ];
    let mut out = lines
        .iter()
        .map(|(d, l)| format!("{}{l}", indent.repeat(*d)))
        .collect::<Vec<_>>()
        .join(eol);
    if final_eol {
        out.push_str(eol);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_resubmit_changes_only_the_changed_lines_in_the_servers_layout() {
    let dir = std::env::temp_dir().join(format!("ifmatch-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, indent, eol, final_eol) in [
        ("four spaces", "    ", "\n", true),
        ("tabs, CRLF, no final newline", "\t", "\r\n", false),
        ("three spaces, no final newline", "   ", "\n", false),
    ] {
        let doc = laid_out(indent, eol, final_eol);
        let server = Hostile::start(Knobs::default(), &[("/doc", &doc)]).await;
        // Another admin changes the image right before our write: a 412, a merge, a resubmit.
        server.before("PUT", 1, |t| t.replace("app:1", "app:2"));
        let base = dir.join("base.json");
        let mine = dir.join("mine.json");
        std::fs::write(&base, &doc).unwrap();
        std::fs::write(&mine, doc.replace("\"replicas\": 3", "\"replicas\": 9")).unwrap();
        let tag = server.etag_of(&doc).unwrap();
        let o = Command::new(ifmatch_bin())
            .args(["save", &server.at("/doc")])
            .arg(&mine)
            .arg("--base")
            .arg(&base)
            .args(["--if-match", &tag, "--no-watch"])
            .env("IFMATCH_STATE_DIR", dir.join("state"))
            .env_remove("IFMATCH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
        let puts = server.seen_method("PUT");
        assert_eq!(puts.len(), 2, "{name}: a 412, then the merged resubmit");
        // What the server held when the resubmit was made, and what it was sent.
        let theirs = doc.replace("app:1", "app:2");
        let sent = String::from_utf8(puts[1].body.clone()).unwrap();
        let (old, new): (Vec<&str>, Vec<&str>) =
            (theirs.split('\n').collect(), sent.split('\n').collect());
        assert_eq!(old.len(), new.len(), "{name}: sent\n{sent}");
        let changed: Vec<&str> = (0..old.len())
            .filter(|&i| old[i] != new[i])
            .map(|i| new[i])
            .collect();
        assert_eq!(
            changed,
            vec![format!(
                "{indent}\"replicas\": 9,{}",
                eol.trim_end_matches('\n')
            )],
            "{name}: only the changed line differs; sent\n{sent:?}"
        );
        assert_eq!(
            server.text("/doc").unwrap(),
            theirs.replace("\"replicas\": 3", "\"replicas\": 9"),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
