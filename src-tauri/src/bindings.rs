//! The window's TypeScript types are generated from these Rust types (ts-rs) into
//! ui/src/bindings/. The test below fails when a committed file is stale; regenerate with
//! `IFMATCH_WRITE_BINDINGS=1 cargo test -p ifmatch-desktop bindings`.

#[cfg(test)]
mod tests {
    use crate::view;
    use ifmatch_engine::{merge, session};
    use std::path::{Path, PathBuf};
    use ts_rs::{Config, TS};

    fn check<T: TS + 'static>(dir: &Path, write: bool, stale: &mut Vec<String>) {
        let name = T::ident(&Config::new());
        let text = T::export_to_string(&Config::new()).expect("ts-rs exports the type");
        let path = dir.join(format!("{name}.ts"));
        if write {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }

    #[test]
    fn bindings_are_current() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        let write = std::env::var_os("IFMATCH_WRITE_BINDINGS").is_some();
        std::fs::create_dir_all(&dir).unwrap();
        let mut stale = vec![];
        check::<view::AuthInput>(&dir, write, &mut stale);
        check::<view::ConnectionInput>(&dir, write, &mut stale);
        check::<view::ConnectionView>(&dir, write, &mut stale);
        check::<view::Connections>(&dir, write, &mut stale);
        check::<view::ConnectionTest>(&dir, write, &mut stale);
        check::<view::TabView>(&dir, write, &mut stale);
        check::<view::Problem>(&dir, write, &mut stale);
        check::<view::ProblemCode>(&dir, write, &mut stale);
        check::<view::SaveView>(&dir, write, &mut stale);
        check::<view::SafetyView>(&dir, write, &mut stale);
        check::<view::ReviewView>(&dir, write, &mut stale);
        check::<view::DiffLine>(&dir, write, &mut stale);
        check::<view::LineKind>(&dir, write, &mut stale);
        check::<view::LineSide>(&dir, write, &mut stale);
        check::<view::RoundView>(&dir, write, &mut stale);
        check::<view::LineHunk>(&dir, write, &mut stale);
        check::<view::TextEdit>(&dir, write, &mut stale);
        check::<view::RequestPreview>(&dir, write, &mut stale);
        check::<view::JsonProblem>(&dir, write, &mut stale);
        check::<view::StaleCheck>(&dir, write, &mut stale);
        check::<view::LaterChangeView>(&dir, write, &mut stale);
        check::<view::RestoredTab>(&dir, write, &mut stale);
        check::<view::RestoredDrafts>(&dir, write, &mut stale);
        check::<view::Accepted>(&dir, write, &mut stale);
        check::<view::LiveSignal>(&dir, write, &mut stale);
        check::<view::LiveStatusView>(&dir, write, &mut stale);
        check::<view::LiveCollision>(&dir, write, &mut stale);
        check::<view::LiveUpdate>(&dir, write, &mut stale);
        check::<ifmatch_engine::round::ConflictStatus>(&dir, write, &mut stale);
        check::<ifmatch_engine::round::ConflictState>(&dir, write, &mut stale);
        check::<ifmatch_engine::round::Choice>(&dir, write, &mut stale);
        check::<session::SideLines>(&dir, write, &mut stale);
        check::<ifmatch_store::secrets::Backend>(&dir, write, &mut stale);
        check::<ifmatch_store::curl::CurlImport>(&dir, write, &mut stale);
        check::<ifmatch_store::history::HistoryEntry>(&dir, write, &mut stale);
        check::<ifmatch_engine::trail::TrailEntry>(&dir, write, &mut stale);
        check::<session::WriteMethod>(&dir, write, &mut stale);
        check::<session::ConflictInfo>(&dir, write, &mut stale);
        check::<merge::Stats>(&dir, write, &mut stale);
        check::<merge::ConflictKind>(&dir, write, &mut stale);
        assert!(
            stale.is_empty(),
            "generated TypeScript bindings are stale (the Rust types changed): {stale:?}. \
             Regenerate: IFMATCH_WRITE_BINDINGS=1 cargo test -p ifmatch-desktop bindings"
        );
    }
}
