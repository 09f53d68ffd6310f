//! Field paths and field errors: the shape of every validation result, rendered exactly as
//! upstream renders them (`spec.containers[0].image: Required value`).

use std::fmt;

/// A path to a field: `spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`.
///
/// Paths are cheap to build by extension ([`Path::child`], [`Path::index`], [`Path::key`]);
/// each returns a new path and leaves `self` untouched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path(String);

impl Path {
    /// A path starting at the named top-level field (`metadata`, `spec`).
    pub fn new(root: &str) -> Self {
        Path(root.to_owned())
    }

    /// The empty path, for errors about the whole object.
    pub fn root() -> Self {
        Path(String::new())
    }

    /// The named field below this one: `spec` → `spec.containers`.
    #[must_use]
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            return Path(name.to_owned());
        }
        let mut s = String::with_capacity(self.0.len() + 1 + name.len());
        s.push_str(&self.0);
        s.push('.');
        s.push_str(name);
        Path(s)
    }

    /// The list element at `index`: `spec.containers` → `spec.containers[0]`.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        Path(format!("{}[{index}]", self.0))
    }

    /// The map entry at `key`: `metadata.labels` → `metadata.labels[app]`.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        Path(format!("{}[{key}]", self.0))
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a field is invalid. The names are upstream's `metav1.CauseType` values, which an API
/// server puts in `Status.details.causes[].reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// `FieldValueNotFound`: a referenced value does not exist.
    NotFound,
    /// `FieldValueRequired`: a required value is missing or empty.
    Required,
    /// `FieldValueDuplicate`: a value that must be unique is repeated.
    Duplicate,
    /// `FieldValueInvalid`: a malformed value (syntax, range).
    Invalid,
    /// `FieldValueNotSupported`: a value outside an enumeration.
    NotSupported,
    /// `FieldValueForbidden`: a well-formed value not allowed here.
    Forbidden,
    /// `FieldValueTooLong`: a value longer than allowed.
    TooLong,
    /// `FieldValueTooMany`: a list with too many items.
    TooMany,
    /// `InternalError`: a failure not caused by the input.
    Internal,
    /// `FieldValueTypeInvalid`: a value of the wrong JSON type.
    TypeInvalid,
}

impl ErrorType {
    /// The cause type as upstream names it (`FieldValueRequired`).
    pub fn cause_type(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human-readable phrase upstream prints (`Required value`).
    pub fn phrase(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
        }
    }
}

/// The offending value of a [`FieldError`], printed as upstream prints it: strings quoted,
/// numbers and booleans bare, anything else as JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum BadValue {
    /// No value is printed.
    Omitted,
    /// A string, printed quoted.
    String(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Any other value, printed as JSON.
    Json(serde_json::Value),
    /// A value already rendered the way upstream prints it (Go's `%#v` of a struct, map or
    /// list, such as `map[string]string{"app":"web"}`), printed verbatim.
    Raw(String),
}

impl From<&str> for BadValue {
    fn from(v: &str) -> Self {
        BadValue::String(v.to_owned())
    }
}
impl From<String> for BadValue {
    fn from(v: String) -> Self {
        BadValue::String(v)
    }
}
impl From<&String> for BadValue {
    fn from(v: &String) -> Self {
        BadValue::String(v.clone())
    }
}
impl From<i64> for BadValue {
    fn from(v: i64) -> Self {
        BadValue::Int(v)
    }
}
impl From<i32> for BadValue {
    fn from(v: i32) -> Self {
        BadValue::Int(v.into())
    }
}
impl From<usize> for BadValue {
    fn from(v: usize) -> Self {
        BadValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for BadValue {
    fn from(v: bool) -> Self {
        BadValue::Bool(v)
    }
}
impl From<serde_json::Value> for BadValue {
    fn from(v: serde_json::Value) -> Self {
        BadValue::Json(v)
    }
}

/// One validation failure: where, why, the offending value and a detail message.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Why the field is invalid.
    pub error_type: ErrorType,
    /// Where: the field path.
    pub field: Path,
    /// The offending value.
    pub bad_value: BadValue,
    /// What is wrong, in words (may be empty).
    pub detail: String,
}

impl FieldError {
    /// `Required value`, with an optional detail.
    pub fn required(field: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, BadValue::Omitted, detail)
    }

    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(field: &Path, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, field, value.into(), detail)
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(field: &Path, value: impl Into<BadValue>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, value.into(), detail)
    }

    /// `Duplicate value: <value>`.
    pub fn duplicate(field: &Path, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::Duplicate, field, value.into(), "")
    }

    /// `Not found: <value>`.
    pub fn not_found(field: &Path, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::NotFound, field, value.into(), "")
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(field: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, BadValue::Omitted, detail)
    }

    /// `Too long: may not be more than <max> bytes`.
    pub fn too_long(field: &Path, max_length: usize) -> Self {
        let unit = if max_length == 1 { "byte" } else { "bytes" };
        Self::new(
            ErrorType::TooLong,
            field,
            BadValue::Omitted,
            format!("may not be more than {max_length} {unit}"),
        )
    }

    /// `Too many: <actual>: must have at most <max> items`.
    pub fn too_many(field: &Path, actual: usize, max: usize) -> Self {
        let unit = if max == 1 { "item" } else { "items" };
        Self::new(
            ErrorType::TooMany,
            field,
            actual.into(),
            format!("must have at most {max} {unit}"),
        )
    }

    /// `Invalid value: <value>: <detail>` for a value of the wrong type.
    pub fn type_invalid(
        field: &Path,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::TypeInvalid, field, value.into(), detail)
    }

    /// `Internal error: <detail>`.
    pub fn internal(field: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, field, BadValue::Omitted, detail)
    }

    fn new(
        error_type: ErrorType,
        field: &Path,
        bad_value: BadValue,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            error_type,
            field: field.clone(),
            bad_value,
            detail: detail.into(),
        }
    }

    /// The message without the field path, as upstream's `ErrorBody`.
    pub fn body(&self) -> String {
        let mut s = self.error_type.phrase().to_owned();
        let shows_value = matches!(
            self.error_type,
            ErrorType::Invalid
                | ErrorType::TypeInvalid
                | ErrorType::NotSupported
                | ErrorType::NotFound
                | ErrorType::Duplicate
                | ErrorType::TooMany
        );
        if shows_value {
            match &self.bad_value {
                BadValue::Omitted => {}
                BadValue::String(v) => s.push_str(&format!(": {}", go_quote(v))),
                BadValue::Int(v) => s.push_str(&format!(": {v}")),
                BadValue::Bool(v) => s.push_str(&format!(": {v}")),
                BadValue::Json(v) => s.push_str(&format!(": {v}")),
                BadValue::Raw(v) => {
                    s.push_str(": ");
                    s.push_str(v);
                }
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Quotes a string as Go's `%q` does for printable text (`"a\"b"`).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every failure found in one object. Empty means valid.
pub type ErrorList = Vec<FieldError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_upstream() {
        let p = Path::new("spec")
            .child("containers")
            .index(0)
            .child("image");
        assert_eq!(
            FieldError::required(&p, "").to_string(),
            "spec.containers[0].image: Required value"
        );
        let e = FieldError::not_supported(
            &Path::new("spec").child("restartPolicy"),
            "Sometimes",
            &["Always", "OnFailure", "Never"],
        );
        assert_eq!(
            e.to_string(),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
        );
        let e = FieldError::invalid(
            &Path::new("spec").child("replicas"),
            -1,
            "must be greater than or equal to 0",
        );
        assert_eq!(
            e.to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::duplicate(
                &Path::new("spec").child("containers").index(1).child("name"),
                "a"
            )
            .to_string(),
            r#"spec.containers[1].name: Duplicate value: "a""#
        );
        assert_eq!(
            FieldError::too_long(&Path::new("metadata").child("annotations"), 262144).to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            Path::new("metadata").child("labels").key("app").as_str(),
            "metadata.labels[app]"
        );
    }
}
