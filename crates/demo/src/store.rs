//! The demo's store: each path's live version (text, strong ETag, modification time) or its
//! tombstone, and "another admin"'s change.

use ifmatch_engine::etag::EntityTag;
use ifmatch_engine::patch::apply_merge_patch;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

/// Path → its state.
pub(crate) type Store = BTreeMap<String, Entry>;

/// What the store holds at one path.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A version: its text, strong ETag and modification time.
    Live {
        text: String,
        etag: EntityTag,
        modified: SystemTime,
    },
    /// Deleted: GET answers 410 Gone; a create may bring it back.
    Tombstone,
}

/// The seed resources as a store.
pub(crate) fn seeded() -> Store {
    crate::seed::documents()
        .into_iter()
        .map(|(path, v)| (path, live(v)))
        .collect()
}

/// A strong ETag derived from the stored text: same text, same tag.
pub(crate) fn etag_for(text: &str) -> EntityTag {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    EntityTag::strong(&format!("{:016x}", h.finish()))
}

/// Pretty JSON with a final newline, the way the demo stores and answers documents.
pub(crate) fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a Value always serialises");
    s.push('\n');
    s
}

/// A new live version of `v`.
pub(crate) fn live(v: Value) -> Entry {
    let text = pretty(&v);
    Entry::Live {
        etag: etag_for(&text),
        text,
        modified: now_whole_seconds(),
    }
}

/// HTTP dates have one-second granularity; storing finer times would make a client's
/// If-Unmodified-Since (copied from Last-Modified) fail against its own version.
fn now_whole_seconds() -> SystemTime {
    let d = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    std::time::UNIX_EPOCH + Duration::from_secs(d.as_secs())
}

/// "Another admin" changes the resource at `path`: applies `patch` (RFC 7396) or a canned change.
/// Returns the new text (None when there is no live resource there).
pub(crate) fn another_admin(
    store: &mut Store,
    path: &str,
    patch: Option<&Value>,
) -> Option<String> {
    let Some(Entry::Live { text, .. }) = store.get(path) else {
        return None;
    };
    let mut v: Value = serde_json::from_str(text).ok()?;
    match patch {
        Some(p) => apply_merge_patch(&mut v, p),
        None => canned_change(&mut v),
    }
    let e = live(v);
    let Entry::Live { text, .. } = &e else {
        unreachable!()
    };
    let out = text.clone();
    store.insert(path.to_string(), e);
    Some(out)
}

/// A plausible edit by someone else: renames the `name`/`title`/`siteName`/`description` it finds,
/// and counts the edits in `adminEdits`.
fn canned_change(v: &mut Value) {
    let Value::Object(o) = v else { return };
    for key in ["name", "title", "siteName", "description"] {
        if let Some(Value::String(s)) = o.get_mut(key) {
            s.push_str(" (edited by another admin)");
            break;
        }
    }
    let n = o.get("adminEdits").and_then(Value::as_u64).unwrap_or(0) + 1;
    o.insert("adminEdits".into(), json!(n));
}
