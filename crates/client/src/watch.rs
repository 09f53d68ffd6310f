//! Watch streams: the newline-delimited JSON events of a `?watch=true` response, decoded as
//! they arrive, however the bytes are split into chunks.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use http_body::Body as _;
use kubernaut_api_types::meta::WatchEvent;
use serde::de::DeserializeOwned;

use crate::body::ResponseBody;
use crate::error::Error;

/// The largest event the decoder buffers (64 MiB); a longer one is reported and skipped.
pub const MAX_EVENT_BYTES: usize = 64 << 20;

/// The events of a watch, as a [`Stream`].
///
/// Each item is an event (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, or `ERROR` with the
/// server's `Status`, typically `410 Expired`: list again and watch from the list's version),
/// or an error: an event that did not decode (the stream goes on with the next one) or a broken
/// connection (the stream ends). The stream ends when the server closes it, normally after the
/// watch's `timeoutSeconds`; a watcher then resumes from the last resource version it saw.
pub struct WatchStream<K> {
    body: Option<ResponseBody>,
    decoder: EventDecoder<K>,
    ready: VecDeque<Result<WatchEvent<K>, Error>>,
}

// No field is pinned: the body is boxed.
impl<K> Unpin for WatchStream<K> {}

impl<K> std::fmt::Debug for WatchStream<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("open", &self.body.is_some())
            .field("buffered_bytes", &self.decoder.buffered())
            .finish_non_exhaustive()
    }
}

impl<K: DeserializeOwned> WatchStream<K> {
    /// Decodes the events of a watch response's body.
    pub fn new(body: ResponseBody) -> Self {
        WatchStream {
            body: Some(body),
            decoder: EventDecoder::new(),
            ready: VecDeque::new(),
        }
    }
}

impl<K: DeserializeOwned> Stream for WatchStream<K> {
    type Item = Result<WatchEvent<K>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.decoder.push(&data, &mut this.ready);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.body = None;
                    this.decoder.finish(&mut this.ready);
                    this.ready.push_back(Err(Error::Transport(e)));
                }
                Poll::Ready(None) => {
                    this.body = None;
                    this.decoder.finish(&mut this.ready);
                }
            }
        }
    }
}

/// Splits bytes into JSON values at newlines and decodes each into a [`WatchEvent`].
///
/// Values are decoded only once a newline follows them, so a value split across chunks is read
/// once. A line may hold several values (`{..}{..}`), and a value may span lines (pretty
/// printed): a line that ends inside a value waits for the next one.
pub(crate) struct EventDecoder<K> {
    buf: Vec<u8>,
    /// Where the first undecoded byte is.
    start: usize,
    /// How far `buf` has been searched for newlines.
    scanned: usize,
    /// Skipping the rest of an event that was too long.
    discarding: bool,
    _event: PhantomData<fn() -> K>,
}

impl<K> EventDecoder<K> {
    fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }
}

impl<K: DeserializeOwned> EventDecoder<K> {
    pub(crate) fn new() -> Self {
        EventDecoder {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            discarding: false,
            _event: PhantomData,
        }
    }

    /// Adds a chunk; decoded events (and errors) go to `out`.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut VecDeque<Result<WatchEvent<K>, Error>>) {
        self.buf.extend_from_slice(chunk);
        while let Some(i) = self.buf[self.scanned..].iter().position(|b| *b == b'\n') {
            let end = self.scanned + i + 1;
            self.scanned = end;
            if self.discarding {
                self.discarding = false;
                self.start = end;
            } else {
                self.decode(end, out);
            }
        }
        self.scanned = self.buf.len();
        if self.discarding {
            self.start = self.buf.len();
        } else if self.buffered() > MAX_EVENT_BYTES {
            out.push_back(Err(Error::WatchStream(format!(
                "an event is longer than {MAX_EVENT_BYTES} bytes; skipped"
            ))));
            self.discarding = true;
            self.start = self.buf.len();
        }
        self.compact();
    }

    /// The stream ended: decode what is left.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<Result<WatchEvent<K>, Error>>) {
        if !self.discarding
            && self.buf[self.start..]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
        {
            let end = self.buf.len();
            if !self.decode(end, out) {
                out.push_back(Err(Error::WatchStream(format!(
                    "the stream ended inside an event: {}",
                    crate::error::excerpt(&self.buf[self.start..])
                ))));
            }
        }
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        self.discarding = false;
    }

    /// Decodes the values in `buf[start..end]`. Returns false when the bytes end inside a value
    /// (which stays buffered).
    fn decode(&mut self, end: usize, out: &mut VecDeque<Result<WatchEvent<K>, Error>>) -> bool {
        let bytes = &self.buf[self.start..end];
        let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<WatchEvent<K>>();
        loop {
            let consumed = values.byte_offset();
            match values.next() {
                None => {
                    self.start = end;
                    return true;
                }
                Some(Ok(event)) => out.push_back(Ok(event)),
                Some(Err(e)) if e.is_eof() => {
                    self.start += consumed;
                    return false;
                }
                Some(Err(e)) => {
                    // Skip the rest of the line; the next event starts on the next one.
                    let line = &bytes[consumed..];
                    let line = line
                        .iter()
                        .position(|b| !b.is_ascii_whitespace())
                        .map_or(line, |i| &line[i..]);
                    out.push_back(Err(Error::decode("watch event", line, e)));
                    self.start = end;
                    return true;
                }
            }
        }
    }

    /// Drops decoded bytes from the front of the buffer once they are the larger part.
    fn compact(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use kubernaut_api_types::core::v1::ConfigMap;
    use proptest::prelude::*;

    type Events = Vec<Result<WatchEvent<ConfigMap>, String>>;

    fn decode_chunks(chunks: &[&[u8]]) -> Events {
        let mut decoder = EventDecoder::<ConfigMap>::new();
        let mut out = VecDeque::new();
        for chunk in chunks {
            decoder.push(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out.into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    const STREAM: &str = concat!(
        r#"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"é \n ü"}}}"#,
        "\n",
        r#"{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"11"}}}"#,
        "\n",
        r#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"12"}}}"#,
        "\n",
        r#"{"type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"13"}}}"#,
        "\n",
        r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (100)","reason":"Expired","code":410}}"#,
        "\n",
    );

    #[test]
    fn decodes_each_event_type() {
        let events = decode_chunks(&[STREAM.as_bytes()]);
        let names: Vec<_> = events
            .iter()
            .map(|e| e.as_ref().unwrap().type_name())
            .collect();
        assert_eq!(names, ["ADDED", "MODIFIED", "BOOKMARK", "DELETED", "ERROR"]);
        let Ok(WatchEvent::Added(cm)) = &events[0] else {
            panic!()
        };
        assert_eq!(cm.data.as_ref().unwrap()["k"], "é \n ü");
        let Ok(WatchEvent::Error(status)) = &events[4] else {
            panic!()
        };
        assert_eq!(status.code, Some(410));
        assert_eq!(status.reason.as_deref(), Some("Expired"));
    }

    #[test]
    fn values_without_newlines_pretty_printing_and_a_missing_final_newline_decode() {
        let compact = STREAM.replace('\n', "");
        assert_eq!(
            decode_chunks(&[compact.as_bytes()]),
            decode_chunks(&[STREAM.as_bytes()])
        );
        let pretty =
            "{\n  \"type\": \"ADDED\",\n  \"object\": {\"metadata\": {\"name\": \"p\"}}\n}\n";
        let events = decode_chunks(&[pretty.as_bytes()]);
        assert!(
            matches!(&events[..], [Ok(WatchEvent::Added(_))]),
            "{events:?}"
        );
        let trimmed = STREAM.trim_end();
        assert_eq!(decode_chunks(&[trimmed.as_bytes()]).len(), 5);
    }

    #[test]
    fn a_bad_event_is_reported_and_the_stream_goes_on() {
        let input = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":5}}}\n\
                     not json at all\n\
                     {\"type\":\"NOPE\",\"object\":{}}\n\
                     {\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}\n";
        let events = decode_chunks(&[input.as_bytes()]);
        assert_eq!(events.len(), 4, "{events:?}");
        let errors: Vec<_> = events[..3].iter().map(|e| e.clone().unwrap_err()).collect();
        assert!(
            errors[0].contains("could not decode watch event"),
            "{}",
            errors[0]
        );
        assert!(errors[1].contains("not json at all"), "{}", errors[1]);
        assert!(errors[2].contains("NOPE"), "{}", errors[2]);
        assert!(matches!(events[3], Ok(WatchEvent::Deleted(_))));
    }

    #[test]
    fn a_stream_cut_inside_an_event_ends_with_an_error() {
        let events = decode_chunks(&[b"{\"type\":\"ADDED\",\"obj"]);
        assert_eq!(events.len(), 1);
        assert!(
            events[0]
                .as_ref()
                .unwrap_err()
                .contains("ended inside an event")
        );
    }

    #[test]
    fn oversized_events_are_skipped() {
        let mut decoder = EventDecoder::<ConfigMap>::new();
        let mut out = VecDeque::new();
        let big = vec![b' '; 1 << 20];
        decoder.push(
            b"{\"type\":\"ADDED\",\"object\":{\"data\":{\"k\":\"",
            &mut out,
        );
        for _ in 0..=(MAX_EVENT_BYTES >> 20) {
            decoder.push(&big, &mut out);
        }
        assert!(decoder.buffered() < MAX_EVENT_BYTES);
        decoder.push(b"\"}}}\n{\"type\":\"DELETED\",\"object\":{}}\n", &mut out);
        decoder.finish(&mut out);
        let out: Vec<_> = out.into_iter().collect();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(matches!(&out[0], Err(Error::WatchStream(m)) if m.contains("longer than")));
        assert!(matches!(out[1], Ok(WatchEvent::Deleted(_))));
    }

    #[tokio::test]
    async fn the_stream_reads_a_body_and_ends_with_it() {
        let stream = WatchStream::<ConfigMap>::new(ResponseBody::from_bytes(STREAM));
        let events: Vec<_> = stream.collect().await;
        assert_eq!(events.len(), 5);
        assert!(events.iter().all(Result::is_ok));
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_the_events(cuts in prop::collection::vec(0..STREAM.len(), 0..12)) {
            let bytes = STREAM.as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&bytes[last..c]);
                last = c;
            }
            chunks.push(&bytes[last..]);
            prop_assert_eq!(decode_chunks(&chunks), decode_chunks(&[bytes]));
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8)) {
            let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            let _ = decode_chunks(&chunks);
        }

        #[test]
        fn events_and_garbage_chunked_anyhow_decode_alike(
            lines in prop::collection::vec(prop_oneof![
                Just(r#"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#.to_owned()),
                Just(r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#.to_owned()),
                "[a-z{}\":, ]{0,20}",
            ], 0..8),
            chunk in 1usize..17,
        ) {
            let text = lines.join("\n") + "\n";
            let bytes = text.as_bytes();
            let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
            prop_assert_eq!(decode_chunks(&chunks), decode_chunks(&[bytes]));
        }
    }
}
