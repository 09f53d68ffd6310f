//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into
//! the JSON a client would have sent for the same object.
//!
//! kubectl 1.32 sends its typed-client requests (`create namespace|configmap|secret|...`,
//! `drain`'s `DeleteOptions`, `autoscale`, `auth can-i`, `create token`) as protobuf, with no
//! fallback to JSON. [`decode`] turns such a body into the upstream JSON shape, after which the
//! server's JSON path takes over; responses stay JSON.
//!
//! The body is the four magic bytes `k8s\0` followed by a `runtime.Unknown` envelope:
//! `{1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}`, where
//! `raw` is the object's own message. A generated table (`table.rs`, from the upstream
//! `generated.proto` definitions and the Go types behind them) says for every field number of
//! every message its JSON name, its wire value and how upstream's Go type serialises it to
//! JSON, so the result is exactly what `encoding/json` makes of the object that upstream's
//! gogo-protobuf code decodes:
//! * upstream writes every non-pointer field, even empty ones; like Go's `omitempty` the decoder
//!   drops the empty ones that JSON omits and keeps the zero of a pointer that was set
//!   (`replicas: 0`), a field without `omitempty` (`port: 0`) and every struct (`status: {}`);
//! * `Time` and `MicroTime` become RFC 3339 (`null` when zero), `Duration` Go's duration
//!   string, `IntOrString` a number or a string, `Quantity` its canonical string,
//!   `RawExtension` and `FieldsV1` their embedded JSON, `bytes` base64;
//! * unknown field numbers are skipped, as protobuf does; a known field with a wire type its
//!   type cannot have is an error, as upstream's decoder makes it.
//!
//! Every failure is a [`ProtobufError`]: no input panics, nesting is bounded by [`MAX_DEPTH`],
//! and the work is linear in the body size times the nesting depth.

mod table;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kubernaut_api_types::{Quantity, QuantityError};
use serde_json::{Map as JsonMap, Value as Json};

/// The media type of Kubernetes protobuf bodies, as in `Content-Type` and `Accept`.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// How deeply messages may nest (the object itself is level 1). Upstream objects nest about
/// fifteen levels; the bound keeps hostile bodies from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// Why a protobuf body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with the magic bytes `k8s\0`.
    #[error("the body is not a kubernetes protobuf message: it does not start with k8s\\0")]
    BadMagic,
    /// The body holds the magic bytes and nothing else.
    #[error("the protobuf body is empty after its magic bytes")]
    EmptyBody,
    /// A varint runs past the end of its message.
    #[error("truncated varint in {message}")]
    TruncatedVarint {
        /// The message being read.
        message: &'static str,
    },
    /// A varint is longer than ten bytes.
    #[error("varint overflows 64 bits in {message}")]
    VarintOverflow {
        /// The message being read.
        message: &'static str,
    },
    /// A length-delimited or fixed-width value runs past the end of its message.
    #[error("truncated field {field} of {message}: {needed} bytes needed, {available} left")]
    Truncated {
        /// The message being read.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The length the value declares (or its fixed width).
        needed: u64,
        /// The bytes left in the message.
        available: usize,
    },
    /// A field key with the field number 0 or one beyond protobuf's maximum (2^29 - 1).
    #[error("illegal field number {field} in {message}")]
    IllegalFieldNumber {
        /// The message being read.
        message: &'static str,
        /// The field number as read.
        field: u64,
    },
    /// A wire type protobuf does not define (6, 7) or an end-group without its start-group.
    #[error("illegal wire type {wire_type} for field {field} of {message}")]
    IllegalWireType {
        /// The message being read.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The wire type as read.
        wire_type: u8,
    },
    /// A group (wire type 3) of an unknown field runs to the end of its message.
    #[error("group of field {field} of {message} has no end")]
    UnterminatedGroup {
        /// The message being read.
        message: &'static str,
        /// The group's field number.
        field: u32,
    },
    /// A known field arrives with a wire type its declared type cannot have.
    #[error("wrong wire type {wire_type} for field {field} ({json}) of {message}")]
    WrongWireType {
        /// The message being read.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The field's JSON name.
        json: &'static str,
        /// The wire type as read.
        wire_type: u8,
    },
    /// The envelope names no kind.
    #[error("the protobuf envelope names no kind")]
    MissingKind,
    /// The envelope names no apiVersion.
    #[error("the protobuf envelope names no apiVersion")]
    MissingVersion,
    /// The envelope's apiVersion and kind are not a kind this decoder knows.
    #[error("no kind {kind:?} is registered for version {api_version:?}")]
    UnknownKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// A string field holds bytes that are not UTF-8.
    #[error("field {field} of {message} is not valid utf-8")]
    InvalidUtf8 {
        /// The message being read.
        message: &'static str,
        /// The field number.
        field: u32,
    },
    /// Messages nest deeper than [`MAX_DEPTH`].
    #[error("messages nest deeper than {limit} levels")]
    TooDeep {
        /// The bound, [`MAX_DEPTH`].
        limit: usize,
    },
    /// A `Time` or `MicroTime` outside the years 0000 to 9999, which RFC 3339 cannot write.
    #[error("timestamp of {seconds} s and {nanos} ns is outside the years 0000 to 9999")]
    TimestampOutOfRange {
        /// Seconds since the Unix epoch, as sent.
        seconds: i64,
        /// Nanoseconds, as sent.
        nanos: i32,
    },
    /// An `IntOrString` whose type is neither 0 (integer) nor 1 (string).
    #[error("invalid IntOrString type {int_or_string_type} (0 is an integer, 1 a string)")]
    InvalidIntOrString {
        /// The type as sent.
        int_or_string_type: i64,
    },
    /// A `Quantity` whose string does not parse, which upstream rejects while decoding.
    #[error("invalid quantity {value:?}: {source}")]
    InvalidQuantity {
        /// The string as sent.
        value: String,
        /// Why it does not parse.
        #[source]
        source: QuantityError,
    },
    /// A `RawExtension` or `FieldsV1` whose bytes are not JSON.
    #[error("the embedded object in {message} is not valid json: {source}")]
    InvalidEmbeddedJson {
        /// The message holding it.
        message: &'static str,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// Decodes a Kubernetes protobuf body (magic bytes and envelope included) into the JSON object
/// upstream would serialise for it, with `apiVersion` and `kind` from the envelope.
pub fn decode(body: &[u8]) -> Result<Json, ProtobufError> {
    let data = body.strip_prefix(&MAGIC).ok_or(ProtobufError::BadMagic)?;
    if data.is_empty() {
        return Err(ProtobufError::EmptyBody);
    }
    let envelope = &table::MESSAGES[usize::from(table::ENVELOPE)];
    let fields = collect(envelope, &[data])?;
    // runtime.Unknown: 1 typeMeta, 2 raw (3 contentEncoding and 4 contentType are not read by
    // upstream's protobuf serializer either).
    let type_meta = &table::MESSAGES[usize::from(table::TYPE_META)];
    let type_meta_fields = collect(type_meta, &lengths(occurrences(envelope, &fields, 1)))?;
    let api_version = last_string(type_meta, &type_meta_fields, 1)?;
    let kind = last_string(type_meta, &type_meta_fields, 2)?;
    if kind.is_empty() {
        return Err(ProtobufError::MissingKind);
    }
    if api_version.is_empty() {
        return Err(ProtobufError::MissingVersion);
    }
    let index = table::KINDS
        .binary_search_by(|&(v, k, _)| (v, k).cmp(&(api_version, kind)))
        .map(|i| table::KINDS[i].2)
        .map_err(|_| ProtobufError::UnknownKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        })?;
    let raw = lengths(occurrences(envelope, &fields, 2));
    let raw: &[&[u8]] = match raw.last() {
        Some(last) => std::slice::from_ref(last),
        None => &[],
    };
    let mut object = render_object(&table::MESSAGES[usize::from(index)], raw, 1)?;
    object.insert(
        "apiVersion".to_owned(),
        Json::String(api_version.to_owned()),
    );
    object.insert("kind".to_owned(), Json::String(kind.to_owned()));
    Ok(Json::Object(object))
}

/// The `(apiVersion, kind)` pairs [`decode`] knows, sorted: every kind of the decoded group
/// versions, the option kinds (`DeleteOptions`, ...) in each of them and in `meta.k8s.io/v1`,
/// and the unversioned `v1` kinds (`Status`, ...).
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::KINDS
        .iter()
        .map(|&(api_version, kind, _)| (api_version, kind))
}

// ---------------------------------------------------------------------------------------------
// The table's vocabulary.
// ---------------------------------------------------------------------------------------------

/// What one occurrence of a field holds on the wire.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// A UTF-8 string (wire type 2).
    Str,
    /// A varint, non-zero is true.
    Bool,
    /// A varint, its low 32 bits (upstream's int32 decoding).
    I32,
    /// A varint.
    I64,
    /// Bytes, base64 in JSON (wire type 2).
    Bytes,
    /// A message, by its index in [`table::MESSAGES`] (wire type 2).
    Msg(u16),
}

/// How upstream's Go type holds a field, which decides its JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Repr {
    /// A pointer: sent only when set, then written even when zero; unset is omitted
    /// (`omitempty`) or `null`.
    Pointer,
    /// A Go value: a scalar (empty ones omitted with `omitempty`), a struct (always written,
    /// zero when absent), a `[]byte` or a named slice (nil when absent).
    Plain,
    /// An embedded struct whose fields JSON writes into the parent (`json:",inline"`).
    Inline,
    /// A slice, one occurrence per element (scalars also packed); empty is omitted or `null`.
    Slice,
    /// A `map[string]V`, one occurrence per entry message `{1: key, 2: value}`; the field's
    /// [`Value`] is V.
    Map,
}

/// Messages whose JSON form is not their field-by-field encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    /// An ordinary message: a JSON object.
    None,
    /// `metav1.Time`: `{1: seconds, 2: nanos}`, RFC 3339 in seconds, `null` when zero.
    Time,
    /// `metav1.MicroTime`: like `Time`, with six fractional digits.
    MicroTime,
    /// `metav1.Duration`: `{1: nanoseconds}`, Go's duration string.
    Duration,
    /// `intstr.IntOrString`: `{1: type, 2: intVal, 3: strVal}`, a number or a string.
    IntOrString,
    /// `resource.Quantity`: `{1: string}`, its canonical string.
    Quantity,
    /// `runtime.RawExtension`, `metav1.FieldsV1`: `{1: raw JSON}`, the embedded value.
    RawJson,
    /// A Go named `[]string` (`ExtraValue`, `Verbs`): `{1: repeated items}`, an array.
    StringList,
    /// `runtime.Unknown`, the envelope (an ordinary object if it ever appeared inside one).
    Envelope,
}

/// One field of a message.
#[derive(Debug)]
struct Field {
    number: u32,
    json: &'static str,
    value: Value,
    repr: Repr,
    /// Go's `omitempty`, kept only where it can apply (never on structs).
    omit_empty: bool,
}

/// Builds a [`Field`] (keeps the generated table on one line per field).
const fn field(
    number: u32,
    json: &'static str,
    value: Value,
    repr: Repr,
    omit_empty: bool,
) -> Field {
    Field {
        number,
        json,
        value,
        repr,
        omit_empty,
    }
}

/// One message: its protobuf name, JSON form and fields sorted by number.
#[derive(Debug)]
struct Message {
    name: &'static str,
    special: Special,
    fields: &'static [Field],
}

// ---------------------------------------------------------------------------------------------
// Wire reading.
// ---------------------------------------------------------------------------------------------

/// One occurrence of a field on the wire (fixed-width values are only ever skipped: no
/// decoded message has a fixed-width field).
#[derive(Clone, Copy, Debug)]
enum Wire<'a> {
    Varint(u64),
    Fixed,
    Len(&'a [u8]),
}

/// A cursor over one message's bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], message: &'static str) -> Self {
        Reader {
            buf,
            pos: 0,
            message,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(ProtobufError::TruncatedVarint {
                    message: self.message,
                });
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(ProtobufError::VarintOverflow {
            message: self.message,
        })
    }

    fn take(&mut self, field: u32, needed: u64) -> Result<&'a [u8], ProtobufError> {
        let available = self.buf.len() - self.pos;
        match usize::try_from(needed) {
            Ok(n) if n <= available => {
                let bytes = &self.buf[self.pos..self.pos + n];
                self.pos += n;
                Ok(bytes)
            }
            _ => Err(ProtobufError::Truncated {
                message: self.message,
                field,
                needed,
                available,
            }),
        }
    }

    /// The next field key: (field number, wire type).
    fn key(&mut self) -> Result<(u32, u8), ProtobufError> {
        let key = self.varint()?;
        let number = key >> 3;
        let wire_type = (key & 7) as u8;
        match u32::try_from(number) {
            Ok(field) if wire_type > 5 => Err(ProtobufError::IllegalWireType {
                message: self.message,
                field,
                wire_type,
            }),
            Ok(n) if (1..=MAX_FIELD_NUMBER).contains(&n) => Ok((n, wire_type)),
            _ => Err(ProtobufError::IllegalFieldNumber {
                message: self.message,
                field: number,
            }),
        }
    }

    /// The value of a field with the given wire type.
    fn value(&mut self, field: u32, wire_type: u8) -> Result<Wire<'a>, ProtobufError> {
        Ok(match wire_type {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(field, 8)?;
                Wire::Fixed
            }
            2 => {
                let len = self.varint()?;
                Wire::Len(self.take(field, len)?)
            }
            5 => {
                self.take(field, 4)?;
                Wire::Fixed
            }
            _ => {
                return Err(ProtobufError::IllegalWireType {
                    message: self.message,
                    field,
                    wire_type,
                });
            }
        })
    }

    /// Skips a field nobody knows, groups (wire types 3 and 4, proto2 relics) included.
    fn skip(&mut self, field: u32, wire_type: u8) -> Result<(), ProtobufError> {
        if wire_type != 3 {
            return self.value(field, wire_type).map(drop);
        }
        let mut open = vec![field];
        while let Some(&group) = open.last() {
            if self.at_end() {
                return Err(ProtobufError::UnterminatedGroup {
                    message: self.message,
                    field,
                });
            }
            let (number, wire_type) = self.key()?;
            match wire_type {
                3 if open.len() >= MAX_DEPTH => {
                    return Err(ProtobufError::TooDeep { limit: MAX_DEPTH });
                }
                3 => open.push(number),
                4 if number == group => {
                    open.pop();
                }
                _ => {
                    self.value(number, wire_type)?;
                }
            }
        }
        Ok(())
    }
}

/// Protobuf's largest field number.
const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// Reads the fields of one message, possibly sent in several pieces (protobuf merges repeated
/// occurrences of a singular message field), into one list of occurrences per table field.
fn collect<'a>(
    message: &'static Message,
    pieces: &[&'a [u8]],
) -> Result<Vec<Vec<Wire<'a>>>, ProtobufError> {
    let mut fields: Vec<Vec<Wire<'a>>> = message.fields.iter().map(|_| Vec::new()).collect();
    for piece in pieces {
        let mut reader = Reader::new(piece, message.name);
        while !reader.at_end() {
            let (number, wire_type) = reader.key()?;
            let Ok(index) = message.fields.binary_search_by_key(&number, |f| f.number) else {
                reader.skip(number, wire_type)?;
                continue;
            };
            let field = &message.fields[index];
            if !wire_type_fits(field, wire_type) {
                return Err(ProtobufError::WrongWireType {
                    message: message.name,
                    field: number,
                    json: field.json,
                    wire_type,
                });
            }
            fields[index].push(reader.value(number, wire_type)?);
        }
    }
    Ok(fields)
}

/// Whether a wire type can carry the field: its value's own, or a packed run of scalars for a
/// repeated field.
fn wire_type_fits(field: &Field, wire_type: u8) -> bool {
    if field.repr == Repr::Map {
        return wire_type == 2;
    }
    let own = match field.value {
        Value::Bool | Value::I32 | Value::I64 => 0,
        Value::Str | Value::Bytes | Value::Msg(_) => 2,
    };
    wire_type == own || (field.repr == Repr::Slice && wire_type == 2)
}

/// The occurrences of the field with this number (none if the table has no such field).
fn occurrences<'f, 'a>(
    message: &Message,
    fields: &'f [Vec<Wire<'a>>],
    number: u32,
) -> &'f [Wire<'a>] {
    message
        .fields
        .binary_search_by_key(&number, |f| f.number)
        .ok()
        .and_then(|i| fields.get(i))
        .map_or(&[], Vec::as_slice)
}

/// The length-delimited payloads among some occurrences.
fn lengths<'a>(occurrences: &[Wire<'a>]) -> Vec<&'a [u8]> {
    occurrences
        .iter()
        .filter_map(|w| match w {
            Wire::Len(bytes) => Some(*bytes),
            _ => None,
        })
        .collect()
}

fn utf8<'a>(message: &Message, field: u32, bytes: &'a [u8]) -> Result<&'a str, ProtobufError> {
    std::str::from_utf8(bytes).map_err(|_| ProtobufError::InvalidUtf8 {
        message: message.name,
        field,
    })
}

/// The last string a field was sent with, `""` when absent.
fn last_string<'a>(
    message: &Message,
    fields: &[Vec<Wire<'a>>],
    number: u32,
) -> Result<&'a str, ProtobufError> {
    match lengths(occurrences(message, fields, number)).last() {
        Some(bytes) => utf8(message, number, bytes),
        None => Ok(""),
    }
}

/// The last varint a field was sent with, 0 when absent.
fn last_varint(message: &Message, fields: &[Vec<Wire<'_>>], number: u32) -> u64 {
    occurrences(message, fields, number)
        .iter()
        .rev()
        .find_map(|w| match w {
            Wire::Varint(v) => Some(*v),
            _ => None,
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Rendering JSON.
// ---------------------------------------------------------------------------------------------

/// The JSON of a message sent in `pieces` (none: the zero value of its Go type).
fn render(index: u16, pieces: &[&[u8]], depth: usize) -> Result<Json, ProtobufError> {
    let message = &table::MESSAGES[usize::from(index)];
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep { limit: MAX_DEPTH });
    }
    // Upstream's own Unmarshal of Time, MicroTime and Quantity replaces the value with each
    // occurrence; the generated ones merge.
    let last: &[&[u8]] = match pieces.last() {
        Some(last) => std::slice::from_ref(last),
        None => &[],
    };
    match message.special {
        Special::None | Special::Envelope => {
            render_object(message, pieces, depth).map(Json::Object)
        }
        Special::Time | Special::MicroTime => {
            let Some(piece) = last.first().filter(|p| !p.is_empty()) else {
                return Ok(Json::Null);
            };
            let fields = collect(message, &[piece])?;
            let seconds = last_varint(message, &fields, 1) as i64;
            let nanos = last_varint(message, &fields, 2) as u32 as i32;
            format_time(seconds, nanos, message.special == Special::MicroTime)
        }
        Special::Duration => {
            let fields = collect(message, pieces)?;
            Ok(Json::String(format_duration(
                last_varint(message, &fields, 1) as i64,
            )))
        }
        Special::IntOrString => {
            let fields = collect(message, pieces)?;
            match last_varint(message, &fields, 1) as i64 {
                0 => Ok(Json::from(last_varint(message, &fields, 2) as u32 as i32)),
                1 => Ok(Json::String(last_string(message, &fields, 3)?.to_owned())),
                other => Err(ProtobufError::InvalidIntOrString {
                    int_or_string_type: other,
                }),
            }
        }
        Special::Quantity => {
            let fields = collect(message, last)?;
            let Some(bytes) = lengths(occurrences(message, &fields, 1)).pop() else {
                // The zero Quantity.
                return Ok(Json::String("0".to_owned()));
            };
            let text = utf8(message, 1, bytes)?;
            let quantity =
                Quantity::parse(text).map_err(|source| ProtobufError::InvalidQuantity {
                    value: text.to_owned(),
                    source,
                })?;
            Ok(Json::String(quantity.to_string()))
        }
        Special::RawJson => {
            let fields = collect(message, pieces)?;
            match lengths(occurrences(message, &fields, 1)).last() {
                None => Ok(Json::Null),
                Some(raw) => serde_json::from_slice(raw).map_err(|source| {
                    ProtobufError::InvalidEmbeddedJson {
                        message: message.name,
                        source,
                    }
                }),
            }
        }
        Special::StringList => {
            let fields = collect(message, pieces)?;
            let items = lengths(occurrences(message, &fields, 1))
                .into_iter()
                .map(|bytes| utf8(message, 1, bytes).map(|s| Json::String(s.to_owned())))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if items.is_empty() {
                Json::Null
            } else {
                Json::Array(items)
            })
        }
    }
}

/// The JSON object of an ordinary message.
fn render_object(
    message: &'static Message,
    pieces: &[&[u8]],
    depth: usize,
) -> Result<JsonMap<String, Json>, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep { limit: MAX_DEPTH });
    }
    let fields = collect(message, pieces)?;
    let mut object = JsonMap::new();
    for (field, occurrences) in message.fields.iter().zip(&fields) {
        render_field(message, field, occurrences, depth, &mut object)?;
    }
    Ok(object)
}

/// Writes one field into its object the way `encoding/json` writes the Go field.
fn render_field(
    message: &'static Message,
    field: &Field,
    occurrences: &[Wire<'_>],
    depth: usize,
    object: &mut JsonMap<String, Json>,
) -> Result<(), ProtobufError> {
    let mut put = |value: Json| {
        object.insert(field.json.to_owned(), value);
    };
    match field.repr {
        Repr::Pointer => {
            if occurrences.is_empty() {
                if !field.omit_empty {
                    put(Json::Null);
                }
            } else {
                put(render_single(message, field, occurrences, depth)?);
            }
        }
        Repr::Plain => match field.value {
            Value::Bytes => match lengths(occurrences).last() {
                // A nil []byte.
                None if !field.omit_empty => put(Json::Null),
                None => {}
                Some(bytes) if bytes.is_empty() && field.omit_empty => {}
                Some(bytes) => put(Json::String(BASE64.encode(bytes))),
            },
            Value::Msg(index) => {
                let value = render(index, &lengths(occurrences), depth + 1)?;
                // Structs are never empty to Go; a nil named slice (StringList) is.
                if !(field.omit_empty && value.is_null()) {
                    put(value);
                }
            }
            _ => {
                let value = match occurrences.last() {
                    Some(_) => render_single(message, field, occurrences, depth)?,
                    None => zero(field.value),
                };
                if !(field.omit_empty && is_zero(&value)) {
                    put(value);
                }
            }
        },
        Repr::Inline => {
            if let Value::Msg(index) = field.value {
                let inner = &table::MESSAGES[usize::from(index)];
                object.extend(render_object(inner, &lengths(occurrences), depth + 1)?);
            }
        }
        Repr::Slice => {
            let mut items = Vec::new();
            for occurrence in occurrences {
                render_elements(message, field, *occurrence, depth, &mut items)?;
            }
            if !items.is_empty() {
                put(Json::Array(items));
            } else if !field.omit_empty {
                put(Json::Null);
            }
        }
        Repr::Map => {
            let mut map = JsonMap::new();
            for entry in lengths(occurrences) {
                let (key, value) = render_entry(message, field, entry, depth)?;
                map.insert(key, value);
            }
            if !map.is_empty() {
                put(Json::Object(map));
            } else if !field.omit_empty {
                put(Json::Null);
            }
        }
    }
    Ok(())
}

/// The value of a singular field from its occurrences: the last for scalars (protobuf's rule),
/// all of them merged for messages.
fn render_single(
    message: &'static Message,
    field: &Field,
    occurrences: &[Wire<'_>],
    depth: usize,
) -> Result<Json, ProtobufError> {
    if let Value::Msg(index) = field.value {
        return render(index, &lengths(occurrences), depth + 1);
    }
    match occurrences.last() {
        Some(wire) => scalar(message, field.number, field.value, *wire),
        None => Ok(zero(field.value)),
    }
}

/// The elements one occurrence of a repeated field adds: one, or a packed run of scalars.
fn render_elements(
    message: &'static Message,
    field: &Field,
    occurrence: Wire<'_>,
    depth: usize,
    items: &mut Vec<Json>,
) -> Result<(), ProtobufError> {
    match (field.value, occurrence) {
        (Value::Msg(index), Wire::Len(bytes)) => items.push(render(index, &[bytes], depth + 1)?),
        (Value::Bool | Value::I32 | Value::I64, Wire::Len(packed)) => {
            let mut reader = Reader::new(packed, message.name);
            while !reader.at_end() {
                let wire = Wire::Varint(reader.varint()?);
                items.push(scalar(message, field.number, field.value, wire)?);
            }
        }
        (value, wire) => items.push(scalar(message, field.number, value, wire)?),
    }
    Ok(())
}

/// One map entry `{1: key, 2: value}`; an absent key is `""`, an absent value the zero value
/// (an empty, non-nil `[]byte` for bytes, as upstream's decoder makes it).
fn render_entry(
    message: &'static Message,
    field: &Field,
    entry: &[u8],
    depth: usize,
) -> Result<(String, Json), ProtobufError> {
    let mut reader = Reader::new(entry, message.name);
    let mut key: &[u8] = &[];
    let mut value: Option<Wire<'_>> = None;
    while !reader.at_end() {
        let (number, wire_type) = reader.key()?;
        let expected = match (number, field.value) {
            (1, _) | (2, Value::Str | Value::Bytes | Value::Msg(_)) => Some(2),
            (2, Value::Bool | Value::I32 | Value::I64) => Some(0),
            _ => None,
        };
        match expected {
            None => reader.skip(number, wire_type)?,
            Some(expected) if expected != wire_type => {
                return Err(ProtobufError::WrongWireType {
                    message: message.name,
                    field: field.number,
                    json: field.json,
                    wire_type,
                });
            }
            Some(_) => match reader.value(number, wire_type)? {
                Wire::Len(bytes) if number == 1 => key = bytes,
                wire => value = Some(wire),
            },
        }
    }
    let key = utf8(message, field.number, key)?.to_owned();
    let value = match (field.value, value) {
        (Value::Msg(index), Some(Wire::Len(bytes))) => render(index, &[bytes], depth + 1)?,
        (Value::Msg(index), _) => render(index, &[], depth + 1)?,
        (Value::Bytes, None) => Json::String(String::new()),
        (value, None) => zero(value),
        (value, Some(wire)) => scalar(message, field.number, value, wire)?,
    };
    Ok((key, value))
}

/// The JSON of one scalar occurrence.
fn scalar(
    message: &Message,
    number: u32,
    value: Value,
    wire: Wire<'_>,
) -> Result<Json, ProtobufError> {
    Ok(match (value, wire) {
        (Value::Str, Wire::Len(bytes)) => Json::String(utf8(message, number, bytes)?.to_owned()),
        (Value::Bytes, Wire::Len(bytes)) => Json::String(BASE64.encode(bytes)),
        (Value::Bool, Wire::Varint(v)) => Json::Bool(v != 0),
        (Value::I32, Wire::Varint(v)) => Json::from(v as u32 as i32),
        (Value::I64, Wire::Varint(v)) => Json::from(v as i64),
        // `collect` admits only fitting wire types; anything else reads as the zero value.
        (value, _) => zero(value),
    })
}

/// The zero value of a scalar, as Go's JSON writes it.
fn zero(value: Value) -> Json {
    match value {
        Value::Str | Value::Bytes => Json::String(String::new()),
        Value::Bool => Json::Bool(false),
        Value::I32 | Value::I64 => Json::from(0),
        Value::Msg(_) => Json::Null,
    }
}

/// Go's empty value of a scalar, which `omitempty` drops.
fn is_zero(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::String(s) => s.is_empty(),
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    }
}

// ---------------------------------------------------------------------------------------------
// Times and durations, as Go formats them.
// ---------------------------------------------------------------------------------------------

/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// `metav1.Time` (`2006-01-02T15:04:05Z`) or `metav1.MicroTime`
/// (`2006-01-02T15:04:05.000000Z`) of `time.Unix(seconds, nanos)` in UTC; `null` for Go's zero
/// time.
fn format_time(seconds: i64, nanos: i32, micro: bool) -> Result<Json, ProtobufError> {
    let out_of_range = ProtobufError::TimestampOutOfRange { seconds, nanos };
    // time.Unix normalises nanoseconds outside [0, 1e9) into the seconds.
    let carry = i64::from(nanos).div_euclid(1_000_000_000);
    let nanos_in_second = i64::from(nanos).rem_euclid(1_000_000_000);
    let Some(total) = seconds.checked_add(carry) else {
        return Err(out_of_range);
    };
    if total == ZERO_TIME_UNIX && nanos_in_second == 0 {
        return Ok(Json::Null);
    }
    let days = total.div_euclid(86_400);
    let second_of_day = total.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return Err(out_of_range);
    }
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    let mut text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if micro {
        text.push_str(&format!(".{:06}", nanos_in_second / 1000));
    }
    text.push('Z');
    Ok(Json::String(text))
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Go's `time.Duration.String`: `1h2m3.5s`, `1.5ms`, `0s`.
fn format_duration(nanos: i64) -> String {
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Below a second: one unit with a fraction.
        let (unit, scale) = match u {
            0 => return "0s".to_owned(),
            1..=999 => ("ns", 1),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let seconds = fraction(u % 60_000_000_000, 1_000_000_000);
        u /= 60_000_000_000;
        if u > 0 {
            let minutes = u % 60;
            let hours = u / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&seconds);
        out.push('s');
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// `value / scale` with the fraction's trailing zeros (and a bare point) dropped.
fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let fraction = format!("{rest:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests;
