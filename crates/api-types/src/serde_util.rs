//! Serde plumbing shared by the generated types: Go-compatible null handling and the
//! `apiVersion`/`kind` envelope of top-level objects.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Deserializes a field that upstream declares without a pointer: a JSON `null` (or a missing
/// field, through `#[serde(default)]`) yields the zero value, as Go's `encoding/json` does.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// [`null_as_default`] for a list, whose buffer is then trimmed to its length: a deserialized
/// list grows by doubling, and objects held for long (an informer's cache, the API server's
/// watch cache) would otherwise keep the unused tail — three empty `Container`s, 1.2 KB, behind
/// a one-container Pod.
pub(crate) fn null_as_empty_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(optional_list(deserializer)?.unwrap_or_default())
}

/// Deserializes an optional list, trimming its buffer to its length (see
/// [`null_as_empty_list`]).
pub(crate) fn optional_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Option::<Vec<T>>::deserialize(deserializer)?;
    if let Some(list) = &mut list {
        list.shrink_to_fit();
    }
    Ok(list)
}

/// A map key, borrowed from the input whenever the input allows it.
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// The key as a string.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Checks the `apiVersion` or `kind` found in a document against what the target type accepts.
pub(crate) fn check_type_field<E: de::Error>(
    field: &str,
    found: Option<&str>,
    accepted: &[&str],
) -> Result<(), E> {
    match found {
        None | Some("") => Ok(()),
        Some(v) if accepted.contains(&v) => Ok(()),
        Some(v) => Err(E::custom(format_args!(
            "{field} {v:?} does not match the expected {field} {:?}",
            accepted[0]
        ))),
    }
}

/// Implements `Serialize` and `Deserialize` for a top-level object: `apiVersion` and `kind` are
/// written from constants and, when present on input, must match them; every other field is
/// listed with its JSON name and whether it is always present (`required`) or an `Option`.
macro_rules! typed_object_serde {
    (@present required $e:expr) => { true };
    (@present optional $e:expr) => { $e.is_some() };
    (@value required $map:ident) => {
        $map.next_value::<::core::option::Option<_>>()?.unwrap_or_default()
    };
    (@value optional $map:ident) => { $map.next_value()? };
    ($ty:ident {
        api_version: $av:literal,
        kind: $kind:literal,
        accepted: [$($accepted:literal),* $(,)?],
        fields: [$($field:ident : $req:ident $json:literal),* $(,)?] $(,)?
    }) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct;
                let mut len = 2;
                $( if $crate::typed_object_serde!(@present $req self.$field) { len += 1; } )*
                let mut state = serializer.serialize_struct(stringify!($ty), len)?;
                state.serialize_field("apiVersion", $av)?;
                state.serialize_field("kind", $kind)?;
                $(
                    if $crate::typed_object_serde!(@present $req self.$field) {
                        state.serialize_field($json, &self.$field)?;
                    }
                )*
                state.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> ::serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a ", $kind, " object"))
                    }
                    #[allow(unused_mut)]
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = <$ty as ::core::default::Default>::default();
                        while let Some(key) = map.next_key::<$crate::serde_util::Key<'de>>()? {
                            match key.as_str() {
                                "apiVersion" => {
                                    let v: Option<::std::borrow::Cow<'de, str>> = map.next_value()?;
                                    $crate::serde_util::check_type_field(
                                        "apiVersion", v.as_deref(), &[$($accepted),*])?;
                                }
                                "kind" => {
                                    let v: Option<::std::borrow::Cow<'de, str>> = map.next_value()?;
                                    $crate::serde_util::check_type_field("kind", v.as_deref(), &[$kind])?;
                                }
                                $( $json => { out.$field = $crate::typed_object_serde!(@value $req map); } )*
                                _ => { map.next_value::<::serde::de::IgnoredAny>()?; }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(ObjectVisitor)
            }
        }
    };
}

pub(crate) use typed_object_serde;
