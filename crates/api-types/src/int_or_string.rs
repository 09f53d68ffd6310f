//! `IntOrString`: a field that holds either an integer or a string, such as a port name or a
//! percentage (`maxSurge: 25%`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Either a 32-bit integer or a string; JSON keeps whichever was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// An integer, such as a port number.
    Int(i32),
    /// A string, such as a port name or a percentage (`"25%"`).
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

/// Why an [`IntOrString`] could not be resolved against a total.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntOrStringError {
    /// A string that does not end in `%`.
    #[error("invalid value for IntOrString: invalid type: string is not a percentage")]
    NotAPercentage,
    /// A percentage whose number does not parse.
    #[error("invalid value for IntOrString: invalid value {0:?}")]
    InvalidPercentage(String),
}

impl IntOrString {
    /// Resolves the value against `total`: an integer is returned as is, a percentage is scaled
    /// and rounded up (`round_up`, as for `maxSurge`) or down (as for `maxUnavailable`).
    ///
    /// # Errors
    /// A string that is not a percentage, or whose number does not parse.
    pub fn scaled_value(&self, total: i32, round_up: bool) -> Result<i32, IntOrStringError> {
        match self {
            IntOrString::Int(v) => Ok(*v),
            IntOrString::String(s) => {
                let digits = s
                    .strip_suffix('%')
                    .ok_or(IntOrStringError::NotAPercentage)?;
                let percent: i64 = digits
                    .parse()
                    .map_err(|_| IntOrStringError::InvalidPercentage(s.clone()))?;
                let product = percent * i64::from(total);
                let scaled = if round_up {
                    product.div_euclid(100) + i64::from(product.rem_euclid(100) != 0)
                } else {
                    product.div_euclid(100)
                };
                i32::try_from(scaled).map_err(|_| IntOrStringError::InvalidPercentage(s.clone()))
            }
        }
    }

    /// The integer value, if this is an integer.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            IntOrString::Int(v) => Some(*v),
            IntOrString::String(_) => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            IntOrString::Int(_) => None,
            IntOrString::String(s) => Some(s),
        }
    }
}

impl From<i32> for IntOrString {
    fn from(v: i32) -> Self {
        IntOrString::Int(v)
    }
}

impl From<&str> for IntOrString {
    fn from(v: &str) -> Self {
        IntOrString::String(v.to_owned())
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(v) => write!(f, "{v}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(v) => serializer.serialize_i32(*v),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 32-bit integer or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for IntOrString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IntOrString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_json_type() {
        let p: IntOrString = serde_json::from_str("8080").unwrap();
        assert_eq!(p, IntOrString::Int(8080));
        let s: IntOrString = serde_json::from_str("\"http\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"http\"");
        assert!(serde_json::from_str::<IntOrString>("1.5").is_err());
        assert!(serde_json::from_str::<IntOrString>("4294967296").is_err());
    }

    #[test]
    fn percentages_round_like_upstream() {
        let p = IntOrString::from("25%");
        assert_eq!(p.scaled_value(10, true), Ok(3));
        assert_eq!(p.scaled_value(10, false), Ok(2));
        assert_eq!(p.scaled_value(4, true), Ok(1));
        assert_eq!(IntOrString::from("0%").scaled_value(7, true), Ok(0));
        assert_eq!(IntOrString::Int(5).scaled_value(100, false), Ok(5));
        assert_eq!(
            IntOrString::from("25").scaled_value(4, true),
            Err(IntOrStringError::NotAPercentage)
        );
        assert!(IntOrString::from("x%").scaled_value(4, true).is_err());
    }
}
