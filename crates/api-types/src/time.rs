//! `Time` and `MicroTime`: RFC 3339 timestamps with upstream's precision and formatting.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A timestamp with second precision, written as RFC 3339 in UTC (`2024-05-01T10:00:00Z`).
///
/// Parsing accepts any RFC 3339 offset and fraction and keeps whole seconds, as upstream's
/// `metav1.Time` does on the wire. The default is Go's zero time (`0001-01-01T00:00:00Z`), which
/// is written as `null`, as upstream writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub DateTime<Utc>);

/// A timestamp with microsecond precision (`2024-05-01T10:00:00.123456Z`), upstream's
/// `metav1.MicroTime`, used by events and leases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub DateTime<Utc>);

fn zero() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Default for Time {
    fn default() -> Self {
        Time(zero())
    }
}

impl Default for MicroTime {
    fn default() -> Self {
        MicroTime(zero())
    }
}

impl Time {
    /// Whether this is the zero time (the default), which is written as `null`.
    pub fn is_zero(&self) -> bool {
        self.0 == zero()
    }

    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        Time(Utc::now().trunc_subsecs(0))
    }

    /// Parses an RFC 3339 timestamp and truncates it to whole seconds.
    pub fn parse(s: &str) -> Result<Self, chrono::ParseError> {
        Ok(Time(
            DateTime::parse_from_rfc3339(s)?
                .with_timezone(&Utc)
                .trunc_subsecs(0),
        ))
    }
}

impl MicroTime {
    /// Whether this is the zero time (the default), which is written as `null`.
    pub fn is_zero(&self) -> bool {
        self.0 == zero()
    }

    /// The current time, truncated to whole microseconds.
    pub fn now() -> Self {
        MicroTime(Utc::now().trunc_subsecs(6))
    }

    /// Parses an RFC 3339 timestamp and truncates it to whole microseconds.
    pub fn parse(s: &str) -> Result<Self, chrono::ParseError> {
        Ok(MicroTime(
            DateTime::parse_from_rfc3339(s)?
                .with_timezone(&Utc)
                .trunc_subsecs(6),
        ))
    }
}

/// The RFC 3339 text of a timestamp in a stack buffer: `YYYY-MM-DDTHH:MM:SS`, then `.ffffff`
/// when `micros`, then `Z`. Written digit by digit rather than through chrono's format-string
/// interpreter or `core::fmt`: timestamps are on every object's hot encode path.
struct Rfc3339 {
    buf: [u8; 27],
    len: usize,
}

impl Rfc3339 {
    /// `None` for years outside RFC 3339's four digits.
    fn new(t: &DateTime<Utc>, micros: bool) -> Option<Self> {
        use chrono::{Datelike, Timelike};
        // The UTC calendar fields directly: going through `DateTime` would apply the (zero)
        // offset on every accessor.
        let t = t.naive_utc();
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut buf = [0u8; 27];
        let digits = |buf: &mut [u8], mut v: u32| {
            for slot in buf.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        digits(&mut buf[0..4], year);
        buf[4] = b'-';
        digits(&mut buf[5..7], t.month());
        buf[7] = b'-';
        digits(&mut buf[8..10], t.day());
        buf[10] = b'T';
        digits(&mut buf[11..13], t.hour());
        buf[13] = b':';
        digits(&mut buf[14..16], t.minute());
        buf[16] = b':';
        digits(&mut buf[17..19], t.second());
        let end = if micros {
            buf[19] = b'.';
            digits(&mut buf[20..26], t.nanosecond() % 1_000_000_000 / 1000);
            26
        } else {
            19
        };
        buf[end] = b'Z';
        Some(Rfc3339 { buf, len: end + 1 })
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn write_rfc3339(t: &DateTime<Utc>, micros: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match Rfc3339::new(t, micros) {
        Some(text) => f.write_str(text.as_str()),
        // Outside RFC 3339's four-digit years: let chrono render it.
        None if micros => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
        None => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rfc3339(&self.0, false, f)
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rfc3339(&self.0, true, f)
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(t: DateTime<Utc>) -> Self {
        Time(t.trunc_subsecs(0))
    }
}

impl From<DateTime<Utc>> for MicroTime {
    fn from(t: DateTime<Utc>) -> Self {
        MicroTime(t.trunc_subsecs(6))
    }
}

macro_rules! time_serde {
    ($ty:ident, $micros:literal, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if self.is_zero() {
                    return serializer.serialize_none();
                }
                match Rfc3339::new(&self.0, $micros) {
                    Some(text) => serializer.serialize_str(text.as_str()),
                    None => serializer.collect_str(self),
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        $ty::parse(v).map_err(|e| {
                            E::custom(format_args!("invalid timestamp {v:?}: {e}"))
                        })
                    }
                }
                deserializer.deserialize_str(V)
            }
        }

        #[cfg(feature = "schemars")]
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "format": "date-time"})
            }
        }
    };
}

time_serde!(Time, false, "an RFC 3339 timestamp");
time_serde!(MicroTime, true, "an RFC 3339 timestamp with microseconds");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_in_utc_with_seconds() {
        let t = Time::parse("2024-05-01T12:30:45.999+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T10:30:45Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2024-05-01T10:30:45Z\""
        );
    }

    #[test]
    fn micro_time_keeps_microseconds() {
        let t = MicroTime::parse("2024-05-01T10:30:45.1234567Z").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T10:30:45.123456Z");
        let zero = MicroTime::parse("2024-05-01T10:30:45Z").unwrap();
        assert_eq!(zero.to_string(), "2024-05-01T10:30:45.000000Z");
    }

    #[test]
    fn zero_time_is_null() {
        assert_eq!(serde_json::to_string(&Time::default()).unwrap(), "null");
        assert_eq!(
            serde_json::to_string(&MicroTime::default()).unwrap(),
            "null"
        );
        assert!(!Time::now().is_zero());
    }

    #[test]
    fn bad_timestamps_are_errors() {
        assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Time>("\"\"").is_err());
        assert!(serde_json::from_str::<Time>("12").is_err());
        assert_eq!(serde_json::from_str::<Option<Time>>("null").unwrap(), None);
    }
}
