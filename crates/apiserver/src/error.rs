//! API errors as upstream reports them: an HTTP code and a `Status` body with the upstream
//! `reason`, message wording and details (apimachinery `pkg/api/errors`).

use std::fmt;

use kubernaut_api_types::meta::{Status, StatusCause, StatusDetails};
use kubernaut_api_types::validate::FieldError;

/// A resource and its group, as upstream names it in messages: `pods`, `deployments.apps`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupResource {
    /// API group; empty for the core group.
    pub group: String,
    /// Lower-case plural resource name.
    pub resource: String,
}

impl GroupResource {
    /// A group and resource.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        GroupResource {
            group: group.into(),
            resource: resource.into(),
        }
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// A kind and its group, as upstream names it in validation messages: `Pod`, `Deployment.apps`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupKind {
    /// API group; empty for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
}

impl GroupKind {
    /// A group and kind.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        GroupKind {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// An error answered to an API client: the HTTP code and the `Status` sent as the body.
///
/// Every constructor reproduces upstream's reason, code, message and details, so clients that
/// branch on them (kubectl, client-go's `IsNotFound`, the Python client) behave as against a
/// real API server.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.status.message.as_deref().unwrap_or("unknown error"))]
pub struct ApiError {
    /// The `Status` body; `code` holds the HTTP status.
    pub status: Box<Status>,
    /// Seconds a client should wait before retrying (`Retry-After`), for 429, 503 and 504.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with the given code, reason and message and no details.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: Box::new(Status::failure(i32::from(code), reason, message)),
            retry_after: None,
        }
    }

    /// Adds details.
    #[must_use]
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.status.details = Some(Box::new(details));
        self
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        self.status
            .code
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500)
    }

    /// The upstream reason (`NotFound`, `Conflict`, ...).
    pub fn reason(&self) -> &str {
        self.status.reason.as_deref().unwrap_or("")
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.status.message.as_deref().unwrap_or("")
    }

    /// 404 `NotFound`: `pods "web" not found`.
    pub fn not_found(resource: &GroupResource, name: &str) -> Self {
        ApiError::new(404, "NotFound", format!("{resource} \"{name}\" not found"))
            .with_details(details(resource, name))
    }

    /// 409 `AlreadyExists`: `pods "web" already exists`.
    pub fn already_exists(resource: &GroupResource, name: &str) -> Self {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
        )
        .with_details(details(resource, name))
    }

    /// 409 `Conflict` for a stale resourceVersion or a failed precondition.
    pub fn conflict(resource: &GroupResource, name: &str, why: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {resource} \"{name}\": {why}"),
        )
        .with_details(details(resource, name))
    }

    /// The message upstream gives for a write with a stale resourceVersion.
    pub const OPTIMISTIC_LOCK_MESSAGE: &'static str = "the object has been modified; please apply \
         your changes to the latest version and try again";

    /// 422 `Invalid`: `Pod "p" is invalid: spec.containers[0].image: Required value`, with one
    /// cause per field error.
    pub fn invalid(kind: &GroupKind, name: &str, errors: &[FieldError]) -> Self {
        let summary = match errors {
            [] => String::new(),
            [one] => one.to_string(),
            many => format!(
                "[{}]",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let causes = errors
            .iter()
            .map(|e| StatusCause {
                reason: Some(e.error_type.cause_type().to_owned()),
                message: Some(e.body()),
                field: Some(e.field.to_string()),
            })
            .collect();
        ApiError::new(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {summary}"),
        )
        .with_details(StatusDetails {
            name: non_empty(name),
            group: non_empty(&kind.group),
            kind: non_empty(&kind.kind),
            causes: Some(causes),
            ..StatusDetails::default()
        })
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 `Forbidden`: `pods "web" is forbidden: <why>`.
    pub fn forbidden(resource: &GroupResource, name: &str, why: &str) -> Self {
        let message = if name.is_empty() {
            format!("{resource} is forbidden: {why}")
        } else {
            format!("{resource} \"{name}\" is forbidden: {why}")
        };
        ApiError::new(403, "Forbidden", message).with_details(details(resource, name))
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(method: &str, what: &str) -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({method} {what})"
            ),
        )
    }

    /// 406 `NotAcceptable`: none of the media types in `Accept` can be produced.
    pub fn not_acceptable(supported: &[&str]) -> Self {
        ApiError::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: {}",
                supported.join(", ")
            ),
        )
    }

    /// 410 `Expired`: a resourceVersion older than the retained history.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }

    /// 410 `Gone`.
    pub fn gone(message: impl Into<String>) -> Self {
        ApiError::new(410, "Gone", message)
    }

    /// 413 `RequestEntityTooLarge`.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::new(413, "RequestEntityTooLarge", message)
    }

    /// 415 `UnsupportedMediaType`.
    pub fn unsupported_media_type(content_type: &str, supported: &[&str]) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types \
                 include: {}",
                supported.join(", ")
            ),
        )
        .with_details(StatusDetails {
            causes: Some(vec![StatusCause {
                reason: Some("UnexpectedServerResponse".to_owned()),
                message: Some(format!("unsupported media type {content_type:?}")),
                field: None,
            }]),
            ..StatusDetails::default()
        })
    }

    /// 500 `InternalError`.
    pub fn internal(message: impl fmt::Display) -> Self {
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(StatusDetails {
            causes: Some(vec![StatusCause {
                reason: None,
                message: Some(message.to_string()),
                field: None,
            }]),
            ..StatusDetails::default()
        })
    }

    /// 503 `ServiceUnavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// 504 `Timeout`, with a `Retry-After`.
    pub fn timeout(message: impl Into<String>, retry_after: u32) -> Self {
        let mut e = ApiError::new(504, "Timeout", message).with_details(StatusDetails {
            retry_after_seconds: i32::try_from(retry_after).ok(),
            ..StatusDetails::default()
        });
        e.retry_after = Some(retry_after);
        e
    }

    /// The `Status` as JSON, `kind` and `apiVersion` included.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.status).unwrap_or_else(|_| {
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "code": self.code()})
        })
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn details(resource: &GroupResource, name: &str) -> StatusDetails {
    StatusDetails {
        name: non_empty(name),
        group: non_empty(&resource.group),
        kind: non_empty(&resource.resource),
        ..StatusDetails::default()
    }
}

/// The result type of the API server's operations.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use kubernaut_api_types::validate::{FieldError, Path};
    use serde_json::json;

    #[test]
    fn not_found_names_the_group_resource_and_keeps_the_plural_in_details() {
        let e = ApiError::not_found(&GroupResource::new("apps", "deployments"), "web");
        assert_eq!(e.code(), 404);
        assert_eq!(
            e.to_json(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "deployments.apps \"web\" not found", "reason": "NotFound",
                "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404})
        );
        let e = ApiError::not_found(&GroupResource::new("", "pods"), "nope");
        assert_eq!(e.message(), "pods \"nope\" not found");
    }

    #[test]
    fn invalid_lists_one_cause_per_field_error() {
        let errors = vec![FieldError::required(
            &Path::new("spec")
                .child("containers")
                .index(0)
                .child("image"),
            "",
        )];
        let e = ApiError::invalid(&GroupKind::new("", "Pod"), "p1", &errors);
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.message(),
            "Pod \"p1\" is invalid: spec.containers[0].image: Required value"
        );
        let v = e.to_json();
        assert_eq!(
            v["details"],
            json!({"name": "p1", "kind": "Pod", "causes": [{"reason": "FieldValueRequired",
                "message": "Required value", "field": "spec.containers[0].image"}]})
        );
    }

    #[test]
    fn conflict_uses_the_optimistic_lock_wording() {
        let e = ApiError::conflict(
            &GroupResource::new("apps", "deployments"),
            "web",
            ApiError::OPTIMISTIC_LOCK_MESSAGE,
        );
        assert_eq!(
            e.message(),
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been \
             modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(e.reason(), "Conflict");
    }
}
