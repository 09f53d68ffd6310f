//! The HTTP body types of the client: [`Body`] for requests, [`ResponseBody`] for responses.
//!
//! Requests carry their whole body (JSON, a patch, or nothing) in one buffer; a response body is
//! any `http_body::Body` of [`Bytes`] boxed behind one type, so that a hyper connection, an
//! in-process router and a test's scripted service all answer with the same type.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

/// A boxed error, as transports and bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The body of a request: empty, or one buffer of bytes.
///
/// It implements [`http_body::Body`] with `Data = Bytes`, so any HTTP stack built on the `http`
/// crates accepts it: hyper's clients, and an `axum::Router` used as an in-process transport.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    data: Option<Bytes>,
}

impl Body {
    /// A body with no bytes.
    pub fn empty() -> Self {
        Body { data: None }
    }

    /// A body holding `data`.
    pub fn from_bytes(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Body {
            data: (!data.is_empty()).then_some(data),
        }
    }

    /// The bytes of the body (empty for an empty body).
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or_default()
    }
}

impl From<Vec<u8>> for Body {
    fn from(data: Vec<u8>) -> Self {
        Body::from_bytes(data)
    }
}

impl From<Bytes> for Body {
    fn from(data: Bytes) -> Self {
        Body::from_bytes(data)
    }
}

impl From<String> for Body {
    fn from(data: String) -> Self {
        Body::from_bytes(data)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// The body of a response, whatever the transport: a boxed `http_body::Body` of [`Bytes`].
pub struct ResponseBody(UnsyncBoxBody<Bytes, BoxError>);

impl ResponseBody {
    /// Boxes any body whose data is [`Bytes`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        ResponseBody(body.map_err(Into::into).boxed_unsync())
    }

    /// A response body holding `data`.
    pub fn from_bytes(data: impl Into<Bytes>) -> Self {
        ResponseBody::new(Body::from_bytes(data))
    }

    /// Reads the whole body.
    ///
    /// # Errors
    /// The transport failed while the body was being read.
    pub async fn collect_bytes(self) -> Result<Bytes, BoxError> {
        Ok(self.0.collect().await?.to_bytes())
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[tokio::test]
    async fn request_body_reports_its_exact_length_and_yields_once() {
        let body = Body::from_bytes(&b"{\"a\":1}"[..]);
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{\"a\":1}");
        let empty = Body::empty();
        assert!(empty.is_end_stream());
        assert_eq!(empty.size_hint().exact(), Some(0));
        assert_eq!(Body::from(Vec::new()), Body::empty());
    }

    #[tokio::test]
    async fn response_body_boxes_any_bytes_body() {
        let body = ResponseBody::new(http_body_util::Full::new(Bytes::from_static(b"xyz")));
        assert_eq!(&body.collect_bytes().await.unwrap()[..], b"xyz");
    }
}
