//! The crate's error type: API failures carry the server's [`Status`]; transport, TLS,
//! kubeconfig and decoding failures are separate variants.

use std::time::Duration;

use kubernaut_api_types::meta::Status;

use crate::body::BoxError;
use crate::config::KubeconfigError;
use crate::tls::TlsError;

/// Everything that can go wrong talking to an API server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a failure: the `Status` it sent, or, when the body was not a
    /// `Status` (a proxy's error page), one made from the HTTP code as client-go does.
    #[error("api error: {}", StatusDisplay(.0))]
    Api(Box<Status>),
    /// The request could not be sent, or the response could not be read.
    #[error("transport error: {}", Chain(.0.as_ref()))]
    Transport(#[source] BoxError),
    /// The TLS settings could not be turned into a TLS client (bad PEM, key that does not fit).
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
    /// The kubeconfig (or in-cluster configuration) could not be read or used.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// A response body did not decode into the expected type.
    #[error("could not decode {what}: {source}; the body starts with {body:?}")]
    Decode {
        /// What was being decoded (`response`, `watch event`).
        what: &'static str,
        /// The beginning of the offending bytes, for diagnosis.
        body: String,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The request did not finish within the client's timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// The request could not be built (an empty name, a header value that is not valid).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A watch stream broke off inside an event, or an event grew past the size limit.
    #[error("watch stream: {0}")]
    WatchStream(String),
}

/// How many bytes of a body an error message quotes.
const BODY_EXCERPT: usize = 256;

/// The beginning of `bytes` as text, at most [`BODY_EXCERPT`] bytes, cut at a character boundary.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let mut end = bytes.len().min(BODY_EXCERPT);
    // Back up to the start of a UTF-8 sequence rather than cut one in two.
    while end > 0 && end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    let mut text = String::from_utf8_lossy(&bytes[..end]).into_owned();
    if bytes.len() > BODY_EXCERPT {
        text.push('…');
    }
    text
}

impl Error {
    /// The decoding error for `bytes`.
    pub(crate) fn decode(what: &'static str, bytes: &[u8], source: serde_json::Error) -> Self {
        Error::Decode {
            what,
            body: excerpt(bytes),
            source,
        }
    }

    /// The server's `Status`, for [`Error::Api`].
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(status) => Some(status),
            _ => None,
        }
    }

    /// The `reason` of the server's `Status` (`NotFound`, `Conflict`, ...), for [`Error::Api`].
    pub fn reason(&self) -> Option<&str> {
        self.status().and_then(|s| s.reason.as_deref())
    }

    /// The HTTP code of the server's `Status`, for [`Error::Api`].
    pub fn code(&self) -> Option<i32> {
        self.status().and_then(|s| s.code)
    }

    /// Whether the failure has the given reason, or, when the server gave no reason (or
    /// `Unknown`), the given code: upstream's `reasonForError` with its code fallback.
    fn is(&self, reason: &str, code: i32) -> bool {
        let Some(status) = self.status() else {
            return false;
        };
        match status.reason.as_deref() {
            Some(r) if !r.is_empty() && r != "Unknown" => r == reason,
            _ => status.code == Some(code),
        }
    }

    /// `NotFound` (404): the object, or its namespace, does not exist.
    pub fn is_not_found(&self) -> bool {
        self.is("NotFound", 404)
    }

    /// `AlreadyExists` (409): a create named an object that exists.
    pub fn is_already_exists(&self) -> bool {
        self.status()
            .is_some_and(|s| s.reason.as_deref() == Some("AlreadyExists"))
    }

    /// `Conflict` (409): the object changed since it was read (a stale `resourceVersion`), or
    /// a server-side apply met another manager's fields.
    pub fn is_conflict(&self) -> bool {
        self.is("Conflict", 409)
    }

    /// HTTP 410, reason `Gone` or `Expired`: the requested resource version is no longer
    /// available; list again and watch from the list's version.
    pub fn is_gone(&self) -> bool {
        self.code() == Some(410) || matches!(self.reason(), Some("Gone") | Some("Expired"))
    }

    /// `Expired` (410): the resource version a watch or a list continuation asked for was
    /// compacted away.
    pub fn is_expired(&self) -> bool {
        self.reason() == Some("Expired")
    }

    /// `Invalid` (422): the object failed validation; the causes name the fields.
    pub fn is_invalid(&self) -> bool {
        self.is("Invalid", 422)
    }

    /// `BadRequest` (400).
    pub fn is_bad_request(&self) -> bool {
        self.is("BadRequest", 400)
    }

    /// `Unauthorized` (401): the credentials were missing or not accepted.
    pub fn is_unauthorized(&self) -> bool {
        self.is("Unauthorized", 401)
    }

    /// `Forbidden` (403): the user may not do this.
    pub fn is_forbidden(&self) -> bool {
        self.is("Forbidden", 403)
    }

    /// `MethodNotAllowed` (405): the resource does not support the verb.
    pub fn is_method_not_allowed(&self) -> bool {
        self.is("MethodNotAllowed", 405)
    }

    /// `TooManyRequests` (429): back off and retry.
    pub fn is_too_many_requests(&self) -> bool {
        self.is("TooManyRequests", 429)
    }

    /// `Timeout` (504) from the server, or this client's own [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_)) || self.is("Timeout", 504)
    }
}

/// The reason upstream gives to an HTTP code when the body says nothing (client-go's
/// `NewGenericServerResponse`), and a message in its spirit.
fn reason_for_code(code: u16) -> (&'static str, &'static str) {
    match code {
        400 => ("BadRequest", "the server rejected the request"),
        401 => ("Unauthorized", "the server asked for credentials"),
        403 => (
            "Forbidden",
            "the server does not allow access to the resource",
        ),
        404 => (
            "NotFound",
            "the server could not find the requested resource",
        ),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the resource",
        ),
        406 => (
            "NotAcceptable",
            "the server cannot answer in the requested format",
        ),
        409 => ("Conflict", "the server reported a conflict"),
        410 => ("Gone", "the resource is no longer available"),
        413 => ("RequestEntityTooLarge", "the request is too large"),
        415 => (
            "UnsupportedMediaType",
            "the server does not support the request's content type",
        ),
        422 => ("Invalid", "the server rejected the request as invalid"),
        429 => ("TooManyRequests", "the server received too many requests"),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => ("Timeout", "the server did not answer in the time allotted"),
        500..=599 => ("InternalError", "the server failed to handle the request"),
        _ => (
            "Unknown",
            "the server answered with an unexpected status code",
        ),
    }
}

/// The `Status` for a failed response: the body when it is a `Status`, else one made from the
/// HTTP code with the body's beginning in the message.
pub(crate) fn status_from_response(code: http::StatusCode, body: &[u8]) -> Status {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && value.get("kind").and_then(|k| k.as_str()) == Some("Status")
        && let Ok(mut status) = serde_json::from_value::<Status>(value)
    {
        if status.code.is_none() {
            status.code = Some(i32::from(code.as_u16()));
        }
        return status;
    }
    let (reason, message) = reason_for_code(code.as_u16());
    let body = excerpt(body);
    let message = if body.trim().is_empty() {
        format!("{message} (HTTP {})", code.as_u16())
    } else {
        format!("{message} (HTTP {}): {}", code.as_u16(), body.trim())
    };
    Status::failure(i32::from(code.as_u16()), reason, message)
}

/// Writes an error and its sources as `a: b: c`, skipping a source whose text its parent
/// already shows.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            let text = e.to_string();
            if !shown.contains(&text) {
                write!(f, ": {text}")?;
            }
            shown = text;
            next = e.source();
        }
        Ok(())
    }
}

/// Writes a `Status` as `message (reason, code)`.
struct StatusDisplay<'a>(&'a Status);

impl std::fmt::Display for StatusDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        f.write_str(s.message.as_deref().unwrap_or("no message"))?;
        match (s.reason.as_deref(), s.code) {
            (Some(r), Some(c)) => write!(f, " ({r}, {c})"),
            (Some(r), None) => write!(f, " ({r})"),
            (None, Some(c)) => write!(f, " ({c})"),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(body: &str, code: u16) -> Error {
        Error::Api(Box::new(status_from_response(
            http::StatusCode::from_u16(code).unwrap(),
            body.as_bytes(),
        )))
    }

    #[test]
    fn status_bodies_are_kept_as_the_server_sent_them() {
        let e = api(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404}"#,
            404,
        );
        assert!(e.is_not_found());
        assert!(!e.is_conflict());
        assert_eq!(e.code(), Some(404));
        assert_eq!(
            e.status()
                .unwrap()
                .details
                .as_ref()
                .unwrap()
                .name
                .as_deref(),
            Some("nope")
        );
        assert_eq!(
            e.to_string(),
            r#"api error: pods "nope" not found (NotFound, 404)"#
        );
    }

    #[test]
    fn reasons_decide_and_codes_are_the_fallback() {
        let exists = api(
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409}"#,
            409,
        );
        assert!(exists.is_already_exists());
        assert!(
            !exists.is_conflict(),
            "AlreadyExists is not a Conflict upstream"
        );
        let conflict = api(r#"{"kind":"Status","apiVersion":"v1","code":409}"#, 409);
        assert!(conflict.is_conflict());
        let expired = api(
            r#"{"kind":"Status","apiVersion":"v1","reason":"Expired","code":410,"message":"too old resource version: 1 (100)"}"#,
            410,
        );
        assert!(expired.is_gone() && expired.is_expired());
        let invalid = api(
            r#"{"kind":"Status","apiVersion":"v1","reason":"Invalid"}"#,
            422,
        );
        assert!(invalid.is_invalid());
        assert_eq!(invalid.code(), Some(422), "a missing code is the HTTP code");
    }

    #[test]
    fn bodies_that_are_not_a_status_become_one_from_the_code() {
        let e = api("<html>bad gateway</html>", 502);
        assert_eq!(e.reason(), Some("InternalError"));
        assert_eq!(e.code(), Some(502));
        assert!(e.to_string().contains("<html>bad gateway</html>"), "{e}");
        let e = api("", 404);
        assert!(e.is_not_found());
        let e = api("{\"kind\":\"Pod\"}", 403);
        assert!(e.is_forbidden());
        assert!(api("", 429).is_too_many_requests());
        assert!(api("", 504).is_timeout());
        assert!(Error::Timeout(Duration::from_secs(1)).is_timeout());
    }

    proptest::proptest! {
        /// Bytes that are not a `Status` (random bytes never are) become one with the HTTP
        /// code, an upstream reason and the body's beginning.
        #[test]
        fn any_error_body_becomes_a_status(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            code in 400u16..600,
        ) {
            let status = status_from_response(http::StatusCode::from_u16(code).unwrap(), &body);
            proptest::prop_assert_eq!(status.code, Some(i32::from(code)));
            proptest::prop_assert_eq!(status.status.as_deref(), Some("Failure"));
            proptest::prop_assert_eq!(status.reason.as_deref(), Some(reason_for_code(code).0));
            let message = status.message.unwrap_or_default();
            proptest::prop_assert!(message.contains(&format!("(HTTP {code})")), "{}", message);
        }
    }

    #[test]
    fn excerpts_are_bounded_and_cut_at_character_boundaries() {
        let long = "é".repeat(300);
        let e = excerpt(long.as_bytes());
        assert!(e.ends_with('…'));
        assert!(e.len() <= BODY_EXCERPT + '…'.len_utf8());
        assert!(!e.contains('\u{FFFD}'), "no character was cut in two");
        assert_eq!(excerpt(b"short"), "short");
    }
}
