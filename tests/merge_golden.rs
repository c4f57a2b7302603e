//! The golden folder: every directory under tests/merge-cases/ holds base.json, mine.json,
//! theirs.json, the expected merge (expected.json: conflicts shown with their base value, as the
//! conflict view's Result starts) and expected-conflicts.json ({"conflicts": [...],
//! "positional_arrays": [...]} in `ifmatch merge --json`'s format); options.json may set
//! {"id_keys": [...]}.
//!
//! IFMATCH_BLESS=1 writes the expected files from the current engine (review them before
//! committing: a golden file is only as good as the person who read it).

use ifmatch_engine::json::Doc;
use ifmatch_engine::merge::{three_way, Fill, Options};
use std::path::Path;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
}

#[test]
fn golden_merge_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("merge-cases");
    let bless = std::env::var_os("IFMATCH_BLESS").is_some();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 40,
        "the golden folder holds {} cases; at least 40 expected",
        dirs.len()
    );
    let mut failures = vec![];
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (b, m, t) = (
            read(dir, "base.json"),
            read(dir, "mine.json"),
            read(dir, "theirs.json"),
        );
        let mut opts = Options::default();
        if dir.join("options.json").exists() {
            let o: serde_json::Value = serde_json::from_str(&read(dir, "options.json")).unwrap();
            opts.id_keys = o["id_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect();
        }
        let (bd, md, td) = (
            Doc::parse(&b).unwrap(),
            Doc::parse(&m).unwrap(),
            Doc::parse(&t).unwrap(),
        );
        let merge = three_way(&bd, &md, &td, &opts);
        let merged = merge.render(Fill::Base).unwrap();
        let report: serde_json::Value = serde_json::from_str(&merge.report_json(&merged)).unwrap();
        let got_conflicts = serde_json::json!({
            "conflicts": report["conflicts"],
            "positional_arrays": report["positional_arrays"],
        });
        if bless {
            std::fs::write(dir.join("expected.json"), &merged).unwrap();
            std::fs::write(
                dir.join("expected-conflicts.json"),
                serde_json::to_string_pretty(&got_conflicts).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let want = read(dir, "expected.json");
        if merged != want {
            failures.push(format!(
                "{name}: merged document differs\n--- expected\n{want}--- got\n{merged}"
            ));
        }
        let want_c: serde_json::Value =
            serde_json::from_str(&read(dir, "expected-conflicts.json")).unwrap();
        if got_conflicts != want_c {
            failures.push(format!(
                "{name}: conflicts differ\n--- expected\n{want_c:#}\n--- got\n{got_conflicts:#}"
            ));
        }
        // The conflict count and the clean flag agree with the list.
        assert_eq!(merge.stats.conflicts, merge.conflicts.len(), "{name}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}
