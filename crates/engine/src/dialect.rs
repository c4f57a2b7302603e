//! Dialects: how a server spells "version" when it is not (only) the `ETag` header, as a
//! connection profile the client applies to every read and write.
//!
//! Owns: where the document sits in a read answer (`/data` for Kinto, `/_source` for
//! Elasticsearch, `/dashboard` for Grafana), which of its fields the server owns (kept out of
//! what the user edits, so never in a conflict), where the version lives (the header, a body
//! field sent back as is or plus one, query parameters), the body a write sends, and which
//! answers mean "stale write" (a status, the reason in its body, Consul's 200 `false`).
//!
//! A body or query version becomes the document's validator as a strong entity tag whose
//! opaque part encodes the values (`"3-abc"` for a CouchDB `_rev`, `"#7,#1"` for Elasticsearch's
//! sequence number and primary term), so the save loop, drafts and scripts carry it like any
//! ETag; a write turns it back into the field or the parameters and sends no `If-Match`.
//!
//! Also owns reading a dialect described in JSON (`Dialect::from_json`: unknown fields, wrong
//! types and bare pointers are errors that name them) and refusing a read answer that is the
//! API's metadata rather than the document (`not_document`: Consul's KV without `?raw`).
//!
//! Must never: send a write whose version could not be placed (that would be unconditional),
//! send a version advanced past what it can hold (plus one at u64::MAX would wrap to 0), take an
//! answer of the API's "not the document" shape for the document, or call an answer a conflict
//! that the dialect's reason says is something else.

use crate::etag::EntityTag;
use crate::outcome::Received;
use crate::precondition::{Precondition, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a read answer or a write cannot go through the dialect. Each variant carries the facts
/// (the dialect's name, a pointer, the validator); `Display` says it in the words the CLI and
/// the window show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialectError {
    /// The answer (or the document to write) has the shape of the API's "not the document".
    #[error("{} is not the document: it has the shape the {dialect} dialect knows as {instead} ({}); nothing was written from it", subject.words(), marks.join(", "))]
    NotDocument {
        /// What had that shape.
        subject: Subject,
        /// The dialect's name.
        dialect: String,
        /// What the API calls that shape.
        instead: String,
        /// The pointers that mark it.
        marks: Vec<String>,
    },
    /// The text is not JSON (the parser's words).
    #[error("{detail}")]
    NotJson {
        /// The parser's words.
        detail: String,
    },
    /// The answer lacks the header the version is read from.
    #[error("the answer has no {header} header with the version")]
    NoVersionHeader {
        /// The header's name.
        header: String,
    },
    /// The answer has no version at the dialect's pointer.
    #[error("the answer has no version at {pointer:?}")]
    NoVersion {
        /// Where the version should be.
        pointer: String,
    },
    /// The version is neither a string nor a number.
    #[error("the version at {pointer:?} is {value}, not a string or a number")]
    VersionNotScalar {
        /// Where it is.
        pointer: String,
        /// The value found, as JSON.
        value: String,
    },
    /// The answer has nothing at the document's pointer.
    #[error("the answer has no document at {pointer:?}")]
    NoDocument {
        /// Where the document should be.
        pointer: String,
    },
    /// The dialect's write template is not JSON.
    #[error("the write template: {detail}")]
    Template {
        /// The parser's words.
        detail: String,
    },
    /// A pointer that is no JSON pointer.
    #[error("{pointer:?} is no pointer")]
    NotAPointer {
        /// The text.
        pointer: String,
    },
    /// A pointer that passes through something other than an object.
    #[error("{pointer:?} does not lead into an object")]
    NotIntoObject {
        /// The pointer.
        pointer: String,
    },
    /// The validator does not encode this dialect's version.
    #[error("the validator {validator} is not a {dialect} version")]
    NotAVersion {
        /// The validator as received.
        validator: String,
        /// The dialect's name.
        dialect: String,
    },
    /// The validator holds no version value.
    #[error("no version value")]
    NoVersionValue,
    /// A date condition where the version lives in the body.
    #[error("{dialect} versions live in the body at {pointer}")]
    VersionInBody {
        /// The dialect's name.
        dialect: String,
        /// Where the version lives.
        pointer: String,
    },
    /// The validator holds fewer (or more) values than the query takes.
    #[error("the validator does not hold every query version")]
    IncompleteQueryVersion,
    /// A condition other than a version where the version travels in the query.
    #[error("{dialect} versions travel in the query")]
    VersionInQuery {
        /// The dialect's name.
        dialect: String,
    },
    /// A delete under a condition that is not a version.
    #[error("a {dialect} delete carries a version, not this condition")]
    DeleteCondition {
        /// The dialect's name.
        dialect: String,
    },
    /// This dialect has no way to carry a version on a delete.
    #[error("a delete in the {dialect} dialect cannot carry the version; delete with the API's own tool")]
    DeleteWithoutVersion {
        /// The dialect's name.
        dialect: String,
    },
    /// The dialect writes to another path, so a delete of the resource cannot go through it.
    #[error("the {dialect} dialect writes to another path; delete with the API's own tool")]
    DeleteElsewhere {
        /// The dialect's name.
        dialect: String,
    },
    /// A patch where the dialect writes whole documents.
    #[error("the {dialect} dialect writes whole documents (PUT), not {content_type} patches")]
    PatchNotSupported {
        /// The dialect's name.
        dialect: String,
        /// The patch's media type.
        content_type: String,
    },
    /// The dialect's write method is not an HTTP method.
    #[error("{method:?} is not an HTTP method")]
    NotAMethod {
        /// The method as written.
        method: String,
    },
    /// A version a write must advance by one cannot be.
    #[error("{}", advance_words(version, why))]
    CannotAdvance {
        /// The version, as JSON.
        version: String,
        /// Why not.
        why: Unadvanceable,
    },
    /// The resource's URL does not parse (the parser's words).
    #[error("{detail}")]
    BadUrl {
        /// The parser's words.
        detail: String,
    },
}

/// What had the shape of the API's "not the document" (`DialectError::NotDocument`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A read answer.
    Answer,
    /// The document about to be written.
    DocumentToWrite,
}

impl Subject {
    fn words(self) -> &'static str {
        match self {
            Subject::Answer => "The answer",
            Subject::DocumentToWrite => "The document to write",
        }
    }
}

/// Why a version cannot be advanced by one (`DialectError::CannotAdvance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unadvanceable {
    /// Neither a number nor a string.
    NotANumber,
    /// Empty, or with spaces around it.
    NotWhole,
    /// Below zero.
    Negative,
    /// A fraction, an exponent or other signs.
    NotWholeDigits,
    /// More digits than a u64 holds.
    TooManyDigits,
    /// u64::MAX: one more would wrap.
    Largest,
}

fn advance_words(version: &str, why: &Unadvanceable) -> String {
    let why = match why {
        Unadvanceable::NotANumber => {
            return format!("the version {version} is not a number to advance")
        }
        Unadvanceable::NotWhole => "is not a whole number".to_string(),
        Unadvanceable::Negative => "is negative".to_string(),
        Unadvanceable::NotWholeDigits => {
            "is not a whole number (it has a fraction, an exponent or other signs)".to_string()
        }
        Unadvanceable::TooManyDigits => format!(
            "has more digits than ifmatch advances (at most {})",
            u64::MAX
        ),
        Unadvanceable::Largest => format!(
            "is the largest whole number ifmatch advances ({}); one more would wrap to 0",
            u64::MAX
        ),
    };
    format!("the version {version} {why}, so it cannot be advanced by one; nothing was sent")
}

/// Why a dialect described in JSON (`--dialect FILE`, a connection's custom dialect) cannot be
/// used: which field, and what is wrong with it. `Display` names the field as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialectFileError {
    /// The text is empty.
    #[error("it is empty; a dialect is a JSON object such as {{\"version\": {{\"kind\": \"body\", \"pointer\": \"/version\"}}, \"conflict_statuses\": [409]}}")]
    Empty,
    /// The text is not JSON.
    #[error("it is not JSON: {detail}")]
    NotJson {
        /// The parser's words.
        detail: String,
    },
    /// The text is JSON but not an object.
    #[error("it is {kind}; a dialect is a JSON object of fields ({})", FIELDS.join(", "))]
    NotAnObject {
        /// What it is instead ("an array").
        kind: &'static str,
    },
    /// A field the dialect does not know.
    #[error("unknown field `{field}`{}; the fields {} are: {}", nearest.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default(), if within.is_empty() { "of a dialect".to_string() } else { format!("of `{within}`") }, known.join(", "))]
    UnknownField {
        /// The field, with the path to it (`version.pointr`).
        field: String,
        /// The object it is in (`version`; empty: the dialect itself).
        within: String,
        /// The known name it most likely misspells.
        nearest: Option<&'static str>,
        /// The fields that object takes.
        known: &'static [&'static str],
    },
    /// A field that must be an object is something else.
    #[error("`{field}` is {kind}, not an object")]
    NotAnObjectField {
        /// The field.
        field: String,
        /// What it is.
        kind: &'static str,
    },
    /// `version.kind` is none of the three.
    #[error("`version.kind` is {kind:?}; it is one of \"header\", \"body\", \"query\"")]
    UnknownVersionKind {
        /// What it says.
        kind: String,
    },
    /// `version` without a `kind`.
    #[error("`version` needs a `kind`: \"header\", \"body\" (with `pointer`) or \"query\" (with `params`)")]
    VersionWithoutKind,
    /// `changes` without one of the fields it needs.
    #[error("`changes` needs `{field}` (it has {})", has.join(", "))]
    MissingChangesField {
        /// The field it lacks.
        field: &'static str,
        /// The fields it has.
        has: Vec<String>,
    },
    /// A field of the wrong type (the parser's words).
    #[error("`{field}`: {detail}")]
    WrongType {
        /// The field.
        field: String,
        /// The parser's words.
        detail: String,
    },
    /// A pointer field that is empty where it must point somewhere.
    #[error(
        "`{field}` is empty: it must point into the answer (a JSON pointer such as \"/version\")"
    )]
    EmptyPointer {
        /// The field.
        field: String,
    },
    /// A pointer field without its leading `/`.
    #[error("`{field}` is {value:?}, which is not a JSON pointer: a pointer starts with / (write \"/{}\")", value.trim_start_matches(['.', '$']).replace('.', "/"))]
    NotAPointer {
        /// The field.
        field: String,
        /// What it holds.
        value: String,
    },
    /// `version.delete_param` is empty.
    #[error("`version.delete_param` is empty: name the query parameter, or leave it out")]
    EmptyDeleteParam,
    /// `version.params` is empty.
    #[error(
        "`version.params` is empty: a query version needs at least one [parameter, pointer] pair"
    )]
    NoQueryParams,
    /// A query parameter (or the create parameter) without a name.
    #[error("`{field}` has an empty parameter name")]
    EmptyParamName {
        /// The field (`version.params[0]`, `version.create`).
        field: String,
    },
    /// A query parameter read from `header:` without a header name.
    #[error("`version.params[{index}]`: \"header:\" needs a header name")]
    HeaderWithoutName {
        /// Which parameter.
        index: usize,
    },
    /// A status list holding something that is not an HTTP status.
    #[error("`{field}` holds {status}, which is not an HTTP status (100–599)")]
    NotAStatus {
        /// The field.
        field: &'static str,
        /// The number.
        status: u16,
    },
    /// `conflict_reason.values` is empty.
    #[error("`conflict_reason.values` is empty: no answer would be a conflict")]
    NoConflictValues,
    /// `write_template` is not JSON.
    #[error("`write_template` is not JSON: {detail}")]
    TemplateNotJson {
        /// The parser's words.
        detail: String,
    },
    /// `write_method` is not an HTTP method.
    #[error("`write_method` is {method:?}, which is not an HTTP method")]
    NotAMethod {
        /// What it holds.
        method: String,
    },
    /// `write_path` is not a path.
    #[error("`write_path` is {path:?}: a path on the resource's server starts with /")]
    NotAPath {
        /// What it holds.
        path: String,
    },
    /// `not_document.marks` is empty.
    #[error("`not_document.marks` is empty: every answer would match")]
    NoNotDocumentMarks,
    /// `changes.url` without `{cursor}`.
    #[error("`changes.url` is {url:?}: it needs {{cursor}} where the cursor goes")]
    ChangesUrlWithoutCursor {
        /// What it holds.
        url: String,
    },
}

/// Where a server keeps the version a write must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionIn {
    /// The `ETag` header, sent back in `If-Match` (RFC 9110).
    Header,
    /// A field of the body (JSON pointer in the read answer, the same place in the write body):
    /// sent back as read, or plus one (a version number the write must advance).
    Body {
        /// Where the version is, e.g. `/_rev`, `/metadata/resourceVersion`.
        pointer: String,
        /// The write carries the number read plus one (Confluence) instead of the same value.
        #[serde(default)]
        plus_one: bool,
        /// A write without the version is refused where the resource exists (CouchDB's 409),
        /// so a create can send none; otherwise a create reads first and stops if it exists.
        #[serde(default)]
        create_refused_if_exists: bool,
        /// The query parameter a delete carries the version in (CouchDB's `?rev=`); None: a
        /// delete cannot be made conditional in this dialect.
        #[serde(default)]
        delete_param: Option<String>,
    },
    /// Query parameters of the write, each from a field of the read answer
    /// (`?if_seq_no=` from `/_seq_no`) or a header of it (`?cas=` from `header:X-Consul-Index`).
    Query {
        /// (parameter, pointer in the read answer or `header:` and a header name) pairs.
        params: Vec<(String, String)>,
        /// A stale write is answered 200 with the body `false` (Consul's `?cas=`).
        #[serde(default)]
        false_is_conflict: bool,
        /// The parameter that makes a write a create refused where the resource exists
        /// (`op_type=create`, `cas=0`); None: a create reads first.
        #[serde(default)]
        create: Option<(String, String)>,
    },
}

/// The reason a conflict status must carry to be a conflict (Grafana answers 412 for a name
/// clash too; Kubernetes' 409 `Status` says `reason: Conflict` for a stale write only). The text
/// at `pointer` must begin with one of `values` (Confluence's message goes on with the number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Where in the error body the reason is.
    pub pointer: String,
    /// The values that mean "stale write".
    pub values: Vec<String>,
}

/// A read answer that is the API's description of the document instead of the document itself
/// (Consul's KV read without `?raw` answers `[{"Key", "Value" (base64), "ModifyIndex", …}]`;
/// a Kubernetes list URL answers `{"items": […]}`). Written back, it would be stored as the
/// document, one level deeper on every save: such an answer is refused before anything is
/// written, with the way to the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct NotDocument {
    /// JSON pointers that are all present in such an answer (`/0/Key`, `/0/ModifyIndex`, …).
    pub marks: Vec<String>,
    /// What the answer is, and how to read the document itself instead.
    pub instead: String,
}

impl NotDocument {
    /// Whether `v` has every mark.
    fn matches(&self, v: &Value) -> bool {
        !self.marks.is_empty() && self.marks.iter().all(|m| v.pointer(m).is_some())
    }
}

/// A connection's dialect. `Dialect::default()` is plain RFC 9110 (the `generic` preset); a
/// dialect read from JSON (`Dialect::from_json`) takes the default for every field it leaves
/// out, and refuses fields it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct Dialect {
    /// The preset it started from (`generic`, `couchdb`, …) or `custom`.
    pub name: String,
    /// Where the document is in a read answer ("" for the whole body).
    pub document: String,
    /// Where the document goes in a write's body (None: where it was read, `document`;
    /// Elasticsearch reads `/_source` and writes the source itself, "").
    pub write_at: Option<String>,
    /// The JSON a write sends with the document put at `write_at` (Grafana:
    /// `{"dashboard": null, "overwrite": false}`); None: the document itself, or an object
    /// holding only the document there.
    pub write_template: Option<String>,
    /// Where the version lives.
    pub version: VersionIn,
    /// Statuses that answer a stale write.
    pub conflict_statuses: Vec<u16>,
    /// What the error body must say for such a status to be a conflict (None: the status says
    /// it).
    pub conflict_reason: Option<Reason>,
    /// Fields the server owns, as pointers inside the document: left out of what the user edits
    /// (so never in a conflict); the server stamps them again on write.
    pub server_owned: Vec<String>,
    /// Writes go with this method instead of PUT (Grafana: POST).
    pub write_method: Option<String>,
    /// Writes go to this path on the same origin instead of the resource's URL (Grafana:
    /// `/api/dashboards/db`).
    pub write_path: Option<String>,
    /// Whether the API keeps a version at all (false: `none`, last write wins). Without one no
    /// write can be refused as stale: every write is compared with the server just before and
    /// read back just after, and the window and the CLI say the risk that remains.
    pub versioned: bool,
    /// A read answer shape that is not the document (None: every answer is taken as one).
    pub not_document: Option<NotDocument>,
    /// An endpoint that lists changes since a cursor (Gmail's `history?startHistoryId=`), which
    /// the live watch (`crate::live`) asks instead of re-reading the document (None: none).
    pub changes: Option<ChangesFeed>,
}

/// A "changes since a cursor" endpoint (history-id APIs): the watch asks it at its interval and
/// reads the document only when it lists a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ChangesFeed {
    /// The changes URL, relative to the resource's URL (`../history?startHistoryId={cursor}`)
    /// or absolute; `{cursor}` is replaced by the cursor, percent-encoded.
    pub url: String,
    /// Where an answer of `url` (and of `start_url`) holds the cursor to ask with next.
    pub cursor: String,
    /// Where an answer of `url` lists the changes; a list that is absent or empty means none.
    pub changes: String,
    /// Where the first cursor comes from (Gmail: `../profile`): an answer holding it at
    /// `cursor`. None: the cursor of the resource's own read answer, at `cursor`.
    #[serde(default)]
    pub start_url: Option<String>,
    /// Statuses that mean "this cursor is too old" (Gmail: 404): the watch reads the document
    /// whole and starts again from a new cursor.
    #[serde(default = "gone_statuses")]
    pub gone_statuses: Vec<u16>,
}

fn gone_statuses() -> Vec<u16> {
    vec![404, 410]
}

impl ChangesFeed {
    /// An error naming the first field that cannot work: a URL without `{cursor}`, a pointer
    /// without its leading `/`, a status that is not one.
    pub fn validate(&self) -> Result<(), DialectFileError> {
        if !self.url.contains("{cursor}") {
            return Err(DialectFileError::ChangesUrlWithoutCursor {
                url: self.url.clone(),
            });
        }
        pointer_ok(&self.cursor, "changes.cursor", false)?;
        pointer_ok(&self.changes, "changes.changes", false)?;
        for s in &self.gone_statuses {
            if !(100..=599).contains(s) {
                return Err(DialectFileError::NotAStatus {
                    field: "changes.gone_statuses",
                    status: *s,
                });
            }
        }
        Ok(())
    }
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            name: "generic".into(),
            document: String::new(),
            write_at: None,
            write_template: None,
            version: VersionIn::Header,
            conflict_statuses: vec![412],
            conflict_reason: None,
            server_owned: vec![],
            write_method: None,
            write_path: None,
            versioned: true,
            not_document: None,
            changes: None,
        }
    }
}

/// The presets' names, for the CLI's `--dialect` and the connection dialog.
pub const PRESETS: &[(&str, &str)] = &[
    ("generic", "RFC 9110: ETag, If-Match, 412"),
    (
        "couchdb",
        "CouchDB / Cloudant / PouchDB: _rev in the body, 409",
    ),
    (
        "kubernetes",
        "Kubernetes: metadata.resourceVersion, 409 Conflict",
    ),
    (
        "grafana",
        "Grafana dashboards: dashboard.version, POST /api/dashboards/db, 412 version-mismatch",
    ),
    (
        "elasticsearch",
        "Elasticsearch / OpenSearch: _source, ?if_seq_no&if_primary_term, 409",
    ),
    (
        "kinto",
        "Kinto: the record under data, server stamps id / last_modified, If-Match, 412",
    ),
    (
        "confluence",
        "Confluence pages: version.number, a write sends it plus one, 409",
    ),
    (
        "none",
        "No version at all (last write wins): every write compared before and read back after",
    ),
    (
        "consul",
        "Consul KV (read with ?raw): X-Consul-Index sent as ?cas=, a stale write answers false",
    ),
    (
        "gmail",
        "Gmail-style labels: RFC 9110 writes; the watch asks history?startHistoryId= for changes",
    ),
];

/// The preset a read answer's shape points to, with the fields that show it (None: nothing
/// recognisable — plain RFC 9110 or an API without a preset). Only shapes specific enough not to
/// be an ordinary document that happens to have a `version` field.
pub fn propose(doc: &Value) -> Option<(&'static str, &'static str)> {
    let is = |p: &str, f: fn(&Value) -> bool| doc.pointer(p).is_some_and(f);
    let text = |v: &Value| v.is_string();
    let num = |v: &Value| v.is_u64();
    let obj = |v: &Value| v.is_object();
    // CouchDB revisions are "<generation>-<hash>".
    let couch_rev = |v: &Value| {
        v.as_str().is_some_and(|r| {
            r.split_once('-').is_some_and(|(n, h)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty()
            })
        })
    };
    if is("/_rev", couch_rev) && is("/_id", text) {
        Some(("couchdb", "_id and _rev in the body"))
    } else if is("/metadata/resourceVersion", text) && is("/apiVersion", text) && is("/kind", text)
    {
        Some((
            "kubernetes",
            "apiVersion, kind and metadata.resourceVersion",
        ))
    } else if is("/dashboard/version", num) && is("/meta", obj) {
        Some(("grafana", "dashboard.version beside meta"))
    } else if is("/_seq_no", num) && is("/_primary_term", num) && is("/_source", obj) {
        Some(("elasticsearch", "_source with _seq_no and _primary_term"))
    } else if is("/version/number", num) && is("/type", text) && is("/space/key", text) {
        Some(("confluence", "type, space.key and version.number"))
    } else if is("/data/last_modified", num) && is("/data/id", text) {
        Some(("kinto", "the record under data with id and last_modified"))
    } else {
        None
    }
}

/// The preset whose API answers a read with this shape instead of the document (Consul's KV
/// metadata without `?raw`, a Kubernetes list), with what it is and the way to the document.
pub fn not_a_document(doc: &Value) -> Option<(&'static str, String)> {
    PRESETS.iter().find_map(|(name, _)| {
        let nd = Dialect::preset(name)?.not_document?;
        nd.matches(doc).then_some((*name, nd.instead))
    })
}

impl Dialect {
    /// A preset by name (see `PRESETS`).
    pub fn preset(name: &str) -> Option<Dialect> {
        let base = Dialect {
            name: name.to_string(),
            ..Dialect::default()
        };
        let body =
            |pointer: &str, create_refused_if_exists, delete_param: Option<&str>| VersionIn::Body {
                pointer: pointer.into(),
                plus_one: false,
                create_refused_if_exists,
                delete_param: delete_param.map(str::to_string),
            };
        let owned = |list: &[&str]| list.iter().map(|p| p.to_string()).collect();
        Some(match name {
            // Nothing to translate; what differs is what the callers do around each write
            // (compare before, read back after, say the risk) and that no check is run.
            "generic" => base,
            "none" => Dialect {
                versioned: false,
                ..base
            },
            "couchdb" => Dialect {
                version: body("/_rev", true, Some("rev")),
                conflict_statuses: vec![409],
                server_owned: owned(&["/_rev", "/_id"]),
                ..base
            },
            "kubernetes" => Dialect {
                version: body("/metadata/resourceVersion", false, None),
                not_document: Some(NotDocument {
                    marks: vec!["/items".into(), "/metadata/resourceVersion".into()],
                    instead: "a list of objects (`items`), not one object: read the object's \
                              own URL (…/NAME)"
                        .into(),
                }),
                conflict_statuses: vec![409],
                conflict_reason: Some(Reason {
                    pointer: "/reason".into(),
                    values: vec!["Conflict".into()],
                }),
                server_owned: owned(&[
                    "/metadata/resourceVersion",
                    "/metadata/uid",
                    "/metadata/generation",
                    "/metadata/creationTimestamp",
                    "/metadata/managedFields",
                    "/status",
                ]),
                ..base
            },
            "grafana" => Dialect {
                document: "/dashboard".into(),
                write_template: Some(r#"{"dashboard": null, "overwrite": false}"#.into()),
                version: body("/dashboard/version", false, None),
                conflict_statuses: vec![412],
                conflict_reason: Some(Reason {
                    pointer: "/status".into(),
                    values: vec!["version-mismatch".into()],
                }),
                server_owned: owned(&["/version", "/id"]),
                write_method: Some("POST".into()),
                write_path: Some("/api/dashboards/db".into()),
                ..base
            },
            "elasticsearch" => Dialect {
                document: "/_source".into(),
                write_at: Some(String::new()),
                version: VersionIn::Query {
                    params: vec![
                        ("if_seq_no".into(), "/_seq_no".into()),
                        ("if_primary_term".into(), "/_primary_term".into()),
                    ],
                    false_is_conflict: false,
                    create: Some(("op_type".into(), "create".into())),
                },
                conflict_statuses: vec![409],
                ..base
            },
            "consul" => Dialect {
                version: VersionIn::Query {
                    params: vec![("cas".into(), "header:X-Consul-Index".into())],
                    false_is_conflict: true,
                    create: Some(("cas".into(), "0".into())),
                },
                conflict_statuses: vec![],
                not_document: Some(consul_metadata()),
                ..base
            },
            "confluence" => Dialect {
                version: VersionIn::Body {
                    pointer: "/version/number".into(),
                    plus_one: true,
                    create_refused_if_exists: false,
                    delete_param: None,
                },
                conflict_statuses: vec![409],
                conflict_reason: Some(Reason {
                    pointer: "/message".into(),
                    values: vec!["Version must be incremented".into()],
                }),
                server_owned: owned(&["/version", "/history", "/_links", "/_expandable"]),
                ..base
            },
            "gmail" => Dialect {
                changes: Some(ChangesFeed {
                    url: "../history?startHistoryId={cursor}".into(),
                    cursor: "/historyId".into(),
                    changes: "/history".into(),
                    start_url: Some("../profile".into()),
                    gone_statuses: vec![404],
                }),
                ..base
            },
            "kinto" => Dialect {
                document: "/data".into(),
                server_owned: owned(&["/id", "/last_modified"]),
                ..base
            },
            _ => return None,
        })
    }

    /// An error when `v` has the shape of an answer that is not the document.
    fn refuse_not_document(
        &self,
        nd: &NotDocument,
        v: &Value,
        subject: Subject,
    ) -> Result<(), DialectError> {
        if nd.matches(v) {
            return Err(DialectError::NotDocument {
                subject,
                dialect: self.name.clone(),
                instead: nd.instead.clone(),
                marks: nd.marks.clone(),
            });
        }
        Ok(())
    }

    /// Whether this is plain RFC 9110 (nothing to translate).
    pub fn is_plain(&self) -> bool {
        self.version == VersionIn::Header
            && self.document.is_empty()
            && self.write_at.as_deref().is_none_or(str::is_empty)
            && self.write_template.is_none()
            && self.server_owned.is_empty()
            && self.conflict_reason.is_none()
            && self.write_method.is_none()
            && self.write_path.is_none()
    }

    /// Whether the server check's If-Match probes apply: plain RFC 9110 with a version. Any
    /// other dialect's writes are compared before and after instead of probed.
    pub fn probed_by_check(&self) -> bool {
        self.versioned && self.is_plain()
    }

    /// Whether the version travels in a header (so caching and `If-None-Match: *` apply).
    pub fn header_version(&self) -> bool {
        self.version == VersionIn::Header
    }

    /// What a read answer means in this dialect: the document (server-owned fields left out)
    /// and its validator (from the body or the query fields when the version lives there).
    pub fn on_read(&self, doc: Received) -> Result<Received, DialectError> {
        self.on_read_with(doc, &|_| None)
    }

    /// `on_read` for an answer whose headers `header` gives by name (a version may be in one).
    pub fn on_read_with(
        &self,
        mut doc: Received,
        header: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Received, DialectError> {
        if let Some(nd) = &self.not_document {
            if let Ok(whole) = serde_json::from_str::<Value>(&doc.text) {
                self.refuse_not_document(nd, &whole, Subject::Answer)?;
            }
        }
        if self.is_plain() {
            return Ok(doc);
        }
        let whole: Value = serde_json::from_str(&doc.text).map_err(not_json)?;
        let source = |p: &str| match p.strip_prefix("header:") {
            Some(name) => {
                let v = header(name).ok_or_else(|| DialectError::NoVersionHeader {
                    header: name.to_string(),
                })?;
                Ok(v.trim()
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(v)))
            }
            None => field(&whole, p),
        };
        let version = match &self.version {
            VersionIn::Header => None,
            VersionIn::Body { pointer, .. } => Some(vec![field(&whole, pointer)?]),
            VersionIn::Query { params, .. } => Some(
                params
                    .iter()
                    .map(|(_, p)| source(p))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let mut inner =
            whole
                .pointer(&self.document)
                .cloned()
                .ok_or_else(|| DialectError::NoDocument {
                    pointer: self.document.clone(),
                })?;
        for p in &self.server_owned {
            remove(&mut inner, p);
        }
        doc.text = crate::json::print::pretty(&inner.to_string());
        if let Some(values) = version {
            doc.validator = Some(Validator::Etag {
                tag: EntityTag::strong(&encode(&values)),
            });
            // The header's validator is not this server's version: its warnings do not apply.
            doc.warnings.clear();
        }
        Ok(doc)
    }

    /// The write to send for `document` under `pre`: the body (the document in the dialect's
    /// envelope, the version put in its field), the query to append, and the precondition
    /// headers that still apply (none when the version went into the body or the query).
    pub fn on_write(&self, document: &str, pre: &Precondition) -> Result<Write, DialectError> {
        if let Some(nd) = &self.not_document {
            if let Ok(v) = serde_json::from_str::<Value>(document) {
                self.refuse_not_document(nd, &v, Subject::DocumentToWrite)?;
            }
        }
        if self.is_plain() {
            return Ok(Write {
                body: document.to_string(),
                query: vec![],
                pre: pre.clone(),
                read_first: false,
            });
        }
        let doc: Value = serde_json::from_str(document).map_err(not_json)?;
        let at = self.write_at.as_deref().unwrap_or(&self.document);
        let mut body = match &self.write_template {
            Some(t) => serde_json::from_str(t).map_err(|e| DialectError::Template {
                detail: e.to_string(),
            })?,
            None if at.is_empty() => Value::Null,
            None => serde_json::json!({}),
        };
        put(&mut body, at, doc)?;
        let values = match pre {
            Precondition::IfMatch(tag) if !self.header_version() => {
                Some(decode(&tag.opaque).ok_or_else(|| self.not_a_version(tag))?)
            }
            _ => None,
        };
        let mut query = vec![];
        let mut read_first = false;
        let create = matches!(pre, Precondition::IfNoneMatchAny);
        let headers_pre = match &self.version {
            VersionIn::Header => pre.clone(),
            VersionIn::Body {
                pointer,
                plus_one,
                create_refused_if_exists,
                ..
            } => {
                if let Some(v) = values {
                    let v = v.into_iter().next().ok_or(DialectError::NoVersionValue)?;
                    let v = if *plus_one { plus(&v)? } else { v };
                    put(&mut body, pointer, v)?;
                } else if matches!(pre, Precondition::IfUnmodifiedSince(_)) {
                    return Err(DialectError::VersionInBody {
                        dialect: self.name.clone(),
                        pointer: pointer.clone(),
                    });
                } else {
                    // No version (a create, or an overwrite the user chose): whatever the
                    // document held there is not sent.
                    remove(&mut body, pointer);
                    read_first = create && !create_refused_if_exists;
                }
                Precondition::None
            }
            VersionIn::Query {
                params,
                create: create_param,
                ..
            } => {
                if let Some(v) = values {
                    if v.len() != params.len() {
                        return Err(DialectError::IncompleteQueryVersion);
                    }
                    for ((name, _), v) in params.iter().zip(v) {
                        let text = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        query.push((name.clone(), text));
                    }
                } else if create {
                    match create_param {
                        Some((k, v)) => query.push((k.clone(), v.clone())),
                        None => read_first = true,
                    }
                } else if !matches!(pre, Precondition::None) {
                    return Err(DialectError::VersionInQuery {
                        dialect: self.name.clone(),
                    });
                }
                Precondition::None
            }
        };
        Ok(Write {
            body: body.to_string(),
            query,
            pre: headers_pre,
            read_first,
        })
    }

    /// A delete's query and precondition headers under `pre` (the version as a parameter where
    /// the dialect takes it there); an error where a conditional delete cannot be made.
    pub fn on_delete(
        &self,
        pre: &Precondition,
    ) -> Result<(Vec<(String, String)>, Precondition), DialectError> {
        let values = match pre {
            Precondition::None => return Ok((vec![], Precondition::None)),
            _ if self.header_version() => return Ok((vec![], pre.clone())),
            Precondition::IfMatch(tag) => {
                decode(&tag.opaque).ok_or_else(|| self.not_a_version(tag))?
            }
            _ => {
                return Err(DialectError::DeleteCondition {
                    dialect: self.name.clone(),
                })
            }
        };
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match &self.version {
            VersionIn::Body {
                delete_param: Some(p),
                ..
            } => Ok((
                vec![(
                    p.clone(),
                    text(
                        values
                            .into_iter()
                            .next()
                            .ok_or(DialectError::NoVersionValue)?,
                    ),
                )],
                Precondition::None,
            )),
            VersionIn::Query { params, .. } if params.len() == values.len() => Ok((
                params
                    .iter()
                    .map(|(k, _)| k.clone())
                    .zip(values.into_iter().map(text))
                    .collect(),
                Precondition::None,
            )),
            _ => Err(DialectError::DeleteWithoutVersion {
                dialect: self.name.clone(),
            }),
        }
    }

    /// `document` without the fields the server owns (what a read of it would show).
    pub fn strip(&self, document: &str) -> String {
        if self.server_owned.is_empty() {
            return document.to_string();
        }
        match serde_json::from_str::<Value>(document) {
            Ok(mut v) => {
                for p in &self.server_owned {
                    remove(&mut v, p);
                }
                v.to_string()
            }
            Err(_) => document.to_string(),
        }
    }

    /// Whether an answer with this status and body is a stale write in this dialect.
    pub fn is_conflict(&self, status: u16, body: &[u8]) -> bool {
        if let VersionIn::Query {
            false_is_conflict: true,
            ..
        } = self.version
        {
            if (200..300).contains(&status) && String::from_utf8_lossy(body).trim() == "false" {
                return true;
            }
        }
        if !self.conflict_statuses.contains(&status) {
            return false;
        }
        match &self.conflict_reason {
            None => true,
            Some(r) => serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| {
                    v.pointer(&r.pointer)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .is_some_and(|s| r.values.iter().any(|v| s.starts_with(v.as_str()))),
        }
    }

    /// The write's URL: the resource's, or `write_path` on its origin, with the query added.
    pub fn write_url(&self, url: &str, query: &[(String, String)]) -> Result<String, DialectError> {
        let mut u = reqwest::Url::parse(url).map_err(|e| DialectError::BadUrl {
            detail: e.to_string(),
        })?;
        if let Some(p) = &self.write_path {
            u.set_path(p);
            u.set_query(None);
        }
        if !query.is_empty() {
            let mut pairs = u.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(u.to_string())
    }

    /// The validator `tag` does not encode this dialect's version.
    fn not_a_version(&self, tag: &EntityTag) -> DialectError {
        DialectError::NotAVersion {
            validator: tag.raw.clone(),
            dialect: self.name.clone(),
        }
    }
}

/// A text that is not JSON, with the parser's words.
fn not_json(e: serde_json::Error) -> DialectError {
    DialectError::NotJson {
        detail: e.to_string(),
    }
}

/// Consul's KV read without `?raw`: an array of entries with the value base64-encoded.
fn consul_metadata() -> NotDocument {
    NotDocument {
        marks: vec![
            "/0/Key".into(),
            "/0/Value".into(),
            "/0/ModifyIndex".into(),
            "/0/CreateIndex".into(),
        ],
        instead: "Consul's metadata about the key (the value base64-encoded inside an array), \
                  not its value: read the value itself by adding ?raw to the URL \
                  (/v1/kv/KEY?raw)"
            .into(),
    }
}

/// The fields a dialect file may have, and those of its nested objects.
const FIELDS: &[&str] = &[
    "name",
    "document",
    "write_at",
    "write_template",
    "version",
    "conflict_statuses",
    "conflict_reason",
    "server_owned",
    "write_method",
    "write_path",
    "versioned",
    "not_document",
    "changes",
];
const HEADER_FIELDS: &[&str] = &["kind"];
const BODY_FIELDS: &[&str] = &[
    "kind",
    "pointer",
    "plus_one",
    "create_refused_if_exists",
    "delete_param",
];
const QUERY_FIELDS: &[&str] = &["kind", "params", "false_is_conflict", "create"];
const REASON_FIELDS: &[&str] = &["pointer", "values"];
const NOT_DOCUMENT_FIELDS: &[&str] = &["marks", "instead"];
const CHANGES_FIELDS: &[&str] = &["url", "cursor", "changes", "start_url", "gone_statuses"];

/// The number of single-character edits between `a` and `b`.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The known name `unknown` most likely misspells: the nearest by edits, or one its beginning
/// misspells (`verison_pointer` → `version`).
fn nearest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = unknown.to_ascii_lowercase();
    let whole = known
        .iter()
        .map(|k| (distance(&lower, k), *k))
        .min()
        .filter(|(d, k)| *d <= (k.len() / 3).max(2));
    whole.map(|(_, k)| k).or_else(|| {
        known
            .iter()
            .filter(|k| k.len() >= 4)
            .filter_map(|k| {
                let head: String = lower.chars().take(k.chars().count()).collect();
                let d = distance(&head, k);
                (d <= 2 && lower.len() > k.len()).then_some((d, *k))
            })
            .min()
            .map(|(_, k)| k)
    })
}

/// An error naming the first member of `obj` not in `known` (with the nearest known name).
fn known_only(
    obj: &serde_json::Map<String, Value>,
    known: &'static [&'static str],
    at: &str,
) -> Result<(), DialectFileError> {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            return Err(DialectFileError::UnknownField {
                field: format!("{at}{k}"),
                within: at.trim_end_matches('.').to_string(),
                nearest: nearest(k, known),
                known,
            });
        }
    }
    Ok(())
}

/// `v` as a `T`, or an error naming the field.
fn typed<T: serde::de::DeserializeOwned>(v: &Value, at: &str) -> Result<T, DialectFileError> {
    serde_json::from_value(v.clone()).map_err(|e| DialectFileError::WrongType {
        field: at.to_string(),
        detail: e.to_string(),
    })
}

/// What kind of JSON value `v` is, in a word.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An error unless `p` is a JSON pointer ("" only where `empty_ok`).
fn pointer_ok(p: &str, at: &str, empty_ok: bool) -> Result<(), DialectFileError> {
    if p.is_empty() && empty_ok || p.starts_with('/') {
        return Ok(());
    }
    if p.is_empty() {
        return Err(DialectFileError::EmptyPointer {
            field: at.to_string(),
        });
    }
    Err(DialectFileError::NotAPointer {
        field: at.to_string(),
        value: p.to_string(),
    })
}

impl Dialect {
    /// A dialect described in JSON (`--dialect FILE`): fields left out take their defaults;
    /// an empty text, one that is not JSON, a field it does not know (with the nearest known
    /// name), a value of the wrong type or a pointer without its leading `/` is an error that
    /// says which.
    pub fn from_json(text: &str) -> Result<Dialect, DialectFileError> {
        if text.trim().is_empty() {
            return Err(DialectFileError::Empty);
        }
        let v: Value = serde_json::from_str(text).map_err(|e| DialectFileError::NotJson {
            detail: e.to_string(),
        })?;
        let Value::Object(m) = &v else {
            return Err(DialectFileError::NotAnObject { kind: kind(&v) });
        };
        known_only(m, FIELDS, "")?;
        let object = |name: &str| match m.get(name) {
            Some(Value::Object(o)) => Ok(Some(o)),
            None | Some(Value::Null) => Ok(None),
            Some(other) => Err(DialectFileError::NotAnObjectField {
                field: name.to_string(),
                kind: kind(other),
            }),
        };
        if let Some(ver) = object("version")? {
            let fields = match ver.get("kind").and_then(Value::as_str) {
                Some("header") => HEADER_FIELDS,
                Some("body") => BODY_FIELDS,
                Some("query") => QUERY_FIELDS,
                Some(other) => {
                    return Err(DialectFileError::UnknownVersionKind {
                        kind: other.to_string(),
                    })
                }
                None => return Err(DialectFileError::VersionWithoutKind),
            };
            known_only(ver, fields, "version.")?;
            for (k, x) in ver {
                let at = format!("version.{k}");
                match k.as_str() {
                    "pointer" => {
                        typed::<String>(x, &at)?;
                    }
                    "plus_one" | "create_refused_if_exists" | "false_is_conflict" => {
                        typed::<bool>(x, &at)?;
                    }
                    "delete_param" => {
                        typed::<Option<String>>(x, &at)?;
                    }
                    "params" => {
                        typed::<Vec<(String, String)>>(x, &at)?;
                    }
                    "create" => {
                        typed::<Option<(String, String)>>(x, &at)?;
                    }
                    _ => {}
                }
            }
        }
        if let Some(r) = object("conflict_reason")? {
            known_only(r, REASON_FIELDS, "conflict_reason.")?;
        }
        if let Some(r) = object("not_document")? {
            known_only(r, NOT_DOCUMENT_FIELDS, "not_document.")?;
        }
        if let Some(c) = object("changes")? {
            known_only(c, CHANGES_FIELDS, "changes.")?;
            for need in ["url", "cursor", "changes"] {
                if !c.contains_key(need) {
                    return Err(DialectFileError::MissingChangesField {
                        field: need,
                        has: c.keys().cloned().collect(),
                    });
                }
            }
            for (k, x) in c {
                let at = format!("changes.{k}");
                match k.as_str() {
                    "url" | "cursor" | "changes" => {
                        typed::<String>(x, &at)?;
                    }
                    "start_url" => {
                        typed::<Option<String>>(x, &at)?;
                    }
                    "gone_statuses" => {
                        typed::<Vec<u16>>(x, &at)?;
                    }
                    _ => {}
                }
            }
        }
        for (k, x) in m {
            match k.as_str() {
                "name" | "document" => {
                    typed::<String>(x, k)?;
                }
                "write_at" | "write_template" | "write_method" | "write_path" => {
                    typed::<Option<String>>(x, k)?;
                }
                "conflict_statuses" => {
                    typed::<Vec<u16>>(x, k)?;
                }
                "server_owned" => {
                    typed::<Vec<String>>(x, k)?;
                }
                "versioned" => {
                    typed::<bool>(x, k)?;
                }
                "conflict_reason" => {
                    typed::<Option<Reason>>(x, k)?;
                }
                "not_document" => {
                    typed::<Option<NotDocument>>(x, k)?;
                }
                "changes" => {
                    typed::<Option<ChangesFeed>>(x, k)?;
                }
                "version" => {
                    typed::<VersionIn>(x, k)?;
                }
                _ => {}
            }
        }
        let d: Dialect = typed(&v, "the dialect")?;
        d.validate()?;
        Ok(d)
    }

    /// An error naming the first field whose value cannot work: a pointer without its leading
    /// `/`, a write template that is not JSON, a status that is not one, a method that is not a
    /// method, a write path that is not a path.
    pub fn validate(&self) -> Result<(), DialectFileError> {
        pointer_ok(&self.document, "document", true)?;
        if let Some(w) = &self.write_at {
            pointer_ok(w, "write_at", true)?;
        }
        for (i, p) in self.server_owned.iter().enumerate() {
            pointer_ok(p, &format!("server_owned[{i}]"), false)?;
        }
        match &self.version {
            VersionIn::Header => {}
            VersionIn::Body {
                pointer,
                delete_param,
                ..
            } => {
                pointer_ok(pointer, "version.pointer", false)?;
                if delete_param.as_deref() == Some("") {
                    return Err(DialectFileError::EmptyDeleteParam);
                }
            }
            VersionIn::Query { params, create, .. } => {
                if params.is_empty() {
                    return Err(DialectFileError::NoQueryParams);
                }
                for (i, (name, from)) in params.iter().enumerate() {
                    if name.is_empty() {
                        return Err(DialectFileError::EmptyParamName {
                            field: format!("version.params[{i}]"),
                        });
                    }
                    match from.strip_prefix("header:") {
                        Some(h) if h.trim().is_empty() => {
                            return Err(DialectFileError::HeaderWithoutName { index: i })
                        }
                        Some(_) => {}
                        None => pointer_ok(from, &format!("version.params[{i}]"), false)?,
                    }
                }
                if create.as_ref().is_some_and(|(k, _)| k.is_empty()) {
                    return Err(DialectFileError::EmptyParamName {
                        field: "version.create".into(),
                    });
                }
            }
        }
        for s in &self.conflict_statuses {
            if !(100..=599).contains(s) {
                return Err(DialectFileError::NotAStatus {
                    field: "conflict_statuses",
                    status: *s,
                });
            }
        }
        if let Some(r) = &self.conflict_reason {
            pointer_ok(&r.pointer, "conflict_reason.pointer", true)?;
            if r.values.is_empty() {
                return Err(DialectFileError::NoConflictValues);
            }
        }
        if let Some(c) = &self.changes {
            c.validate()?;
        }
        if let Some(t) = &self.write_template {
            serde_json::from_str::<Value>(t).map_err(|e| DialectFileError::TemplateNotJson {
                detail: e.to_string(),
            })?;
        }
        if let Some(m) = &self.write_method {
            let token = !m.is_empty()
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(DialectFileError::NotAMethod { method: m.clone() });
            }
        }
        if let Some(p) = &self.write_path {
            if !p.starts_with('/') {
                return Err(DialectFileError::NotAPath { path: p.clone() });
            }
        }
        if let Some(nd) = &self.not_document {
            for (i, p) in nd.marks.iter().enumerate() {
                pointer_ok(p, &format!("not_document.marks[{i}]"), false)?;
            }
            if nd.marks.is_empty() {
                return Err(DialectFileError::NoNotDocumentMarks);
            }
        }
        Ok(())
    }
}

/// A write as the dialect sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The body.
    pub body: String,
    /// Query parameters to append.
    pub query: Vec<(String, String)>,
    /// The precondition headers still to send.
    pub pre: Precondition,
    /// A create this dialect cannot make conditional: read first, and stop if the resource
    /// exists (a create made in the same moment could still be replaced).
    pub read_first: bool,
}

fn field(v: &Value, pointer: &str) -> Result<Value, DialectError> {
    match v.pointer(pointer) {
        Some(x @ (Value::String(_) | Value::Number(_))) => Ok(x.clone()),
        Some(other) => Err(DialectError::VersionNotScalar {
            pointer: pointer.to_string(),
            value: other.to_string(),
        }),
        None => Err(DialectError::NoVersion {
            pointer: pointer.to_string(),
        }),
    }
}

fn remove(v: &mut Value, pointer: &str) {
    let Some(tokens) = crate::json::pointer_tokens(pointer) else {
        return;
    };
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut at = v;
    for t in parents {
        at = match at {
            Value::Object(m) => match m.get_mut(t) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = at {
        m.shift_remove(last);
    }
}

/// Puts `value` at `pointer` in `v`, making objects on the way ("" replaces `v`).
fn put(v: &mut Value, pointer: &str, value: Value) -> Result<(), DialectError> {
    let into = || DialectError::NotIntoObject {
        pointer: pointer.to_string(),
    };
    let tokens = crate::json::pointer_tokens(pointer).ok_or_else(|| DialectError::NotAPointer {
        pointer: pointer.to_string(),
    })?;
    let Some((last, parents)) = tokens.split_last() else {
        *v = value;
        return Ok(());
    };
    let mut at = v;
    for t in parents {
        if at.is_null() {
            *at = serde_json::json!({});
        }
        at = match at {
            Value::Object(m) => m.entry(t.clone()).or_insert(Value::Null),
            _ => return Err(into()),
        };
    }
    if at.is_null() {
        *at = serde_json::json!({});
    }
    match at {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        _ => Err(into()),
    }
}

fn plus(v: &Value) -> Result<Value, DialectError> {
    let refuse = |why| {
        Err(DialectError::CannotAdvance {
            version: v.to_string(),
            why,
        })
    };
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return refuse(Unadvanceable::NotANumber),
    };
    if text.trim() != text || text.is_empty() {
        return refuse(Unadvanceable::NotWhole);
    }
    if text.starts_with('-') {
        return refuse(Unadvanceable::Negative);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(Unadvanceable::NotWholeDigits);
    }
    let Ok(n) = text.parse::<u64>() else {
        return refuse(Unadvanceable::TooManyDigits);
    };
    let Some(next) = n.checked_add(1) else {
        return refuse(Unadvanceable::Largest);
    };
    Ok(match v {
        Value::String(_) => Value::String(next.to_string()),
        _ => Value::from(next),
    })
}

/// The validator's opaque text for these version values: a string as itself, a number as `#`
/// and its digits, joined by `,`; `%`, `,`, `#`, `"`, controls and spaces percent-escaped.
pub fn encode(values: &[Value]) -> String {
    let esc = |s: &str, out: &mut String| {
        for ch in s.chars() {
            if matches!(ch, '%' | ',' | '#' | '"' | '\u{7f}') || (ch as u32) <= 0x20 {
                for b in ch.to_string().bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            } else {
                out.push(ch);
            }
        }
    };
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match v {
            Value::String(s) => esc(s, &mut out),
            other => {
                out.push('#');
                esc(&other.to_string(), &mut out);
            }
        }
    }
    out
}

/// The values `encode` wrote (None: not such a text).
pub fn decode(opaque: &str) -> Option<Vec<Value>> {
    opaque
        .split(',')
        .map(|part| {
            let (number, part) = match part.strip_prefix('#') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let mut bytes = vec![];
            let mut it = part.bytes();
            while let Some(b) = it.next() {
                if b == b'%' {
                    let h = [it.next()?, it.next()?];
                    bytes.push(u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok()?);
                } else {
                    bytes.push(b);
                }
            }
            let s = String::from_utf8(bytes).ok()?;
            if number {
                serde_json::from_str::<Value>(&s)
                    .ok()
                    .filter(Value::is_number)
            } else {
                Some(Value::String(s))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_changes_feed_is_read_from_a_dialect_file() {
        let d = Dialect::from_json(
            r#"{"changes": {"url": "../history?startHistoryId={cursor}",
                "cursor": "/historyId", "changes": "/history", "start_url": "../profile"}}"#,
        )
        .unwrap();
        let c = d.changes.unwrap();
        assert_eq!(c.cursor, "/historyId");
        assert_eq!(c.start_url.as_deref(), Some("../profile"));
        assert_eq!(c.gone_statuses, vec![404, 410]);
        assert!(Dialect::preset("gmail").unwrap().changes.is_some());
        assert!(Dialect::preset("gmail").unwrap().is_plain());
    }

    #[test]
    fn a_changes_feed_refuses_unknown_missing_and_broken_fields() {
        let err = |t: &str| Dialect::from_json(t).unwrap_err().to_string();
        let e = err(
            r#"{"changes": {"url": "h?c={cursor}", "cursor": "/c", "changes": "/l", "cursr": 1}}"#,
        );
        assert!(e.contains("cursr"), "{e}");
        let e = err(r#"{"changes": {"url": "h?c={cursor}", "cursor": "/c"}}"#);
        assert!(e.contains("`changes` needs `changes`"), "{e}");
        let e = err(r#"{"changes": {"url": "history", "cursor": "/c", "changes": "/l"}}"#);
        assert!(e.contains("{cursor}"), "{e}");
        let e = err(r#"{"changes": {"url": "h?c={cursor}", "cursor": "c", "changes": "/l"}}"#);
        assert!(e.contains("changes.cursor"), "{e}");
        let e = err(
            r#"{"changes": {"url": "h?c={cursor}", "cursor": "/c", "changes": "/l", "gone_statuses": [7]}}"#,
        );
        assert!(e.contains("gone_statuses"), "{e}");
        let e = err(r#"{"changes": "history"}"#);
        assert!(e.contains("`changes` is"), "{e}");
    }

    use super::*;
    use serde_json::json;

    fn received(text: &str) -> Received {
        Received {
            text: text.into(),
            validator: None,
            warnings: vec![],
        }
    }

    #[test]
    fn versions_survive_the_validator_encoding() {
        for values in [
            vec![json!("3-abc")],
            vec![json!(7), json!(1)],
            vec![json!("a,b #c %d \"e\" ü")],
            vec![json!(12345678901234567890u64)],
        ] {
            let text = encode(&values);
            assert!(EntityTag::parse(&format!("\"{text}\"")).is_ok(), "{text}");
            assert_eq!(decode(&text), Some(values));
        }
        assert_eq!(decode("#x"), None);
    }

    #[test]
    fn couchdb_reads_rev_into_the_validator_and_writes_it_back() {
        let d = Dialect::preset("couchdb").unwrap();
        let r = d
            .on_read(received(
                r#"{"_id": "settings", "_rev": "2-9f", "theme": "dark"}"#,
            ))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&r.text).unwrap(),
            json!({"theme": "dark"})
        );
        let v = r.validator.unwrap();
        assert_eq!(v.text(), "\"2-9f\"");
        let w = d
            .on_write(r#"{"theme": "light"}"#, &v.precondition())
            .unwrap();
        assert_eq!(w.pre, Precondition::None);
        assert_eq!(
            serde_json::from_str::<Value>(&w.body).unwrap(),
            json!({"theme": "light", "_rev": "2-9f"})
        );
        // A create sends no _rev (CouchDB then refuses one over an existing document).
        let w = d
            .on_write(
                r#"{"theme": "light", "_rev": "1-x"}"#,
                &Precondition::IfNoneMatchAny,
            )
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&w.body).unwrap(),
            json!({"theme": "light"})
        );
        // A validator of another server is refused, not sent without a version.
        assert!(d
            .on_write("{}", &Precondition::IfUnmodifiedSince("x".into()))
            .is_err());
    }

    #[test]
    fn grafana_wraps_advances_nothing_and_tells_a_name_clash_from_a_stale_write() {
        let d = Dialect::preset("grafana").unwrap();
        let r = d
            .on_read(received(
                r#"{"dashboard": {"id": 4, "uid": "abc", "title": "T", "version": 3}, "meta": {"slug": "t"}}"#,
            ))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&r.text).unwrap(),
            json!({"uid": "abc", "title": "T"})
        );
        let pre = r.validator.unwrap().precondition();
        let w = d.on_write(r#"{"uid": "abc", "title": "U"}"#, &pre).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&w.body).unwrap(),
            json!({"dashboard": {"uid": "abc", "title": "U", "version": 3}, "overwrite": false})
        );
        assert_eq!(
            d.write_url("http://h:3000/api/dashboards/uid/abc", &w.query)
                .unwrap(),
            "http://h:3000/api/dashboards/db"
        );
        assert!(d.is_conflict(412, br#"{"status": "version-mismatch", "message": "x"}"#));
        assert!(!d.is_conflict(412, br#"{"status": "name-exists"}"#));
    }

    #[test]
    fn elasticsearch_and_consul_carry_the_version_in_the_query() {
        let d = Dialect::preset("elasticsearch").unwrap();
        let r = d
            .on_read(received(
                r#"{"_index": "i", "_id": "1", "_version": 2, "_seq_no": 7, "_primary_term": 1, "found": true, "_source": {"a": 1.50}}"#,
            ))
            .unwrap();
        assert_eq!(r.text.trim(), "{\n  \"a\": 1.50\n}", "number text kept");
        let pre = r.validator.unwrap().precondition();
        let w = d.on_write(r#"{"a": 2}"#, &pre).unwrap();
        assert_eq!(w.body, r#"{"a":2}"#);
        assert_eq!(
            d.write_url("http://h/i/_doc/1", &w.query).unwrap(),
            "http://h/i/_doc/1?if_seq_no=7&if_primary_term=1"
        );
        assert!(d.is_conflict(409, b"{}"));
        // Consul's KV answers a stale ?cas= with 200 `false` (a custom dialect: its values are
        // base64 inside an array, no preset reads them).
        let c = Dialect {
            name: "custom".into(),
            version: VersionIn::Query {
                params: vec![("cas".into(), "/ModifyIndex".into())],
                false_is_conflict: true,
                create: Some(("cas".into(), "0".into())),
            },
            conflict_statuses: vec![],
            ..Dialect::default()
        };
        assert!(c.is_conflict(200, b"false\n"));
        assert!(!c.is_conflict(200, b"true"));
    }

    #[test]
    fn plus_one_advances_the_number_read() {
        let d = Dialect::preset("confluence").unwrap();
        let r = d
            .on_read(received(
                r#"{"title": "T", "version": {"number": 5, "by": "x"}}"#,
            ))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&r.text).unwrap(),
            json!({"title": "T"})
        );
        let w = d
            .on_write(r#"{"title": "U"}"#, &r.validator.unwrap().precondition())
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&w.body).unwrap(),
            json!({"title": "U", "version": {"number": 6}})
        );
    }

    #[test]
    fn a_missing_version_is_said_not_guessed() {
        let d = Dialect::preset("kubernetes").unwrap();
        let e = d
            .on_read(received(r#"{"metadata": {"name": "x"}}"#))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/metadata/resourceVersion"), "{e}");
        assert!(d.is_conflict(409, br#"{"kind": "Status", "reason": "Conflict"}"#));
        assert!(!d.is_conflict(409, br#"{"kind": "Status", "reason": "AlreadyExists"}"#));
        // A create cannot be made conditional here: it reads first.
        let w = d
            .on_write(
                r#"{"metadata": {"name": "x"}}"#,
                &Precondition::IfNoneMatchAny,
            )
            .unwrap();
        assert!(w.read_first);
        // Elasticsearch's create is a parameter.
        let es = Dialect::preset("elasticsearch").unwrap();
        let w = es.on_write("{}", &Precondition::IfNoneMatchAny).unwrap();
        assert_eq!(
            (w.read_first, w.query),
            (false, vec![("op_type".into(), "create".into())])
        );
    }

    #[test]
    fn a_read_answer_proposes_the_dialect_it_is_shaped_for() {
        let shape = |t: &str| propose(&serde_json::from_str(t).unwrap()).map(|(n, _)| n);
        assert_eq!(
            shape(r#"{"_id": "a", "_rev": "3-9f2c", "x": 1}"#),
            Some("couchdb")
        );
        assert_eq!(shape(r#"{"_id": "a", "_rev": "latest"}"#), None);
        assert_eq!(
            shape(
                r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"resourceVersion": "7"}}"#
            ),
            Some("kubernetes")
        );
        assert_eq!(
            shape(r#"{"dashboard": {"version": 3}, "meta": {"slug": "ops"}}"#),
            Some("grafana")
        );
        assert_eq!(
            shape(r#"{"_seq_no": 4, "_primary_term": 1, "_source": {}}"#),
            Some("elasticsearch")
        );
        assert_eq!(
            shape(r#"{"data": {"id": "x", "last_modified": 1700000000000}}"#),
            Some("kinto")
        );
        // An ordinary document with a version field is not an API's dialect.
        assert_eq!(shape(r#"{"version": 3, "name": "settings"}"#), None);
        // Every proposal is a preset.
        for t in [
            r#"{"_id": "a", "_rev": "1-a"}"#,
            r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"resourceVersion": "1"}}"#,
            r#"{"dashboard": {"version": 1}, "meta": {}}"#,
            r#"{"_seq_no": 0, "_primary_term": 1, "_source": {}}"#,
            r#"{"data": {"id": "x", "last_modified": 1}}"#,
            r#"{"type": "page", "space": {"key": "OPS"}, "version": {"number": 3}}"#,
        ] {
            let name = shape(t).unwrap();
            assert!(Dialect::preset(name).is_some(), "{name}");
        }
    }

    #[test]
    fn plus_one_never_wraps_and_refuses_what_is_no_whole_number() {
        let d = Dialect::preset("confluence").unwrap();
        let write_after = |version: &str| {
            let r = d.on_read(received(&format!(
                r#"{{"title": "T", "version": {{"number": {version}}}}}"#
            )))?;
            d.on_write(r#"{"title": "U"}"#, &r.validator.unwrap().precondition())
        };
        let max = u64::MAX.to_string();
        let e = write_after(&max).unwrap_err().to_string();
        assert!(e.contains("wrap") && e.contains("nothing was sent"), "{e}");
        let below = (u64::MAX - 1).to_string();
        let w = write_after(&below).unwrap();
        assert!(w.body.contains(&max), "{}", w.body);
        for (version, why) in [
            ("-3", "negative"),
            ("4.5", "not a whole number"),
            ("5.0", "not a whole number"),
            ("1e3", "not a whole number"),
            ("184467440737095516150", "more digits"),
            ("\"99999999999999999999999\"", "more digits"),
            ("\"-1\"", "negative"),
            ("\"+5\"", "not a whole number"),
            ("\" 5\"", "not a whole number"),
        ] {
            let e = write_after(version).unwrap_err().to_string();
            assert!(
                e.contains(why) && e.contains("nothing was sent"),
                "{version}: {e}"
            );
        }
        // A string version stays a string.
        let w = write_after("\"41\"").unwrap();
        assert!(w.body.contains(r#""number":"42""#), "{}", w.body);
    }

    #[test]
    fn a_dialect_file_with_a_field_it_does_not_know_is_refused_with_the_nearest_name() {
        let e = Dialect::from_json(r#"{"name": "wiki", "verison_pointer": "/version/number"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`verison_pointer`"), "{e}");
        assert!(e.contains("did you mean `version`"), "{e}");
        assert!(
            e.contains("conflict_statuses"),
            "names the known fields: {e}"
        );
        let e = Dialect::from_json(r#"{"conflict_status": [409]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `conflict_statuses`"), "{e}");
        let e = Dialect::from_json(
            r#"{"version": {"kind": "body", "pointer": "/v", "plus_on": true}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`version.plus_on`") && e.contains("did you mean `plus_one`"),
            "{e}"
        );
        let e = Dialect::from_json(r#"{"conflict_reason": {"pointer": "/r", "value": ["x"]}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `values`"), "{e}");
        // The plain struct refuses them too (serde), whatever reads it.
        assert!(serde_json::from_str::<Dialect>(r#"{"verison": 1}"#).is_err());
    }

    #[test]
    fn a_dialect_file_that_is_empty_not_json_mistyped_or_has_a_bare_pointer_says_which() {
        for (text, says) in [
            ("", "empty"),
            ("  \n", "empty"),
            ("name: wiki", "not JSON"),
            ("[1, 2]", "an array"),
            (r#"{"versioned": "no"}"#, "`versioned`"),
            (r#"{"conflict_statuses": 409}"#, "`conflict_statuses`"),
            (r#"{"conflict_statuses": [99]}"#, "99"),
            (
                r#"{"version": {"kind": "body", "pointer": "/v", "plus_one": "yes"}}"#,
                "`version.plus_one`",
            ),
            (
                r#"{"version": {"kind": "body", "pointer": "version/number"}}"#,
                "\"/version/number\"",
            ),
            (r#"{"version": {"kind": "somewhere"}}"#, "`version.kind`"),
            (r#"{"version": {"pointer": "/v"}}"#, "needs a `kind`"),
            (r#"{"document": "data"}"#, "`document`"),
            (r#"{"server_owned": ["id"]}"#, "`server_owned[0]`"),
            (
                r#"{"version": {"kind": "query", "params": [["cas", "ModifyIndex"]]}}"#,
                "`version.params[0]`",
            ),
            (r#"{"write_template": "{not json"}"#, "`write_template`"),
            (r#"{"write_path": "api/db"}"#, "`write_path`"),
            (r#"{"write_method": "PO ST"}"#, "`write_method`"),
        ] {
            let e = Dialect::from_json(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        // What a user writes by hand works, defaults filled in.
        let d = Dialect::from_json(
            r#"{"name": "wiki", "version": {"kind": "body", "pointer": "/version/number",
                "plus_one": true}, "conflict_statuses": [409]}"#,
        )
        .unwrap();
        assert_eq!(
            d.version,
            VersionIn::Body {
                pointer: "/version/number".into(),
                plus_one: true,
                create_refused_if_exists: false,
                delete_param: None
            }
        );
        // Every preset, written out, reads back as itself.
        for (name, _) in PRESETS {
            let p = Dialect::preset(name).unwrap();
            let back = Dialect::from_json(&serde_json::to_string(&p).unwrap());
            assert_eq!(back.as_ref(), Ok(&p), "{name}");
        }
    }

    #[test]
    fn a_read_that_is_not_the_document_is_refused_with_the_way_to_it() {
        let d = Dialect::preset("consul").unwrap();
        // Consul's KV read without ?raw.
        let meta = r#"[{"LockIndex":0,"Key":"settings","Flags":0,"Value":"eyJ0aGVtZSI6ImRhcmsifQ==","CreateIndex":5,"ModifyIndex":9}]"#;
        let header = |n: &str| (n == "X-Consul-Index").then(|| "9".to_string());
        let e = d
            .on_read_with(received(meta), &header)
            .unwrap_err()
            .to_string();
        assert!(e.contains("?raw") && e.contains("not the document"), "{e}");
        // Nor is it written, should it come from elsewhere (a base file saved from such a read).
        let v = Validator::Etag {
            tag: EntityTag::strong(&encode(&[json!(9)])),
        };
        let e = d.on_write(meta, &v.precondition()).unwrap_err().to_string();
        assert!(e.contains("?raw"), "{e}");
        // The value itself reads (even an array of objects).
        let r = d
            .on_read_with(received(r#"[{"Key": "not consul's"}]"#), &header)
            .unwrap();
        assert_eq!(r.validator.unwrap().text(), "\"#9\"");
        // A Kubernetes list is not an object.
        let k = Dialect::preset("kubernetes").unwrap();
        let e = k
            .on_read(received(
                r#"{"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": "7"}, "items": []}"#,
            ))
            .unwrap_err().to_string();
        assert!(e.contains("items"), "{e}");
    }

    #[test]
    fn errors_carry_the_facts_their_words_are_made_of() {
        match Dialect::from_json(r#"{"conflict_status": [409]}"#) {
            Err(DialectFileError::UnknownField { field, nearest, .. }) => {
                assert_eq!(field, "conflict_status");
                assert_eq!(nearest, Some("conflict_statuses"));
            }
            other => panic!("{other:?}"),
        }
        let d = Dialect::preset("couchdb").unwrap();
        match d.on_delete(&Precondition::IfNoneMatchAny) {
            Err(e @ DialectError::DeleteCondition { .. }) => {
                assert_eq!(
                    e,
                    DialectError::DeleteCondition {
                        dialect: "couchdb".into()
                    }
                );
                assert_eq!(
                    e.to_string(),
                    "a couchdb delete carries a version, not this condition"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
