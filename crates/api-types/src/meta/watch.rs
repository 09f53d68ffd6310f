//! `WatchEvent<K>`: one event of a watch stream (`{"type": "ADDED", "object": {...}}`).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Status;
use crate::resource::TypeMeta;

/// One event of a watch: an object was added, modified or deleted, a bookmark moved the resource
/// version forward, or the watch failed with a [`Status`].
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent<K> {
    /// `ADDED`: the object was created (or is part of the initial state).
    Added(K),
    /// `MODIFIED`: the object changed.
    Modified(K),
    /// `DELETED`: the object was deleted; this is its last state.
    Deleted(K),
    /// `BOOKMARK`: every change up to this resource version has been sent.
    Bookmark(Bookmark),
    /// `ERROR`: the watch failed (`410 Expired` when the resource version is too old).
    Error(Status),
}

/// The object of a `BOOKMARK` event: only type and resource version (and, for the end of a
/// streamed initial list, the `k8s.io/initial-events-end` annotation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    /// `apiVersion` and `kind` of the watched resource.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The bookmark's metadata.
    pub metadata: BookmarkMeta,
}

/// Metadata of a [`Bookmark`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BookmarkMeta {
    /// `resourceVersion`: everything up to here has been delivered.
    #[serde(rename = "resourceVersion")]
    pub resource_version: String,
    /// `annotations`: `k8s.io/initial-events-end: "true"` ends a streamed initial list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl<K> WatchEvent<K> {
    /// The event type as written on the wire (`ADDED`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

impl<K: Serialize> Serialize for WatchEvent<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("WatchEvent", 2)?;
        s.serialize_field("type", self.type_name())?;
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                s.serialize_field("object", o)?
            }
            WatchEvent::Bookmark(b) => s.serialize_field("object", b)?,
            WatchEvent::Error(e) => s.serialize_field("object", e)?,
        }
        s.end()
    }
}

#[derive(Clone, Copy)]
enum EventType {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

impl EventType {
    fn parse<E: de::Error>(s: &str) -> Result<Self, E> {
        Ok(match s {
            "ADDED" => EventType::Added,
            "MODIFIED" => EventType::Modified,
            "DELETED" => EventType::Deleted,
            "BOOKMARK" => EventType::Bookmark,
            "ERROR" => EventType::Error,
            other => {
                return Err(E::unknown_variant(
                    other,
                    &["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"],
                ));
            }
        })
    }

    fn event_from<K: DeserializeOwned, E: de::Error>(
        self,
        object: serde_json::Value,
    ) -> Result<WatchEvent<K>, E> {
        let err = |e: serde_json::Error| E::custom(e);
        Ok(match self {
            EventType::Added => WatchEvent::Added(serde_json::from_value(object).map_err(err)?),
            EventType::Modified => {
                WatchEvent::Modified(serde_json::from_value(object).map_err(err)?)
            }
            EventType::Deleted => WatchEvent::Deleted(serde_json::from_value(object).map_err(err)?),
            EventType::Bookmark => {
                WatchEvent::Bookmark(serde_json::from_value(object).map_err(err)?)
            }
            EventType::Error => WatchEvent::Error(serde_json::from_value(object).map_err(err)?),
        })
    }
}

impl<'de, K: DeserializeOwned> Deserialize<'de> for WatchEvent<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: DeserializeOwned> Visitor<'de> for V<K> {
            type Value = WatchEvent<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a watch event")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WatchEvent<K>, A::Error> {
                let mut event_type: Option<EventType> = None;
                let mut buffered: Option<serde_json::Value> = None;
                let mut event: Option<WatchEvent<K>> = None;
                while let Some(key) = map.next_key::<crate::serde_util::Key<'de>>()? {
                    match key.as_str() {
                        "type" => {
                            let t: std::borrow::Cow<'de, str> = map.next_value()?;
                            event_type = Some(EventType::parse(&t)?);
                        }
                        // The upstream server writes `type` first: decode the object straight
                        // into its type. Otherwise buffer it until the type is known.
                        "object" => match event_type {
                            Some(EventType::Added) => {
                                event = Some(WatchEvent::Added(map.next_value()?))
                            }
                            Some(EventType::Modified) => {
                                event = Some(WatchEvent::Modified(map.next_value()?))
                            }
                            Some(EventType::Deleted) => {
                                event = Some(WatchEvent::Deleted(map.next_value()?))
                            }
                            Some(EventType::Bookmark) => {
                                event = Some(WatchEvent::Bookmark(map.next_value()?))
                            }
                            Some(EventType::Error) => {
                                event = Some(WatchEvent::Error(map.next_value()?))
                            }
                            None => buffered = Some(map.next_value()?),
                        },
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                if let Some(event) = event {
                    return Ok(event);
                }
                match (event_type, buffered) {
                    (Some(t), Some(object)) => t.event_from(object),
                    (None, _) => Err(de::Error::missing_field("type")),
                    (Some(_), None) => Err(de::Error::missing_field("object")),
                }
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::v1::Pod;

    #[test]
    fn decodes_events_in_either_field_order() {
        let a: WatchEvent<Pod> = serde_json::from_str(
            r#"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}}"#,
        )
        .unwrap();
        let b: WatchEvent<Pod> =
            serde_json::from_str(r#"{"object":{"metadata":{"name":"a"}},"type":"ADDED"}"#).unwrap();
        assert_eq!(a, b);
        let WatchEvent::Added(pod) = a else {
            panic!("expected ADDED")
        };
        assert_eq!(pod.metadata.name.as_deref(), Some("a"));
    }

    #[test]
    fn decodes_bookmarks_and_errors() {
        let b: WatchEvent<Pod> = serde_json::from_str(
            r#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12"}}}"#,
        )
        .unwrap();
        assert!(matches!(b, WatchEvent::Bookmark(ref m) if m.metadata.resource_version == "12"));
        let e: WatchEvent<Pod> = serde_json::from_str(
            r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","code":410,"reason":"Expired"}}"#,
        )
        .unwrap();
        assert!(matches!(e, WatchEvent::Error(ref s) if s.code == Some(410)));
        assert!(serde_json::from_str::<WatchEvent<Pod>>(r#"{"type":"NOPE","object":{}}"#).is_err());
        assert!(serde_json::from_str::<WatchEvent<Pod>>(r#"{"object":{}}"#).is_err());
    }

    #[test]
    fn encodes_type_then_object() {
        let e: WatchEvent<Pod> = WatchEvent::Deleted(Pod::default());
        let s = serde_json::to_string(&e).unwrap();
        assert!(
            s.starts_with(r#"{"type":"DELETED","object":{"apiVersion":"v1","kind":"Pod""#),
            "{s}"
        );
    }
}
