//! A write as it goes out, planned once from the version an edit started from and the edited
//! document: the method, the body (the whole document or the patch from base to it), its media
//! type and its precondition. The save loop sends the plan; the window's "Preview request" shows
//! the same plan, so the two can never differ.
//!
//! Owns: `WriteMethod`, `WritePlan`, `plan_write`. Must never: send anything (the client does).

use crate::json::Doc;
use crate::merge::patches;
use crate::outcome::Version;
use crate::precondition::Precondition;
use serde::{Deserialize, Serialize};

/// How a connection writes a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum WriteMethod {
    /// The whole document.
    #[default]
    Put,
    /// `PATCH` with `application/merge-patch+json` (RFC 7396).
    MergePatch,
    /// `PATCH` with `application/json-patch+json` (RFC 6902), with `test` operations.
    JsonPatch,
}

impl WriteMethod {
    /// A write method by name, as the CLI (`merge-patch`) or the environment / settings
    /// (`merge_patch`) spell it; None for anything else.
    pub fn from_name(name: &str) -> Option<WriteMethod> {
        match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "put" => Some(WriteMethod::Put),
            "merge_patch" => Some(WriteMethod::MergePatch),
            "json_patch" => Some(WriteMethod::JsonPatch),
            _ => None,
        }
    }
}

/// Why a write could not be planned: nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The version the edit started from does not parse (a patch is computed from it).
    #[error("the base version is not valid JSON: {0}")]
    BaseInvalid(String),
    /// The document to send does not parse.
    #[error("the document is not valid JSON: {0}")]
    DocumentInvalid(String),
    /// The change cannot be said as a JSON Merge Patch (e.g. a `null` value).
    #[error("{0}")]
    MergePatch(String),
}

/// A write as it will go out, planned once: the save loop sends it and the window's "Preview
/// request" shows it, so the two can never differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritePlan {
    /// How the document is written.
    pub method: WriteMethod,
    /// The body: the whole document, or the patch from base to it.
    pub body: String,
    /// The body's media type.
    pub content_type: &'static str,
    /// The precondition; None when the base has no validator, so a fresh GET right before the
    /// write supplies it.
    pub precondition: Option<Precondition>,
}

impl WritePlan {
    /// The HTTP method.
    pub fn http_method(&self) -> &'static str {
        match self.method {
            WriteMethod::Put => "PUT",
            WriteMethod::MergePatch | WriteMethod::JsonPatch => "PATCH",
        }
    }

    /// The headers it is sent with, credentials masked (`auth` is the connection's).
    pub fn headers(&self, auth: &crate::client::Auth) -> Vec<(String, String)> {
        let mut out = vec![("Content-Type".to_string(), self.content_type.to_string())];
        match &self.precondition {
            Some(p) => out.extend(p.headers().into_iter().map(|(k, v)| (k.to_string(), v))),
            None => out.push((
                "If-Match".into(),
                "(taken from a fresh GET right before the write)".into(),
            )),
        }
        out.extend(auth.masked_header());
        out
    }
}

/// Plans the write of `mine` over `base`: body and content type for the method, and the
/// precondition from base's validator.
pub fn plan_write(method: WriteMethod, base: &Version, mine: &str) -> Result<WritePlan, PlanError> {
    let (body, content_type) = match method {
        WriteMethod::Put => {
            crate::json::check_document(mine)
                .map_err(|e| PlanError::DocumentInvalid(e.to_string()))?;
            (mine.to_string(), "application/json")
        }
        WriteMethod::MergePatch | WriteMethod::JsonPatch => {
            let b = Doc::parse(&base.text).map_err(|e| PlanError::BaseInvalid(e.to_string()))?;
            let r = crate::json::check_document(mine)
                .map_err(|e| PlanError::DocumentInvalid(e.to_string()))?;
            if method == WriteMethod::JsonPatch {
                (patches::json_patch(&b, &r), "application/json-patch+json")
            } else {
                let mp = patches::merge_patch(&b, &r)
                    .map_err(|e| PlanError::MergePatch(e.to_string()))?;
                (
                    mp.text.unwrap_or_else(|| "{}\n".into()),
                    "application/merge-patch+json",
                )
            }
        }
    };
    Ok(WritePlan {
        method,
        body,
        content_type,
        precondition: base.validator.as_ref().map(|v| v.precondition()),
    })
}
