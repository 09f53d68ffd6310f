//! Offline manifest validation: decode every document of a YAML stream, apply upstream's
//! defaults and what the API server's admission would settle before validating, and run
//! upstream's validation, reporting one line per document (or per error).

use std::fmt;

use kubernaut_api_types::core::v1::Pod;
use kubernaut_api_types::manifest::{self, DecodeError};
use kubernaut_api_types::scheme::{AnyObject, Decoded, Scheme};
use kubernaut_api_types::validate::FieldError;

/// The verdict on one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Decodes strictly, and validates clean after defaulting.
    Ok,
    /// A kind the scheme does not model; decoded as a dynamic object, not validated.
    Skip,
    /// Problems, each as `<field path>: <message>`.
    Invalid(Vec<String>),
}

/// The outcome for one document of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The file as the user named it.
    pub file: String,
    /// 1-based position of the document among the non-empty documents of the file; for an
    /// item of a list document (`kind: List`, `PodList`, ... as `kubectl get -o yaml` writes),
    /// the document's position, a dot, and the item's 1-based position (`3.2`).
    pub document: String,
    /// The document's kind, or `<none>`.
    pub kind: String,
    /// The document's `metadata.name` (or `generateName` + `*`), or `<none>`.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
}

impl Outcome {
    /// Whether the document passes (valid or skipped).
    pub fn passed(&self) -> bool {
        !matches!(self.verdict, Verdict::Invalid(_))
    }
}

impl fmt::Display for Outcome {
    /// `OK <file>#<n> <Kind>/<name>`, `SKIP ...`, or one `INVALID ...: <problem>` line per
    /// problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = format!(
            "{}#{} {}/{}",
            self.file, self.document, self.kind, self.name
        );
        match &self.verdict {
            Verdict::Ok => write!(f, "OK {head}"),
            Verdict::Skip => write!(f, "SKIP {head}"),
            Verdict::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "INVALID {head}: {p}")?;
                }
                Ok(())
            }
        }
    }
}

fn text_at(value: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Checks every document of `text` (the contents of `file`). List documents are checked item by
/// item, as kubectl flattens them.
pub fn validate_text(scheme: &Scheme, file: &str, text: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let outcome = |document: String, (kind, name, verdict): (String, String, Verdict)| Outcome {
        file: file.to_owned(),
        document,
        kind,
        name,
        verdict,
    };
    for (i, doc) in manifest::documents(text).enumerate() {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) => {
                let none = || "<none>".to_owned();
                let verdict = Verdict::Invalid(vec![e.to_string()]);
                out.push(outcome((i + 1).to_string(), (none(), none(), verdict)));
                break;
            }
        };
        let n = doc.index + 1;
        match list_items(&doc.value) {
            Some(items) => {
                for (j, item) in items.iter().enumerate() {
                    out.push(outcome(format!("{n}.{}", j + 1), check(scheme, item)));
                }
            }
            None => out.push(outcome(n.to_string(), check(scheme, &doc.value))),
        }
    }
    out
}

/// The items of a list document (`kind: List` or `<Kind>List` with `items`).
fn list_items(value: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
}

/// Kind, name and verdict of one object.
fn check(scheme: &Scheme, value: &serde_json::Value) -> (String, String, Verdict) {
    let kind = text_at(value, &["kind"]).unwrap_or_else(|| "<none>".to_owned());
    let name = text_at(value, &["metadata", "name"])
        .or_else(|| text_at(value, &["metadata", "generateName"]).map(|g| format!("{g}*")))
        .unwrap_or_else(|| "<none>".to_owned());
    let verdict = match scheme.decode(value) {
        Err(e) => Verdict::Invalid(vec![decode_problem(&e)]),
        Ok(Decoded::Unknown(_)) => Verdict::Skip,
        Ok(Decoded::Known(decoded)) => {
            let mut problems: Vec<String> = decoded
                .unknown_fields
                .iter()
                .map(|f| format!("{f}: unknown field"))
                .collect();
            let mut object = decoded.object;
            object.set_defaults();
            admit(object.as_mut());
            problems.extend(object.validate().iter().map(FieldError::to_string));
            if problems.is_empty() {
                Verdict::Ok
            } else {
                Verdict::Invalid(problems)
            }
        }
    };
    (kind, name, verdict)
}

/// What the API server's admission plugins settle before validation, as far as it changes the
/// verdict: the ServiceAccount plugin runs a pod without a service account as `default`.
pub fn admit(object: &mut dyn AnyObject) {
    if let Some(pod) = object.downcast_mut::<Pod>()
        && let Some(spec) = pod.spec.as_mut()
        && spec
            .service_account_name
            .as_deref()
            .unwrap_or("")
            .is_empty()
    {
        spec.service_account_name = Some("default".to_owned());
    }
}

fn decode_problem(e: &DecodeError) -> String {
    match e {
        DecodeError::Invalid { path, message } if path.is_empty() => {
            format!("<document>: {message}")
        }
        other => other.to_string(),
    }
}
