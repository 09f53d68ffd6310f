//! Server-side apply (`application/apply-patch+yaml`) and `metadata.managedFields`, as upstream's
//! field manager (apimachinery `pkg/util/managedfields`) and structured-merge-diff compute them.
//!
//! * [`FieldSet`]: a set of paths through an object — map keys (`f:<name>`), items of
//!   associative lists by their key fields (`k:{...}`), items of sets by value (`v:<json>`) and
//!   list items by position (`i:<n>`) — with upstream's order, set algebra, and the `FieldsV1`
//!   encoding of `managedFields[].fieldsV1` ([`FieldSet::to_fields_v1_string`] writes the bytes
//!   upstream writes for the same set).
//! * [`TypeSchema`]: for every position of a kind, whether it is a scalar, a map (granular or
//!   `x-kubernetes-map-type: atomic`) or a list (`x-kubernetes-list-type` `atomic`, `set` or
//!   `map` with `x-kubernetes-list-map-keys`; without a list type, a list whose patch strategy is
//!   `merge` is associative by its `x-kubernetes-patch-merge-key`, every other list is atomic),
//!   read from the kind's JSON Schema and cached per kind by [`TypeSchemas`]. Positions the schema
//!   does not describe are *deduced* from the value, as upstream does: maps are granular, lists
//!   atomic.
//! * [`FieldManager::apply`]: merges an applied configuration into the live object (maps
//!   recursively, associative lists by key, sets by value, atomic lists and scalars replaced),
//!   makes the manager's `Apply` entry exactly the fields of the configuration, removes the items
//!   the manager applied before but no longer applies unless another applier still owns them,
//!   and refuses fields another manager owns with a different value unless `force` is given
//!   ([`ApplyError::Conflicts`], upstream's `409 Conflict` with `FieldManagerConflict` causes).
//! * [`FieldManager::update`]: the bookkeeping of every other write (create, update, patches,
//!   status): the fields that changed become the writer's, in one `Update` entry per manager,
//!   API version and subresource; fields that changed or disappeared leave every other manager.
//!
//! Upstream's manager chain is followed step by step: the request's own `managedFields` are used
//! when a client sends some (`[]` or `[{}]` clears them, a subresource always uses the stored
//! ones); an object that has no managed fields is not tracked by updates until it is applied to
//! (its fields then go to `before-first-apply`); metadata the server owns (`name`, `uid`,
//! `resourceVersion`, ...) and `apiVersion`/`kind` are never tracked; a main resource never
//! tracks `status` and a status subresource tracks nothing else (the strategies' reset fields);
//! at most ten `Update` entries are kept, older ones merge into `ancient-changes`; and for the
//! `kubectl` manager the `kubectl.kubernetes.io/last-applied-configuration` annotation both
//! excuses conflicts on fields it already set (the upgrade from client-side apply) and is kept
//! up to date by server-side applies.
//!
//! ```
//! use std::sync::Arc;
//! use kubernaut_api_types::scheme::Scheme;
//! use kubernaut_apiserver::patch::apply::{FieldManager, TypeSchemas};
//! use serde_json::json;
//!
//! let schemas = TypeSchemas::new();
//! let schema = schemas.get(&Scheme::builtin(), "v1", "ConfigMap");
//! let fm = FieldManager::new(schema, "v1", "ConfigMap", "2024-05-01T10:00:00Z");
//! let applied = json!({"apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "cfg", "labels": {"app": "web"}}, "data": {"mode": "fast"}});
//! let object = fm.apply(None, &applied, "deployer", false)?;
//! let entry = &object["metadata"]["managedFields"][0];
//! assert_eq!(entry["manager"], "deployer");
//! assert_eq!(entry["operation"], "Apply");
//! assert_eq!(entry["fieldsV1"],
//!     json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}));
//! # Ok::<(), kubernaut_apiserver::patch::apply::ApplyError>(())
//! ```
//!
//! What differs from upstream: this server serves one version of each kind, so entries recorded
//! under another API version are compared as they are instead of converted (upstream drops an
//! entry whose version it cannot convert to); the schema's `default` of a list-map key is read
//! where the schema has one, and `protocol` keys default to `TCP` as upstream's schemas say for
//! every list keyed by it; and the `"."` member of a map added by a create follows which fields
//! of the kind are not optional in the schema, as an approximation of Go's zero values.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::sync::{Arc, PoisonError, RwLock};

use kubernaut_api_types::scheme::Scheme;
use kubernaut_api_types::validate::{FieldError, Path};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, GroupKind};

/// The annotation client-side `kubectl apply` keeps the applied configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// How many `Update` entries an object keeps before the oldest are merged into
/// `ancient-changes` entries (upstream's `DefaultMaxUpdateManagers`).
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The longest field manager name (upstream's `FieldManagerMaxLength`).
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// The manager the fields of an object that had no managed fields go to when it is first
/// applied to.
pub const BEFORE_FIRST_APPLY_MANAGER: &str = "before-first-apply";

/// The manager that old `Update` entries are merged into past [`MAX_UPDATE_MANAGERS`].
pub const ANCIENT_CHANGES_MANAGER: &str = "ancient-changes";

/// The manager of a write whose client named none and sent no user agent.
const UNKNOWN_MANAGER: &str = "unknown";

/// The manager whose applies keep the client-side apply annotation in step.
const KUBECTL_MANAGER: &str = "kubectl";

/// The largest total size of an object's annotations (upstream's `TotalAnnotationSizeLimitB`).
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Schemas nest deeper than this only through a cycle; values deeper than this are not walked.
const MAX_DEPTH: usize = 256;

// ---------------------------------------------------------------------------------------------
// Go-compatible value semantics
// ---------------------------------------------------------------------------------------------

/// Upstream's total order of values (structured-merge-diff `value.Compare`): numbers (integers
/// and floats compared numerically) before strings, booleans, lists, maps and `null`.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y) {
                let c = compare_values(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            // serde_json maps iterate in key order, as upstream sorts them here.
            for ((lk, lv), (rk, rv)) in x.iter().zip(y) {
                let c = lk.as_bytes().cmp(rk.as_bytes());
                if c != Ordering::Equal {
                    return c;
                }
                let c = compare_values(lv, rv);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Null, Value::Null) => Ordering::Equal,
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Ordering {
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(x), int(y)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => {
            let (a, b) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
    }
}

/// Upstream's value equality: deep, with integers and floats equal when numerically equal.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    compare_values(a, b) == Ordering::Equal
}

/// Writes `s` as a JSON string the way Go's encoders do: `\n`, `\r`, `\t` and `\u00xx` for the
/// other control characters, and, when `html` is set, `<`, `>`, `&`, U+2028 and U+2029 as
/// `\u` escapes (encoding/json's default, and json-iterator's standard-library mode).
fn write_go_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a value as Go's `encoding/json` does: map keys sorted, HTML characters escaped,
/// floats in the shortest form (exponent form below 1e-6 and from 1e21 on).
fn write_go_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(s) => write_go_string(out, s, true),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, k, true);
                out.push(':');
                write_go_json(out, v);
            }
            out.push('}');
        }
    }
}

/// A value as Go's `encoding/json` encodes it.
fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(&mut out, v);
    out
}

/// The exponent of `f` in scientific notation.
fn exponent_of(f: f64) -> i32 {
    format!("{f:e}")
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0)
}

/// `f` with a Go-style exponent: at least two exponent digits, an explicit sign.
fn exponent_form(f: f64, min_negative_digits: usize) -> String {
    let s = format!("{f:e}");
    let Some((mantissa, exponent)) = s.split_once('e') else {
        return s;
    };
    let e: i32 = exponent.parse().unwrap_or(0);
    if e < 0 {
        format!(
            "{mantissa}e-{:0width$}",
            e.unsigned_abs(),
            width = min_negative_digits
        )
    } else {
        format!("{mantissa}e+{e:02}")
    }
}

/// A float as encoding/json writes it.
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        exponent_form(f, 1)
    } else {
        f.to_string()
    }
}

/// A float as Go's `%v` prints it.
fn go_float_v(f: f64) -> String {
    if f == 0.0 {
        return f.to_string();
    }
    let e = exponent_of(f);
    if !(-4..21).contains(&e) {
        exponent_form(f, 2)
    } else {
        f.to_string()
    }
}

/// Go's `unicode.IsPrint`, closely: letters, marks, numbers, punctuation, symbols and the ASCII
/// space; no control, format, separator or private-use characters.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xFFFE | 0xFFFF
        | 0xE000..=0xF8FF | 0xE0001..=0xE007F | 0xF0000..=0x10FFFF)
}

/// A string as Go's `%q` prints it (`strconv.Quote`).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// A value as upstream's `value.ToString` prints it in paths: strings quoted, maps as
/// `key=value` pairs.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => go_float_v(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => go_quote(s),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(value_to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", value_to_string(v)))
            .collect(),
    }
}

/// The JSON type name Go's decoder uses in its messages.
fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// ---------------------------------------------------------------------------------------------
// Path elements
// ---------------------------------------------------------------------------------------------

/// One step of a path through an object.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A key of a map (or a field of a struct): `f:<name>`.
    Field(String),
    /// An item of an associative list, by the values of its key fields, sorted by field name:
    /// `k:{"name":"nginx"}`.
    Key(Vec<(String, Value)>),
    /// An item of a set (an associative list of scalars), by its value: `v:"x"`.
    Value(Value),
    /// An item of a list by its position: `i:<n>`.
    Index(i64),
}

impl PathElement {
    /// A field step.
    pub fn field(name: impl Into<String>) -> Self {
        PathElement::Field(name.into())
    }

    /// A key step; the fields are sorted by name.
    pub fn key(fields: impl IntoIterator<Item = (String, Value)>) -> Self {
        let mut fields: Vec<(String, Value)> = fields.into_iter().collect();
        fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        PathElement::Key(fields)
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The element as a `fieldsV1` key, exactly as upstream writes it: `f:` and the raw name,
    /// `k:` and a JSON object of the key fields, `v:` and the JSON value, `i:` and the index.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        match self {
            PathElement::Field(name) => {
                out.push_str("f:");
                out.push_str(name);
            }
            PathElement::Key(fields) => {
                out.push_str("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_go_string(&mut out, name, false);
                    out.push(':');
                    write_go_json(&mut out, value);
                }
                out.push('}');
            }
            PathElement::Value(value) => {
                out.push_str("v:");
                write_go_json(&mut out, value);
            }
            PathElement::Index(i) => {
                let _ = write!(out, "i:{i}");
            }
        }
        out
    }

    /// Reads a `fieldsV1` key. `Ok(None)` for a key of a kind this version does not know
    /// (upstream drops those).
    ///
    /// # Errors
    /// A key shorter than two bytes, without `:` after its kind, or whose content does not
    /// parse.
    pub fn decode(key: &str) -> Result<Option<Self>, FieldsV1Error> {
        let bad = |reason: String| FieldsV1Error::BadPathElement {
            key: key.to_owned(),
            reason,
        };
        let bytes = key.as_bytes();
        if bytes.len() < 2 {
            return Err(bad("key must be 2 characters long".to_owned()));
        }
        if bytes[1] != b':' {
            return Err(bad(format!("missing colon: {key}")));
        }
        // The first two bytes are ASCII here, so slicing at 2 is on a character boundary.
        let content = &key[2..];
        let first_value = |text: &str| -> Result<Value, FieldsV1Error> {
            let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
            match values.next() {
                Some(Ok(v)) => Ok(v),
                Some(Err(e)) => Err(bad(e.to_string())),
                None => Err(bad("no value".to_owned())),
            }
        };
        match bytes[0] {
            b'f' => Ok(Some(PathElement::Field(content.to_owned()))),
            b'v' => Ok(Some(PathElement::Value(first_value(content)?))),
            b'k' => match first_value(content)? {
                Value::Object(map) => Ok(Some(PathElement::key(map))),
                Value::Null => Ok(Some(PathElement::Key(Vec::new()))),
                other => Err(bad(format!(
                    "expected an object of key fields, found {}",
                    go_json_kind(&other)
                ))),
            },
            b'i' => content
                .parse::<i64>()
                .map(|i| Some(PathElement::Index(i)))
                .map_err(|e| bad(e.to_string())),
            _ => Ok(None),
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.as_bytes().cmp(b.as_bytes()),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((an, av), (bn, bv)) in a.iter().zip(b) {
                    let c = an.as_bytes().cmp(bn.as_bytes());
                    if c != Ordering::Equal {
                        return c;
                    }
                    let c = compare_values(av, bv);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    /// Upstream's human-readable form: `.name`, `[name="nginx"]`, `[="x"]`, `[3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", value_to_string(value))?;
                }
                f.write_str("]")
            }
            PathElement::Value(value) => write!(f, "[={}]", value_to_string(value)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path as upstream prints it: `.spec.template.spec.containers[name="nginx"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// Field sets
// ---------------------------------------------------------------------------------------------

/// Why a `fieldsV1` document could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldsV1Error {
    /// The text is not JSON.
    #[error("fieldsV1 is not valid JSON: {0}")]
    Json(String),
    /// A member is neither an object nor `null`.
    #[error("fieldsV1 member {key:?} is a {found}, not an object")]
    NotAnObject {
        /// The member's key (`""` for the document itself).
        key: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// A key is not a path element.
    #[error("parsing key {key:?} as path element: {reason}")]
    BadPathElement {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A set of paths through an object, as upstream's `fieldpath.Set`: the paths that end here
/// (`members`) and, for every step that leads further, the set of paths below it (`children`,
/// never empty). Iteration follows upstream's order of path elements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        FieldSet::default()
    }

    /// A set of the given paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a [PathElement]>) -> Self {
        let mut set = FieldSet::new();
        for p in paths {
            set.insert(p);
        }
        set
    }

    /// Whether the set has no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// The number of paths.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.values().map(FieldSet::len).sum::<usize>()
    }

    /// Adds a path (the empty path adds nothing).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is in the set.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// The paths below `pe`, without it.
    pub fn with_prefix(&self, pe: &PathElement) -> FieldSet {
        self.children.get(pe).cloned().unwrap_or_default()
    }

    /// The paths in either set.
    #[must_use]
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, set) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(set),
                None => set.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// The paths in both sets.
    #[must_use]
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, set)| {
                let both = set.intersection(other.children.get(pe)?);
                (!both.is_empty()).then(|| (pe.clone(), both))
            })
            .collect();
        FieldSet { members, children }
    }

    /// The paths of `self` that are not in `other`.
    #[must_use]
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, set)| match other.children.get(pe) {
                Some(theirs) => {
                    let rest = set.difference(theirs);
                    (!rest.is_empty()).then(|| (pe.clone(), rest))
                }
                None => Some((pe.clone(), set.clone())),
            })
            .collect();
        FieldSet { members, children }
    }

    /// The paths of `self` that are neither in `other` nor below a path of `other`.
    #[must_use]
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, set)| {
                if other.members.contains(pe) {
                    return None;
                }
                match other.children.get(pe) {
                    Some(theirs) => {
                        let rest = set.recursive_difference(theirs);
                        (!rest.is_empty()).then(|| (pe.clone(), rest))
                    }
                    None => Some((pe.clone(), set.clone())),
                }
            })
            .collect();
        FieldSet { members, children }
    }

    /// Every path, in upstream's iteration order: at each level the members, then the paths
    /// below each child.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, set) in &self.children {
            prefix.push(pe.clone());
            set.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The members and children of this level merged in order: each element with whether it is
    /// a member and the set below it.
    fn entries(&self) -> Vec<(&PathElement, bool, Option<&FieldSet>)> {
        let mut out = Vec::with_capacity(self.members.len() + self.children.len());
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            match (members.peek(), children.peek()) {
                (Some(m), Some((c, set))) => match (*m).cmp(*c) {
                    Ordering::Less => {
                        out.push((*m, true, None));
                        members.next();
                    }
                    Ordering::Greater => {
                        out.push((*c, false, Some(*set)));
                        children.next();
                    }
                    Ordering::Equal => {
                        out.push((*c, true, Some(*set)));
                        members.next();
                        children.next();
                    }
                },
                (Some(m), None) => {
                    out.push((*m, true, None));
                    members.next();
                }
                (None, Some((c, set))) => {
                    out.push((*c, false, Some(*set)));
                    children.next();
                }
                (None, None) => return out,
            }
        }
    }

    /// The `fieldsV1` text of the set, byte for byte as upstream writes it: keys in upstream's
    /// order of path elements, `"."` first in an element that is a member and has children.
    pub fn to_fields_v1_string(&self) -> String {
        let mut out = String::from("{");
        self.write_fields_v1(false, &mut out);
        out.push('}');
        out
    }

    fn write_fields_v1(&self, include_self: bool, out: &mut String) {
        let mut first = true;
        if include_self && !self.is_empty() {
            out.push_str("\".\":{}");
            first = false;
        }
        for (pe, member, below) in self.entries() {
            if !first {
                out.push(',');
            }
            first = false;
            write_go_string(out, &pe.encode(), false);
            out.push(':');
            match below {
                None => out.push_str("{}"),
                Some(set) => {
                    out.push('{');
                    set.write_fields_v1(member, out);
                    out.push('}');
                }
            }
        }
    }

    /// The `fieldsV1` document of the set as JSON (the member order of a JSON object is not
    /// kept by `serde_json`; [`FieldSet::to_fields_v1_string`] has upstream's order).
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_map(false))
    }

    fn fields_v1_map(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".to_owned(), json!({}));
        }
        for (pe, member, below) in self.entries() {
            let v = match below {
                None => Map::new(),
                Some(set) => set.fields_v1_map(member),
            };
            out.insert(pe.encode(), Value::Object(v));
        }
        out
    }

    /// Reads a `fieldsV1` document given as text.
    ///
    /// # Errors
    /// Text that is not JSON, or a document [`FieldSet::from_fields_v1`] refuses.
    pub fn from_fields_v1_str(text: &str) -> Result<FieldSet, FieldsV1Error> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| FieldsV1Error::Json(e.to_string()))?;
        FieldSet::from_fields_v1(&v)
    }

    /// Reads a `fieldsV1` document as upstream does: `"."` marks an element that is itself a
    /// member, an element whose object is empty (or holds only `"."` or unknown keys) is a
    /// member, keys of unknown kinds are skipped, and `null` reads as the empty document.
    ///
    /// # Errors
    /// A member that is not an object, or a key that is not a path element.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        Ok(read_fields_v1("", v, 0)?.0.unwrap_or_default())
    }
}

/// Reads one level: the children found (none when no path element was read) and whether the
/// level is itself a member of its parent.
fn read_fields_v1(
    key: &str,
    v: &Value,
    depth: usize,
) -> Result<(Option<FieldSet>, bool), FieldsV1Error> {
    let map = match v {
        Value::Null => return Ok((None, true)),
        Value::Object(map) => map,
        other => {
            return Err(FieldsV1Error::NotAnObject {
                key: key.to_owned(),
                found: go_json_kind(other),
            });
        }
    };
    if depth > MAX_DEPTH {
        return Err(FieldsV1Error::BadPathElement {
            key: key.to_owned(),
            reason: "nested too deeply".to_owned(),
        });
    }
    let mut children: Option<FieldSet> = None;
    let mut is_member = false;
    for (k, child) in map {
        if k == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::decode(k)? else {
            continue;
        };
        let (grandchildren, child_is_member) = read_fields_v1(k, child, depth + 1)?;
        let set = children.get_or_insert_with(FieldSet::new);
        if child_is_member {
            set.members.insert(pe.clone());
        }
        if let Some(g) = grandchildren
            && !g.is_empty()
        {
            set.children.insert(pe, g);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

// ---------------------------------------------------------------------------------------------
// Type information
// ---------------------------------------------------------------------------------------------

/// How the items of a list are told apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: replaced as a whole, owned as a whole.
    Atomic,
    /// A set of scalars, told apart by value (`x-kubernetes-list-type: set`).
    Set,
    /// A list of maps told apart by the values of these fields (`x-kubernetes-list-type: map`
    /// with `x-kubernetes-list-map-keys`, or a patch merge key).
    Map(Vec<String>),
}

/// The JSON type a scalar must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    /// A string.
    String,
    /// An integer or a float.
    Numeric,
    /// A boolean.
    Boolean,
    /// Any scalar (`x-kubernetes-int-or-string`, quantities, schemas without a type).
    Untyped,
}

type NodeId = usize;

/// The node of every position the schema says nothing about.
const DEDUCED: NodeId = 0;

/// A map: the fields of a struct, the values of a map, or both.
#[derive(Clone, Debug, Default)]
struct MapType {
    fields: HashMap<String, NodeId>,
    values: Option<NodeId>,
    atomic: bool,
    /// The fields a new (zero) object of the type has: those the schema does not make optional.
    zero_fields: Vec<String>,
    /// Default values of fields, for list-map keys an item leaves out.
    defaults: HashMap<String, Value>,
}

#[derive(Clone, Debug)]
struct ListNode {
    items: NodeId,
    list_type: ListType,
}

#[derive(Clone, Debug)]
enum TypeNode {
    /// Typed by the value: maps granular with deduced values, lists atomic.
    Deduced,
    Scalar(ScalarType),
    Map(MapType),
    List(ListNode),
}

/// The structure of one kind, as structured-merge-diff types objects: for every position,
/// scalar, map (granular or atomic) or list (atomic, set or keyed), read once from the kind's
/// JSON Schema. Recursive schemas are fine: each `$defs` entry becomes one node.
#[derive(Clone, Debug)]
pub struct TypeSchema {
    nodes: Vec<TypeNode>,
    root: NodeId,
}

impl TypeSchema {
    /// The schema of a kind without one (custom resources without a schema): every position is
    /// deduced from the value, maps granular and lists atomic.
    pub fn deduced() -> Self {
        TypeSchema {
            nodes: vec![TypeNode::Deduced],
            root: DEDUCED,
        }
    }

    /// Reads the structure of a kind from its schema (`Scheme::schema`).
    pub fn from_schema(schema: &schemars::Schema) -> Self {
        Self::from_json_schema(schema.as_value())
    }

    /// Reads the structure from a JSON Schema with its definitions under `$defs` (or
    /// `definitions`) and the Kubernetes extensions.
    pub fn from_json_schema(schema: &Value) -> Self {
        let mut builder = SchemaBuilder {
            root: schema,
            nodes: vec![TypeNode::Deduced],
            defs: HashMap::new(),
        };
        let root = builder.node_for(schema, 0);
        TypeSchema {
            nodes: builder.nodes,
            root,
        }
    }

    fn node(&self, id: NodeId) -> &TypeNode {
        self.nodes.get(id).unwrap_or(&TypeNode::Deduced)
    }

    /// The node at `path` (field names; list items are stepped into on the way).
    fn lookup(&self, path: &[&str]) -> Option<NodeId> {
        let mut node = self.root;
        for name in path {
            if let TypeNode::List(l) = self.node(node) {
                node = l.items;
            }
            match self.node(node) {
                TypeNode::Map(m) => node = m.fields.get(*name).copied().or(m.values)?,
                TypeNode::Deduced => node = DEDUCED,
                _ => return None,
            }
        }
        Some(node)
    }

    /// The list type of the list at `path` (field names from the root, list items stepped into
    /// on the way: `["spec", "containers", "ports"]`), or `None` when that is not a list.
    pub fn list_type(&self, path: &[&str]) -> Option<&ListType> {
        match self.node(self.lookup(path)?) {
            TypeNode::List(l) => Some(&l.list_type),
            _ => None,
        }
    }

    /// Whether the map at `path` is atomic, or `None` when that is not a map.
    pub fn map_is_atomic(&self, path: &[&str]) -> Option<bool> {
        match self.node(self.lookup(path)?) {
            TypeNode::Map(m) => Some(m.atomic),
            _ => None,
        }
    }

    /// The scalar type at `path`, or `None` when that is not a scalar.
    pub fn scalar_type(&self, path: &[&str]) -> Option<ScalarType> {
        match self.node(self.lookup(path)?) {
            TypeNode::Scalar(t) => Some(*t),
            _ => None,
        }
    }

    /// A new object of the kind as the Go zero value of its type converts: upstream compares a
    /// created object against it, so a map or list the create adds is owned as a whole, while
    /// one the zero value already holds is not. Present are the struct fields Go never leaves
    /// out — `metadata` (`{"creationTimestamp": null}`), `spec`, `status`, `template`,
    /// `strategy`, `updateStrategy`, `resources` — and the fields the schema does not make
    /// optional (structs as objects, lists and maps as `null`).
    pub fn zero_object(&self) -> Value {
        match self.node(self.root) {
            TypeNode::Map(m) => {
                let mut root = self.zero_map(m, 0);
                root.insert("metadata".to_owned(), json!({"creationTimestamp": null}));
                Value::Object(root)
            }
            _ => json!({"metadata": {"creationTimestamp": null}}),
        }
    }

    fn zero_map(&self, m: &MapType, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        if depth > 32 {
            return out;
        }
        for (name, &id) in &m.fields {
            let always = GO_VALUE_STRUCT_FIELDS.contains(&name.as_str());
            if !always && !m.zero_fields.contains(name) {
                continue;
            }
            match self.node(id) {
                TypeNode::Map(inner) if !inner.fields.is_empty() => {
                    let mut zero = self.zero_map(inner, depth + 1);
                    if name == "metadata" {
                        zero.insert("creationTimestamp".to_owned(), Value::Null);
                    }
                    out.insert(name.clone(), Value::Object(zero));
                }
                TypeNode::Map(_) | TypeNode::List(_) if !always => {
                    out.insert(name.clone(), Value::Null);
                }
                _ => {}
            }
        }
        out
    }
}

/// Struct fields the Kubernetes API types hold by value, so that Go's zero value of their
/// parent has them (the schema does not say which fields are pointers).
const GO_VALUE_STRUCT_FIELDS: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "updateStrategy",
    "resources",
];

/// Defaults upstream's schemas give to list-map key fields, for schemas that do not carry
/// them: every list keyed by `protocol` (container, service and endpoint ports) defaults it to
/// `TCP`.
const UPSTREAM_KEY_DEFAULTS: &[(&str, &str)] = &[("protocol", "TCP")];

const LIST_TYPE_EXTENSION: &str = "x-kubernetes-list-type";
const LIST_MAP_KEYS_EXTENSION: &str = "x-kubernetes-list-map-keys";
const MAP_TYPE_EXTENSION: &str = "x-kubernetes-map-type";
const PATCH_STRATEGY_EXTENSION: &str = "x-kubernetes-patch-strategy";
const PATCH_MERGE_KEY_EXTENSION: &str = "x-kubernetes-patch-merge-key";
const INT_OR_STRING_EXTENSION: &str = "x-kubernetes-int-or-string";
const PRESERVE_UNKNOWN_EXTENSION: &str = "x-kubernetes-preserve-unknown-fields";

/// The Kubernetes extensions declared on a schema or on what it wraps or refers to (the
/// outermost declaration wins).
#[derive(Default)]
struct Extensions<'a> {
    list_type: Option<&'a str>,
    list_map_keys: Option<Vec<String>>,
    map_type: Option<&'a str>,
    patch_strategy: Option<&'a str>,
    patch_merge_key: Option<&'a str>,
    int_or_string: bool,
    preserve_unknown: bool,
}

struct SchemaBuilder<'a> {
    root: &'a Value,
    nodes: Vec<TypeNode>,
    defs: HashMap<&'a str, NodeId>,
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// Whether a property may be left out (`Option` in the API types): it is nullable.
fn is_nullable(v: &Value) -> bool {
    match v.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    ["anyOf", "oneOf"].iter().any(|c| {
        v.get(*c)
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(is_null_schema))
    })
}

/// The non-null types a schema declares.
fn declared_types(v: &Value) -> Vec<&str> {
    match v.get("type") {
        Some(Value::String(t)) if t != "null" => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

impl<'a> SchemaBuilder<'a> {
    fn alloc(&mut self, node: TypeNode) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn definition(&self, reference: &str) -> Option<(&'a str, &'a Value)> {
        let name = reference.rsplit('/').next()?;
        let defs = self
            .root
            .get("$defs")
            .or_else(|| self.root.get("definitions"))?;
        let (name, def) = defs.as_object()?.get_key_value(name)?;
        Some((name.as_str(), def))
    }

    fn extensions(&self, schema: &'a Value) -> Extensions<'a> {
        let mut ext = Extensions::default();
        let mut pending = vec![(schema, 0usize)];
        let mut index = 0;
        while index < pending.len() {
            let (s, depth) = pending[index];
            index += 1;
            let Some(obj) = s.as_object() else {
                continue;
            };
            let text = |k: &str| obj.get(k).and_then(Value::as_str);
            ext.list_type = ext.list_type.or_else(|| text(LIST_TYPE_EXTENSION));
            ext.map_type = ext.map_type.or_else(|| text(MAP_TYPE_EXTENSION));
            ext.patch_strategy = ext
                .patch_strategy
                .or_else(|| text(PATCH_STRATEGY_EXTENSION));
            ext.patch_merge_key = ext
                .patch_merge_key
                .or_else(|| text(PATCH_MERGE_KEY_EXTENSION));
            if ext.list_map_keys.is_none()
                && let Some(Value::Array(keys)) = obj.get(LIST_MAP_KEYS_EXTENSION)
            {
                ext.list_map_keys = Some(
                    keys.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                );
            }
            ext.int_or_string |= obj.get(INT_OR_STRING_EXTENSION) == Some(&Value::Bool(true));
            ext.preserve_unknown |= obj.get(PRESERVE_UNKNOWN_EXTENSION) == Some(&Value::Bool(true));
            if depth >= 8 {
                continue;
            }
            for combinator in ["anyOf", "oneOf", "allOf"] {
                if let Some(Value::Array(alternatives)) = obj.get(combinator) {
                    for alternative in alternatives.iter().filter(|a| !is_null_schema(a)) {
                        pending.push((alternative, depth + 1));
                    }
                }
            }
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str)
                && let Some((_, def)) = self.definition(reference)
            {
                pending.push((def, depth + 1));
            }
        }
        ext
    }

    /// The schema that gives a value its structure, looking through `$ref`s and optional
    /// wrappers (`anyOf: [T, null]`), with the name of the definition it is, if any.
    fn core(&self, mut schema: &'a Value) -> (Option<&'a str>, &'a Value) {
        let mut def_name = None;
        for _ in 0..32 {
            let Some(obj) = schema.as_object() else {
                return (def_name, schema);
            };
            let structured = ["properties", "additionalProperties", "items"]
                .iter()
                .any(|k| obj.contains_key(*k))
                || !declared_types(schema).is_empty();
            if structured {
                return (def_name, schema);
            }
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                match self.definition(reference) {
                    Some((name, def)) => {
                        def_name = Some(name);
                        schema = def;
                        continue;
                    }
                    None => return (None, schema),
                }
            }
            let mut alternatives = Vec::new();
            for combinator in ["anyOf", "oneOf", "allOf"] {
                if let Some(Value::Array(alts)) = obj.get(combinator) {
                    alternatives.extend(alts.iter().filter(|a| !is_null_schema(a)));
                }
            }
            match alternatives.as_slice() {
                [one] => {
                    def_name = None;
                    schema = one;
                }
                _ => return (def_name, schema),
            }
        }
        (def_name, schema)
    }

    fn node_for(&mut self, schema: &'a Value, depth: usize) -> NodeId {
        if depth > MAX_DEPTH {
            return DEDUCED;
        }
        let ext = self.extensions(schema);
        if ext.int_or_string {
            return self.alloc(TypeNode::Scalar(ScalarType::Untyped));
        }
        if ext.preserve_unknown {
            return DEDUCED;
        }
        let (def_name, core) = self.core(schema);
        let Some(obj) = core.as_object() else {
            return DEDUCED;
        };
        let types = declared_types(core);
        if obj.contains_key("items") || types.contains(&"array") {
            let items = match obj.get("items") {
                Some(items @ Value::Object(_)) => self.node_for(items, depth + 1),
                _ => DEDUCED,
            };
            let list_type = list_type_of(&ext);
            if let ListType::Map(keys) = &list_type {
                self.add_key_defaults(items, keys);
            }
            return self.alloc(TypeNode::List(ListNode { items, list_type }));
        }
        if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
            let id = match def_name {
                Some(name) => match self.defs.get(name) {
                    Some(&id) => id,
                    None => {
                        let id = self.alloc(TypeNode::Deduced);
                        self.defs.insert(name, id);
                        let def_ext = self.extensions(core);
                        let map = self.map_type(core, def_ext.map_type == Some("atomic"), depth);
                        self.nodes[id] = TypeNode::Map(map);
                        id
                    }
                },
                None => {
                    let map = self.map_type(core, ext.map_type == Some("atomic"), depth);
                    return self.alloc(TypeNode::Map(map));
                }
            };
            // A property may declare another map type than its definition.
            let wanted = match ext.map_type {
                Some("atomic") => Some(true),
                Some("granular") => Some(false),
                _ => None,
            };
            if let (Some(atomic), TypeNode::Map(m)) = (wanted, &self.nodes[id])
                && m.atomic != atomic
            {
                let mut copy = m.clone();
                copy.atomic = atomic;
                return self.alloc(TypeNode::Map(copy));
            }
            return id;
        }
        let scalar = match types.as_slice() {
            ["string"] => Some(ScalarType::String),
            ["integer"] | ["number"] | ["integer", "number"] | ["number", "integer"] => {
                Some(ScalarType::Numeric)
            }
            ["boolean"] => Some(ScalarType::Boolean),
            [] | ["object"] => None,
            _ if !types.contains(&"object") => Some(ScalarType::Untyped),
            _ => None,
        };
        if let Some(t) = scalar {
            return self.alloc(TypeNode::Scalar(t));
        }
        // Several alternatives that are all scalars (a quantity): any scalar.
        let alternatives: Vec<&Value> = ["anyOf", "oneOf"]
            .iter()
            .filter_map(|c| obj.get(*c).and_then(Value::as_array))
            .flatten()
            .filter(|a| !is_null_schema(a))
            .collect();
        if !alternatives.is_empty()
            && alternatives.iter().all(|a| {
                let t = declared_types(a);
                !t.is_empty() && !t.contains(&"object") && !t.contains(&"array")
            })
        {
            return self.alloc(TypeNode::Scalar(ScalarType::Untyped));
        }
        DEDUCED
    }

    fn map_type(&mut self, schema: &'a Value, atomic: bool, depth: usize) -> MapType {
        let mut map = MapType {
            atomic,
            ..MapType::default()
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                let node = self.node_for(property, depth + 1);
                map.fields.insert(name.clone(), node);
                if !is_nullable(property) || required.contains(&name.as_str()) {
                    map.zero_fields.push(name.clone());
                }
                if let Some(default) = property.get("default") {
                    map.defaults.insert(name.clone(), default.clone());
                }
            }
        }
        match schema.get("additionalProperties") {
            Some(values @ Value::Object(_)) => {
                map.values = Some(self.node_for(values, depth + 1));
            }
            Some(Value::Bool(true)) => map.values = Some(DEDUCED),
            _ => {}
        }
        map
    }

    /// Gives the items of a keyed list upstream's defaults for key fields it has none for.
    fn add_key_defaults(&mut self, items: NodeId, keys: &[String]) {
        if let Some(TypeNode::Map(m)) = self.nodes.get_mut(items) {
            for (field, default) in UPSTREAM_KEY_DEFAULTS {
                if keys.iter().any(|k| k == field) && !m.defaults.contains_key(*field) {
                    m.defaults
                        .insert((*field).to_owned(), Value::String((*default).to_owned()));
                }
            }
        }
    }
}

/// The list type upstream gives a list (kube-openapi `schemaconv`): its
/// `x-kubernetes-list-type`, else associative by the patch merge key when the patch strategy
/// merges (a set without a merge key), else atomic.
fn list_type_of(ext: &Extensions<'_>) -> ListType {
    match ext.list_type {
        Some("set") => ListType::Set,
        Some("map") => match &ext.list_map_keys {
            Some(keys) if !keys.is_empty() => ListType::Map(keys.clone()),
            _ => ListType::Atomic,
        },
        Some(_) => ListType::Atomic,
        None => match ext.patch_strategy {
            Some(s) if s.split(',').any(|p| p == "merge") => match ext.patch_merge_key {
                Some(key) => ListType::Map(vec![key.to_owned()]),
                None => ListType::Set,
            },
            _ => ListType::Atomic,
        },
    }
}

/// The [`TypeSchema`] of every kind of a scheme, each built on first use and kept.
#[derive(Debug, Default)]
pub struct TypeSchemas {
    built: RwLock<HashMap<(String, String), Arc<TypeSchema>>>,
}

impl TypeSchemas {
    /// An empty cache.
    pub fn new() -> Self {
        TypeSchemas::default()
    }

    /// The structure of the kind `api_version` + `kind` of `scheme`; for a kind the scheme
    /// has no schema for, the deduced structure.
    pub fn get(&self, scheme: &Scheme, api_version: &str, kind: &str) -> Arc<TypeSchema> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self
            .built
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(found);
        }
        let built = Arc::new(match scheme.schema(api_version, kind) {
            Some(schema) => TypeSchema::from_schema(&schema),
            None => TypeSchema::deduced(),
        });
        let mut cache = self.built.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(cache.entry(key).or_insert(built))
    }
}

// ---------------------------------------------------------------------------------------------
// Typed operations on objects
// ---------------------------------------------------------------------------------------------

/// A value that does not fit its type, as structured-merge-diff reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedError {
    /// Where, as upstream prints paths (`.spec.replicas`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every [`TypedError`] of a value, printed as upstream prints a `ValidationErrors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedErrors(pub Vec<TypedError>);

impl fmt::Display for TypedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("errors:")?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

/// What changed between two objects: paths that appeared, whose (leaf) value changed, and that
/// disappeared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Paths only the new object has.
    pub added: FieldSet,
    /// Leaf paths whose value differs.
    pub modified: FieldSet,
    /// Paths only the old object has.
    pub removed: FieldSet,
}

impl Comparison {
    fn filter(self, reset: ResetFields) -> Comparison {
        Comparison {
            added: reset.filter(&self.added),
            modified: reset.filter(&self.modified),
            removed: reset.filter(&self.removed),
        }
    }
}

/// The shape a value takes at a node.
enum Shape<'s> {
    Leaf,
    Map(Option<&'s MapType>),
    List(&'s ListNode),
}

/// A walk over values with a schema. `strict` walks report what does not fit (the applied
/// configuration); lenient ones deduce the type of what does not fit (stored objects).
struct Walker<'s> {
    schema: &'s TypeSchema,
    strict: bool,
    errors: Vec<TypedError>,
}

fn is_empty_object(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty())
}

impl<'s> Walker<'s> {
    fn new(schema: &'s TypeSchema, strict: bool) -> Self {
        Walker {
            schema,
            strict,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, path: &[PathElement], message: impl Into<String>) {
        self.errors.push(TypedError {
            path: path_string(path),
            message: message.into(),
        });
    }

    fn finish(self) -> Result<(), TypedErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(TypedErrors(self.errors))
        }
    }

    /// The node of field `key` of a map, and whether the map declares it; `None` for a field
    /// of a struct that has neither such field nor map values.
    fn map_child(m: &MapType, key: &str) -> Option<(NodeId, bool)> {
        match m.fields.get(key) {
            Some(&id) => Some((id, true)),
            None => m.values.map(|id| (id, false)),
        }
    }

    /// The shape of the values at `node`: a leaf, a map or a list. A value of another JSON type
    /// than its node is a leaf; a deduced object is a granular map, anything else deduced a
    /// leaf.
    fn shape(&self, node: NodeId, values: &[Option<&Value>]) -> Shape<'s> {
        let present = || values.iter().flatten().filter(|v| !v.is_null());
        match self.schema.node(node) {
            TypeNode::Scalar(_) => Shape::Leaf,
            TypeNode::Map(m) => {
                if present().all(|v| v.is_object()) {
                    Shape::Map(Some(m))
                } else {
                    Shape::Leaf
                }
            }
            TypeNode::List(l) => {
                if present().all(|v| v.is_array()) {
                    Shape::List(l)
                } else {
                    Shape::Leaf
                }
            }
            TypeNode::Deduced => {
                if present().count() > 0 && present().all(|v| v.is_object()) {
                    Shape::Map(None)
                } else {
                    Shape::Leaf
                }
            }
        }
    }

    /// The path element of a list item (upstream's `listItemToPathElement`).
    fn item_element(
        &self,
        list: &ListNode,
        item: &Value,
        index: usize,
    ) -> Result<PathElement, String> {
        match &list.list_type {
            ListType::Atomic => Ok(PathElement::Index(i64::try_from(index).unwrap_or(i64::MAX))),
            ListType::Map(keys) => {
                let map = match item {
                    Value::Null => {
                        return Err(
                            "associative list with keys may not have a null element".to_owned()
                        );
                    }
                    Value::Object(map) => map,
                    _ => {
                        return Err(
                            "associative list with keys may not have non-map elements".to_owned()
                        );
                    }
                };
                let defaults = match self.schema.node(list.items) {
                    TypeNode::Map(m) => Some(&m.defaults),
                    _ => None,
                };
                let mut fields = Vec::with_capacity(keys.len());
                for key in keys {
                    if let Some(v) = map.get(key) {
                        fields.push((key.clone(), v.clone()));
                    } else if let Some(d) = defaults.and_then(|d| d.get(key)) {
                        fields.push((key.clone(), d.clone()));
                    } else {
                        return Err(format!(
                            "associative list with keys has an element that omits key field \
                             {key:?} (and doesn't have default value)"
                        ));
                    }
                }
                Ok(PathElement::key(fields))
            }
            ListType::Set => match item {
                Value::Object(_) => {
                    Err("associative list without keys has an element that's a map type".to_owned())
                }
                Value::Array(_) => {
                    Err("not supported: associative list with lists as elements".to_owned())
                }
                Value::Null => Err(
                    "associative list without keys has an element that's an explicit null"
                        .to_owned(),
                ),
                scalar => Ok(PathElement::Value(scalar.clone())),
            },
        }
    }

    fn check_scalar(&mut self, t: ScalarType, v: &Value, path: &[PathElement]) {
        if !self.strict || v.is_null() {
            return;
        }
        let message = match t {
            ScalarType::String if !v.is_string() => format!("expected string, got {}", go_json(v)),
            ScalarType::Numeric if !v.is_number() => format!(
                "expected numeric (int or float), got {}",
                match v {
                    Value::String(_) => "string",
                    Value::Bool(_) => "bool",
                    Value::Array(_) => "[]interface {}",
                    _ => "map[string]interface {}",
                }
            ),
            ScalarType::Boolean if !v.is_boolean() => {
                format!("expected boolean, got {}", go_json(v))
            }
            ScalarType::Untyped if v.is_object() || v.is_array() => {
                format!("expected any scalar, got {}", go_json(v))
            }
            _ => return,
        };
        self.error(path, message);
    }

    // ----- field sets -----

    /// Adds the paths of `value` (typed by `node`) to `set`, as upstream's `ToFieldSet`: every
    /// leaf, every item of an associative list, every map entry whose value is `null` or empty
    /// or that is not a declared field, and atomic maps and lists as one path.
    fn field_set(
        &mut self,
        node: NodeId,
        value: &Value,
        path: &mut Vec<PathElement>,
        set: &mut FieldSet,
    ) {
        if path.len() > MAX_DEPTH {
            self.error(path, "nested too deeply");
            return;
        }
        match self.schema.node(node) {
            TypeNode::Deduced => self.deduced_field_set(value, path, set),
            TypeNode::Scalar(t) => {
                self.check_scalar(*t, value, path);
                set.insert(path);
            }
            TypeNode::Map(m) => match value {
                Value::Null => {
                    if m.atomic {
                        set.insert(path);
                    }
                }
                Value::Object(map) => {
                    if m.atomic {
                        set.insert(path);
                        if self.strict {
                            // Validate what is inside, without owning it separately.
                            self.map_entries(m, map, path, &mut FieldSet::new());
                        }
                    } else {
                        self.map_entries(m, map, path, set);
                    }
                }
                other => {
                    if self.strict {
                        self.error(path, format!("expected map, got {}", go_json(other)));
                    }
                    set.insert(path);
                }
            },
            TypeNode::List(l) => match value {
                Value::Null => {
                    if l.list_type == ListType::Atomic {
                        set.insert(path);
                    }
                }
                Value::Array(items) => {
                    if l.list_type == ListType::Atomic {
                        set.insert(path);
                        if self.strict {
                            let mut scratch = FieldSet::new();
                            for (i, item) in items.iter().enumerate() {
                                path.push(PathElement::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                                self.field_set(l.items, item, path, &mut scratch);
                                path.pop();
                            }
                        }
                    } else {
                        self.list_items(l, items, path, set);
                    }
                }
                other => {
                    if self.strict {
                        self.error(path, format!("expected list, got {}", go_json(other)));
                    }
                    set.insert(path);
                }
            },
        }
    }

    fn map_entries(
        &mut self,
        m: &MapType,
        map: &Map<String, Value>,
        path: &mut Vec<PathElement>,
        set: &mut FieldSet,
    ) {
        for (key, v) in map {
            path.push(PathElement::Field(key.clone()));
            match Self::map_child(m, key) {
                Some((child, declared)) => {
                    self.field_set(child, v, path, set);
                    if v.is_null() || is_empty_object(v) || !declared {
                        set.insert(path);
                    }
                }
                None if self.strict => self.error(path, "field not declared in schema"),
                None => {
                    self.deduced_field_set(v, path, set);
                    set.insert(path);
                }
            }
            path.pop();
        }
    }

    fn list_items(
        &mut self,
        l: &ListNode,
        items: &[Value],
        path: &mut Vec<PathElement>,
        set: &mut FieldSet,
    ) {
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let pe = match self.item_element(l, item, i) {
                Ok(pe) => pe,
                Err(message) => {
                    self.error(path, format!("element {i}: {message}"));
                    continue;
                }
            };
            if !seen.insert(pe.clone()) && self.strict {
                self.error(path, format!("duplicate entries for key {pe}"));
                continue;
            }
            path.push(pe);
            self.field_set(l.items, item, path, set);
            set.insert(path);
            path.pop();
        }
    }

    fn deduced_field_set(
        &mut self,
        value: &Value,
        path: &mut Vec<PathElement>,
        set: &mut FieldSet,
    ) {
        match value {
            Value::Object(map) if path.len() <= MAX_DEPTH => {
                for (key, v) in map {
                    path.push(PathElement::Field(key.clone()));
                    self.deduced_field_set(v, path, set);
                    set.insert(path);
                    path.pop();
                }
            }
            _ => set.insert(path),
        }
    }

    // ----- comparison -----

    /// Compares `lhs` (old) and `rhs` (new) at `node`, as upstream's `Compare`: leaves are
    /// added, removed or modified; a map or list item that appears or disappears is itself
    /// added or removed, and everything below it too.
    fn compare(
        &mut self,
        node: NodeId,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        path: &mut Vec<PathElement>,
        out: &mut Comparison,
    ) {
        if lhs.is_none() && rhs.is_none() {
            return;
        }
        if path.len() > MAX_DEPTH {
            self.leaf(lhs, rhs, path, out);
            return;
        }
        match self.shape(node, &[lhs, rhs]) {
            Shape::Leaf => {
                self.leaf(lhs, rhs, path, out);
                // A map that became a scalar (or the other way round): what was below goes,
                // what is below now comes.
                if let (Some(l), Some(r)) = (lhs, rhs)
                    && l.is_object() != r.is_object()
                {
                    for (side, other_is_old) in [(l, true), (r, false)] {
                        if let Value::Object(map) = side {
                            for (k, v) in map {
                                let child = self.child_node(node, k);
                                path.push(PathElement::Field(k.clone()));
                                if other_is_old {
                                    self.compare(child, Some(v), None, path, out);
                                } else {
                                    self.compare(child, None, Some(v), path, out);
                                }
                                path.pop();
                            }
                        }
                    }
                }
                return;
            }
            Shape::Map(m) => {
                let l = lhs.and_then(Value::as_object);
                let r = rhs.and_then(Value::as_object);
                let empty = |m: Option<&Map<String, Value>>| m.is_none_or(Map::is_empty);
                if m.is_some_and(|m| m.atomic) || (empty(l) && empty(r)) {
                    self.leaf(lhs, rhs, path, out);
                    return;
                }
                let keys: BTreeSet<&String> =
                    l.iter().chain(r.iter()).flat_map(|m| m.keys()).collect();
                for key in keys {
                    let child = match m {
                        Some(m) => Self::map_child(m, key).map_or(DEDUCED, |(id, _)| id),
                        None => DEDUCED,
                    };
                    path.push(PathElement::Field(key.clone()));
                    self.compare(
                        child,
                        l.and_then(|l| l.get(key)),
                        r.and_then(|r| r.get(key)),
                        path,
                        out,
                    );
                    path.pop();
                }
            }
            Shape::List(list) => {
                let l = lhs.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let r = rhs.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                if list.list_type == ListType::Atomic || (l.is_empty() && r.is_empty()) {
                    self.leaf(lhs, rhs, path, out);
                    return;
                }
                self.compare_items(list, l, r, path, out);
            }
        }
        if lhs.is_none() {
            out.added.insert(path);
        } else if rhs.is_none() {
            out.removed.insert(path);
        }
    }

    fn child_node(&self, node: NodeId, key: &str) -> NodeId {
        match self.schema.node(node) {
            TypeNode::Map(m) => Self::map_child(m, key).map_or(DEDUCED, |(id, _)| id),
            _ => DEDUCED,
        }
    }

    fn leaf(
        &self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        path: &[PathElement],
        out: &mut Comparison,
    ) {
        match (lhs, rhs) {
            (None, Some(_)) => out.added.insert(path),
            (Some(_), None) => out.removed.insert(path),
            (Some(l), Some(r)) if !values_equal(l, r) => out.modified.insert(path),
            _ => {}
        }
    }

    /// Indexes list items by path element, in order of first occurrence, with every occurrence.
    fn index_items<'v>(
        &mut self,
        list: &ListNode,
        items: &'v [Value],
        path: &[PathElement],
    ) -> Vec<(PathElement, Vec<&'v Value>)> {
        let mut out: Vec<(PathElement, Vec<&'v Value>)> = Vec::new();
        let mut at: BTreeMap<PathElement, usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            match self.item_element(list, item, i) {
                Ok(pe) => match at.get(&pe) {
                    Some(&idx) => out[idx].1.push(item),
                    None => {
                        at.insert(pe.clone(), out.len());
                        out.push((pe, vec![item]));
                    }
                },
                Err(message) => self.error(path, format!("element {i}: {message}")),
            }
        }
        out
    }

    fn compare_items(
        &mut self,
        list: &ListNode,
        lhs: &[Value],
        rhs: &[Value],
        path: &mut Vec<PathElement>,
        out: &mut Comparison,
    ) {
        let left = self.index_items(list, lhs, path);
        let right = self.index_items(list, rhs, path);
        fn find<'v>(side: &[(PathElement, Vec<&'v Value>)], pe: &PathElement) -> Vec<&'v Value> {
            side.iter()
                .find(|(p, _)| p == pe)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        }
        let mut all: Vec<PathElement> = left.iter().map(|(pe, _)| pe.clone()).collect();
        for (pe, _) in &right {
            if !left.iter().any(|(p, _)| p == pe) {
                all.push(pe.clone());
            }
        }
        for pe in all {
            let l = find(&left, &pe);
            let r = find(&right, &pe);
            path.push(pe);
            match (l.len(), r.len()) {
                (0..=1, 0..=1) => {
                    self.compare(
                        list.items,
                        l.first().copied(),
                        r.first().copied(),
                        path,
                        out,
                    );
                }
                (lc, rc) if lc >= 2 && rc >= 2 => {
                    let same = lc == rc && l.iter().zip(&r).all(|(a, b)| values_equal(a, b));
                    if !same {
                        out.modified.insert(path);
                    }
                }
                (lc, rc) if lc >= 2 => {
                    if rc != 0 {
                        self.compare(list.items, None, r.first().copied(), path, out);
                    }
                    out.removed.insert(path);
                }
                (lc, _) => {
                    if lc != 0 {
                        self.compare(list.items, l.first().copied(), None, path, out);
                    }
                    out.added.insert(path);
                }
            }
            path.pop();
        }
    }

    // ----- merging -----

    /// Merges `rhs` (the applied configuration) into `lhs` (the live object), as upstream's
    /// `Merge`: scalars, atomic maps and atomic lists are replaced, granular maps merged key by
    /// key, associative lists item by item (live items keep their place, the configuration
    /// orders the items it names). `None` when neither side has a value.
    fn merge(
        &mut self,
        node: NodeId,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        path: &mut Vec<PathElement>,
    ) -> Option<Value> {
        let keep_rhs = || rhs.or(lhs).cloned();
        if path.len() > MAX_DEPTH {
            return keep_rhs();
        }
        match self.shape(node, &[lhs, rhs]) {
            Shape::Leaf => keep_rhs(),
            Shape::Map(m) => {
                let l = lhs.and_then(Value::as_object);
                let r = rhs.and_then(Value::as_object);
                let empty = |m: Option<&Map<String, Value>>| m.is_none_or(Map::is_empty);
                if m.is_some_and(|m| m.atomic) || (empty(l) && empty(r)) {
                    return keep_rhs();
                }
                let keys: BTreeSet<&String> =
                    l.iter().chain(r.iter()).flat_map(|m| m.keys()).collect();
                let mut out = Map::new();
                for key in keys {
                    let child = match m {
                        Some(m) => Self::map_child(m, key).map_or(DEDUCED, |(id, _)| id),
                        None => DEDUCED,
                    };
                    path.push(PathElement::Field(key.clone()));
                    let merged = self.merge(
                        child,
                        l.and_then(|l| l.get(key)),
                        r.and_then(|r| r.get(key)),
                        path,
                    );
                    path.pop();
                    if let Some(v) = merged {
                        out.insert(key.clone(), v);
                    }
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            Shape::List(list) => {
                let l = lhs.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let r = rhs.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                if list.list_type == ListType::Atomic || (l.is_empty() && r.is_empty()) {
                    return keep_rhs();
                }
                let items = self.merge_items(list, l, r, path);
                (!items.is_empty()).then_some(Value::Array(items))
            }
        }
    }

    fn merge_items(
        &mut self,
        list: &ListNode,
        lhs: &[Value],
        rhs: &[Value],
        path: &mut Vec<PathElement>,
    ) -> Vec<Value> {
        let left = self.index_items(list, lhs, path);
        let right = self.index_items(list, rhs, path);
        let in_right = |pe: &PathElement| right.iter().position(|(p, _)| p == pe);
        let in_left = |pe: &PathElement| left.iter().position(|(p, _)| p == pe);
        // The items both sides have, in the configuration's order.
        let shared: Vec<&PathElement> = right
            .iter()
            .map(|(pe, _)| pe)
            .filter(|pe| in_left(pe).is_some())
            .collect();
        let mut next_shared = 0;
        let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
        let (mut li, mut ri) = (0, 0);
        while li < left.len() || ri < right.len() {
            if li < left.len() && ri < right.len() {
                let (pe, l_items) = &left[li];
                if *pe == right[ri].0 {
                    path.push(pe.clone());
                    if let Some(v) = self.merge(
                        list.items,
                        l_items.first().copied(),
                        right[ri].1.first().copied(),
                        path,
                    ) {
                        out.push(v);
                    }
                    path.pop();
                    li += 1;
                    ri += 1;
                    next_shared += 1;
                    continue;
                }
                if in_right(pe).is_some() && shared.get(next_shared).is_some_and(|next| *next != pe)
                {
                    // A shared item, but not the one due now: it comes when the configuration
                    // names it.
                    li += 1;
                    continue;
                }
            }
            if li < left.len() {
                let (pe, l_items) = &left[li];
                if in_right(pe).is_none() {
                    // Only the live object has it: every occurrence stays.
                    for item in l_items {
                        out.push((*item).clone());
                    }
                    li += 1;
                    continue;
                }
            }
            if ri < right.len() {
                let (pe, r_items) = &right[ri];
                let l_item = in_left(pe).and_then(|i| left[i].1.first().copied());
                path.push(pe.clone());
                if let Some(v) = self.merge(list.items, l_item, r_items.first().copied(), path) {
                    out.push(v);
                }
                path.pop();
                if shared.get(next_shared).is_some_and(|next| *next == pe) {
                    next_shared += 1;
                }
                ri += 1;
            }
        }
        out
    }

    // ----- removal -----

    /// `value` without the paths of `remove` (upstream's `RemoveItems`): map entries and list
    /// items named by a member go, those with paths below are trimmed. A map or list left empty
    /// becomes `null`, as upstream leaves it.
    fn remove_items(&self, node: NodeId, value: &Value, remove: &FieldSet, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return value.clone();
        }
        match self.shape(node, &[Some(value)]) {
            Shape::Leaf if !value.is_object() && !value.is_array() => value.clone(),
            Shape::Leaf => Value::Null,
            Shape::Map(m) => {
                let Some(map) = value.as_object().filter(|m| !m.is_empty()) else {
                    return Value::Null;
                };
                if m.is_some_and(|m| m.atomic) {
                    return Value::Null;
                }
                let mut out = Map::new();
                for (key, v) in map {
                    let pe = PathElement::Field(key.clone());
                    if remove.members.contains(&pe) {
                        continue;
                    }
                    let child = match m {
                        Some(m) => Self::map_child(m, key).map_or(DEDUCED, |(id, _)| id),
                        None => DEDUCED,
                    };
                    let kept = match remove.children.get(&pe) {
                        Some(below) => self.remove_items(child, v, below, depth + 1),
                        None => v.clone(),
                    };
                    out.insert(key.clone(), kept);
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Object(out)
                }
            }
            Shape::List(list) => {
                let Some(items) = value.as_array().filter(|i| !i.is_empty()) else {
                    return Value::Null;
                };
                if list.list_type == ListType::Atomic {
                    return Value::Null;
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match self.item_element(list, item, i) {
                        Ok(pe) if remove.members.contains(&pe) => {}
                        Ok(pe) => match remove.children.get(&pe) {
                            Some(below) => {
                                out.push(self.remove_items(list.items, item, below, depth + 1));
                            }
                            None => out.push(item.clone()),
                        },
                        Err(_) => out.push(item.clone()),
                    }
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Array(out)
                }
            }
        }
    }
}

impl TypeSchema {
    /// The fields of an object, as upstream's `ToFieldSet`.
    ///
    /// # Errors
    /// With `strict`, what does not fit the schema (undeclared fields, wrong JSON types, list
    /// items without their keys, duplicate items); without, only items whose path element
    /// cannot be made.
    pub fn field_set(&self, object: &Value, strict: bool) -> Result<FieldSet, TypedErrors> {
        let mut walker = Walker::new(self, strict);
        let mut set = FieldSet::new();
        walker.field_set(self.root, object, &mut Vec::new(), &mut set);
        walker.finish().map(|()| set)
    }

    /// What changed from `old` to `new`, as upstream's `Compare`.
    ///
    /// # Errors
    /// List items whose path element cannot be made.
    pub fn compare(&self, old: &Value, new: &Value) -> Result<Comparison, TypedErrors> {
        let mut walker = Walker::new(self, false);
        let mut out = Comparison::default();
        walker.compare(self.root, Some(old), Some(new), &mut Vec::new(), &mut out);
        walker.finish().map(|()| out)
    }

    /// `config` merged into `live`, as upstream's `Merge`.
    ///
    /// # Errors
    /// List items whose path element cannot be made.
    pub fn merge(&self, live: &Value, config: &Value) -> Result<Value, TypedErrors> {
        let mut walker = Walker::new(self, false);
        let merged = walker.merge(self.root, Some(live), Some(config), &mut Vec::new());
        walker
            .finish()
            .map(|()| merged.unwrap_or_else(|| json!({})))
    }

    /// `object` without the paths of `remove`, as upstream's `RemoveItems`.
    pub fn remove_items(&self, object: &Value, remove: &FieldSet) -> Value {
        Walker::new(self, false).remove_items(self.root, object, remove, 0)
    }
}

// ---------------------------------------------------------------------------------------------
// Managed fields entries
// ---------------------------------------------------------------------------------------------

/// The operation a managed fields entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

impl Operation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Who an entry belongs to: upstream keys entries by manager, operation, API version (for
/// updates only: an applier keeps one entry across versions) and subresource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagerKey {
    /// The manager's name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version, for `Update` entries; empty for `Apply` entries.
    pub api_version: String,
    /// The subresource written through, or empty.
    pub subresource: String,
}

impl ManagerKey {
    fn new(manager: &str, operation: Operation, api_version: &str, subresource: &str) -> Self {
        ManagerKey {
            manager: manager.to_owned(),
            operation,
            api_version: if operation == Operation::Update {
                api_version.to_owned()
            } else {
                String::new()
            },
            subresource: subresource.to_owned(),
        }
    }

    /// Upstream's manager identifier: the entry without fields, type and time, as JSON
    /// (`{"manager":"kubectl","operation":"Update","apiVersion":"apps/v1"}`). Conflicts are
    /// reported in the order of these.
    pub fn id(&self) -> String {
        let mut out = String::from("{");
        let member = |out: &mut String, name: &str, value: &str| {
            if value.is_empty() {
                return;
            }
            if out.len() > 1 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":");
            write_go_string(out, value, true);
        };
        member(&mut out, "manager", &self.manager);
        member(&mut out, "operation", self.operation.as_str());
        member(&mut out, "apiVersion", &self.api_version);
        member(&mut out, "subresource", &self.subresource);
        out.push('}');
        out
    }

    /// The manager as upstream names it in conflicts: `"kubectl"`, `"kube-controller-manager"
    /// using apps/v1`, `"x" with subresource "status" using v1`.
    pub fn describe(&self) -> String {
        let mut out = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            let _ = write!(out, " with subresource {}", go_quote(&self.subresource));
        }
        if self.operation == Operation::Update {
            let _ = write!(out, " using {}", self.api_version);
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    key: ManagerKey,
    set: FieldSet,
    api_version: String,
    time: Option<String>,
}

impl Entry {
    fn applied(&self) -> bool {
        self.key.operation == Operation::Apply
    }
}

/// The managed fields of an object, by manager identifier.
#[derive(Clone, Debug, Default, PartialEq)]
struct Managed {
    entries: BTreeMap<String, Entry>,
}

/// Why an object's `managedFields` could not be read (upstream's messages).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagedFieldsError {
    /// `managedFields` is not a list, or an entry is not an object.
    #[error("managed fields entry {index} is not an object")]
    NotAnEntry {
        /// The entry's index (`0` when the whole value is not a list).
        index: usize,
    },
    /// An entry's operation is neither `Apply` nor `Update`.
    #[error("operation must be `Apply` or `Update`")]
    Operation,
    /// An entry without API version.
    #[error("apiVersion must not be empty")]
    ApiVersion,
    /// An entry without `fieldsType`.
    #[error("missing fieldsType in managed fields entry {index}")]
    MissingFieldsType {
        /// The entry's index.
        index: usize,
    },
    /// An entry whose `fieldsType` is not `FieldsV1`.
    #[error("invalid fieldsType {fields_type:?} in managed fields entry {index}")]
    FieldsType {
        /// The type found.
        fields_type: String,
        /// The entry's index.
        index: usize,
    },
    /// An entry whose `fieldsV1` does not read.
    #[error(
        "error decoding versioned set from managed fields entry {index}: error decoding set: {error}"
    )]
    Fields {
        /// The entry's index.
        index: usize,
        /// Why.
        error: FieldsV1Error,
    },
}

fn text_of<'v>(entry: &'v Map<String, Value>, key: &str) -> &'v str {
    entry.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Managed {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads `metadata.managedFields` (absent or `null`: none).
    fn decode(value: Option<&Value>) -> Result<Managed, ManagedFieldsError> {
        let items = match value {
            None | Some(Value::Null) => return Ok(Managed::default()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ManagedFieldsError::NotAnEntry { index: 0 }),
        };
        let mut managed = Managed::default();
        for (index, item) in items.iter().enumerate() {
            let Value::Object(entry) = item else {
                return Err(ManagedFieldsError::NotAnEntry { index });
            };
            let operation = match text_of(entry, "operation") {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return Err(ManagedFieldsError::Operation),
            };
            let api_version = text_of(entry, "apiVersion");
            if api_version.is_empty() {
                return Err(ManagedFieldsError::ApiVersion);
            }
            match text_of(entry, "fieldsType") {
                "FieldsV1" => {}
                "" => return Err(ManagedFieldsError::MissingFieldsType { index }),
                other => {
                    return Err(ManagedFieldsError::FieldsType {
                        fields_type: other.to_owned(),
                        index,
                    });
                }
            }
            let set = match entry.get("fieldsV1") {
                None => FieldSet::new(),
                Some(v) => FieldSet::from_fields_v1(v)
                    .map_err(|error| ManagedFieldsError::Fields { index, error })?,
            };
            let key = ManagerKey::new(
                text_of(entry, "manager"),
                operation,
                api_version,
                text_of(entry, "subresource"),
            );
            let time = entry
                .get("time")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            managed.entries.insert(
                key.id(),
                Entry {
                    key,
                    set,
                    api_version: api_version.to_owned(),
                    time,
                },
            );
        }
        Ok(managed)
    }

    /// The entries as `metadata.managedFields`, in upstream's order: `Apply` before `Update`,
    /// then oldest first, then by manager, API version and subresource. `None` when there are
    /// none.
    fn encode(&self) -> Option<Value> {
        if self.entries.is_empty() {
            return None;
        }
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries.sort_by(|p, q| {
            p.key
                .operation
                .cmp(&q.key.operation)
                .then_with(|| unix_seconds(p.time.as_deref()).cmp(&unix_seconds(q.time.as_deref())))
                .then_with(|| p.key.manager.cmp(&q.key.manager))
                .then_with(|| p.api_version.cmp(&q.api_version))
                .then_with(|| p.key.subresource.cmp(&q.key.subresource))
        });
        let items = entries
            .into_iter()
            .map(|e| {
                let mut m = Map::new();
                if !e.key.manager.is_empty() {
                    m.insert("manager".into(), Value::String(e.key.manager.clone()));
                }
                m.insert("operation".into(), json!(e.key.operation.as_str()));
                m.insert("apiVersion".into(), Value::String(e.api_version.clone()));
                if let Some(t) = &e.time {
                    m.insert("time".into(), Value::String(t.clone()));
                }
                m.insert("fieldsType".into(), json!("FieldsV1"));
                m.insert("fieldsV1".into(), e.set.to_fields_v1());
                if !e.key.subresource.is_empty() {
                    m.insert(
                        "subresource".into(),
                        Value::String(e.key.subresource.clone()),
                    );
                }
                Value::Object(m)
            })
            .collect();
        Some(Value::Array(items))
    }

    /// Merges the oldest `Update` entries into one `ancient-changes` entry per API version
    /// until at most [`MAX_UPDATE_MANAGERS`] remain (upstream's `capManagersManager`).
    fn cap_update_managers(&mut self) {
        let mut updaters: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.applied())
            .map(|(id, _)| id.clone())
            .collect();
        if updaters.len() <= MAX_UPDATE_MANAGERS {
            return;
        }
        updaters.sort_by(|a, b| {
            let ta = unix_seconds(self.entries.get(a).and_then(|e| e.time.as_deref()));
            let tb = unix_seconds(self.entries.get(b).and_then(|e| e.time.as_deref()));
            ta.cmp(&tb).then_with(|| a.cmp(b))
        });
        let mut first_of_version: HashMap<String, String> = HashMap::new();
        let mut length = updaters.len();
        for id in updaters {
            if length <= MAX_UPDATE_MANAGERS {
                break;
            }
            let Some(entry) = self.entries.get(&id).cloned() else {
                continue;
            };
            let version = entry.api_version.clone();
            let bucket = ManagerKey::new(ANCIENT_CHANGES_MANAGER, Operation::Update, &version, "");
            let bucket_id = bucket.id();
            match first_of_version.get(&version) {
                Some(first) => {
                    if !self.entries.contains_key(&bucket_id)
                        && let Some(first_entry) = self.entries.remove(first)
                    {
                        self.entries.insert(
                            bucket_id.clone(),
                            Entry {
                                key: bucket.clone(),
                                ..first_entry
                            },
                        );
                    }
                    let previous = self
                        .entries
                        .get(&bucket_id)
                        .map(|e| e.set.clone())
                        .unwrap_or_default();
                    self.entries.remove(&id);
                    self.entries.insert(
                        bucket_id,
                        Entry {
                            key: bucket,
                            set: entry.set.union(&previous),
                            api_version: version,
                            time: entry.time,
                        },
                    );
                    length -= 1;
                }
                None => {
                    first_of_version.insert(version, id);
                }
            }
        }
    }
}

/// The Unix seconds of an RFC 3339 time; 0 when absent or unreadable.
fn unix_seconds(time: Option<&str>) -> i64 {
    time.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp())
}

/// Whether `metadata.managedFields` asks to reset the managed fields: an empty list, or a list
/// of one empty entry.
fn is_reset(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => true,
            [Value::Object(entry)] => entry.values().all(|v| match v {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                _ => false,
            }),
            _ => false,
        },
        _ => false,
    }
}

fn managed_fields_of(object: &Value) -> Option<&Value> {
    object.get("metadata")?.get("managedFields")
}

fn remove_managed_fields(object: &mut Value) {
    if let Some(Value::Object(meta)) = object.get_mut("metadata") {
        meta.remove("managedFields");
    }
}

fn set_managed_fields(object: &mut Value, managed: &Managed) {
    match managed.encode() {
        Some(entries) => {
            if let Value::Object(map) = object {
                let meta = map
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !meta.is_object() {
                    *meta = Value::Object(Map::new());
                }
                if let Value::Object(meta) = meta {
                    meta.insert("managedFields".to_owned(), entries);
                }
            }
        }
        None => remove_managed_fields(object),
    }
}

/// The fields nobody manages: `apiVersion`, `kind`, `metadata` itself and the metadata the
/// server owns (upstream's `stripMetaManager`).
fn strip_meta(set: &FieldSet) -> FieldSet {
    let mut strip = FieldSet::new();
    for top in ["apiVersion", "kind", "metadata"] {
        strip.insert(&[PathElement::field(top)]);
    }
    for meta in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        strip.insert(&[PathElement::field("metadata"), PathElement::field(meta)]);
    }
    set.difference(&strip)
}

// ---------------------------------------------------------------------------------------------
// The field manager
// ---------------------------------------------------------------------------------------------

/// The fields a write's strategy resets, which therefore nobody owns through it (upstream's
/// `GetResetFields`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResetFields {
    /// None: a kind without a status subresource.
    #[default]
    None,
    /// `status`: the main resource of a kind with a status subresource.
    Status,
    /// Everything but `status`: the status subresource.
    AllButStatus,
}

impl ResetFields {
    /// The reset fields of a write to a resource (with or without a status subresource)
    /// through `subresource`.
    pub fn for_write(status_subresource: bool, subresource: Option<&str>) -> Self {
        match subresource {
            Some("status") => ResetFields::AllButStatus,
            _ if status_subresource => ResetFields::Status,
            _ => ResetFields::None,
        }
    }

    /// `set` without the reset fields and everything below them.
    pub fn filter(self, set: &FieldSet) -> FieldSet {
        let status = PathElement::field("status");
        match self {
            ResetFields::None => set.clone(),
            ResetFields::Status => {
                let mut out = set.clone();
                out.members.remove(&status);
                out.children.remove(&status);
                out
            }
            ResetFields::AllButStatus => {
                let mut out = FieldSet::new();
                if set.members.contains(&status) {
                    out.members.insert(status.clone());
                }
                if let Some(below) = set.children.get(&status) {
                    out.children.insert(status, below.clone());
                }
                out
            }
        }
    }
}

/// One field conflict of an apply: a field the configuration changes that another manager
/// owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager owning the field.
    pub manager: ManagerKey,
    /// The field.
    pub path: Vec<PathElement>,
}

impl Conflict {
    /// The cause message: `conflict with "kubectl-client-side-apply" using apps/v1`.
    pub fn message(&self) -> String {
        format!("conflict with {}", self.manager.describe())
    }

    /// The field, as upstream prints paths: `.spec.replicas`.
    pub fn field(&self) -> String {
        path_string(&self.path)
    }
}

/// Upstream's summary of a list of conflicts.
fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager.describe(),
            one.field()
        );
    }
    let mut by_manager: BTreeMap<String, (&ManagerKey, Vec<String>)> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry(c.manager.id())
            .or_insert_with(|| (&c.manager, Vec::new()))
            .1
            .push(c.field());
    }
    let mut lines = Vec::new();
    for (manager, fields) in by_manager.values() {
        lines.push(format!("conflicts with {}:", manager.describe()));
        lines.extend(fields.iter().map(|f| format!("- {f}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Why an apply failed. Each variant says which answer upstream's API server gives for it;
/// [`ApiError::from`] builds that answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The applied configuration is not a JSON object. 400 `BadRequest`.
    #[error(
        "error decoding YAML: json: cannot unmarshal {found} into Go value of type map[string]interface {{}}"
    )]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// The configuration's `apiVersion` is not the resource's. 400 `BadRequest`.
    #[error(
        "Incorrect version specified in apply patch. Specified patch version: {found}, expected: {expected}"
    )]
    VersionMismatch {
        /// The configuration's group version.
        found: String,
        /// The resource's.
        expected: String,
    },
    /// The configuration sets `metadata.managedFields`. 400 `BadRequest`.
    #[error("metadata.managedFields must be nil")]
    ManagedFieldsInConfiguration,
    /// The configuration does not fit the kind's schema. 500, as upstream.
    #[error("failed to create typed patch object ({object}): {errors}")]
    InvalidConfiguration {
        /// `namespace/name; group/version, Kind=kind` of the configuration.
        object: String,
        /// What does not fit.
        errors: TypedErrors,
    },
    /// The live object does not fit the kind's schema. 500.
    #[error("failed to create typed live object ({object}): {errors}")]
    InvalidLiveObject {
        /// `namespace/name; group/version, Kind=kind` of the live object.
        object: String,
        /// What does not fit.
        errors: TypedErrors,
    },
    /// The live object's `managedFields` do not read. 500.
    #[error("failed to decode managed fields: {0}")]
    ManagedFields(ManagedFieldsError),
    /// Fields the configuration changes are owned by other managers, and `force` was not
    /// given. 409 `Conflict`, with one `FieldManagerConflict` cause per field.
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
}

impl ApplyError {
    /// The HTTP status upstream answers with.
    pub fn code(&self) -> u16 {
        match self {
            ApplyError::NotAnObject { .. }
            | ApplyError::VersionMismatch { .. }
            | ApplyError::ManagedFieldsInConfiguration => 400,
            ApplyError::Conflicts(_) => 409,
            _ => 500,
        }
    }
}

impl From<ApplyError> for ApiError {
    /// `BadRequest` for a malformed configuration, upstream's apply conflict (409 `Conflict`,
    /// `details.causes` of type `FieldManagerConflict` naming the manager and field), and a
    /// 500 without reason (upstream's answer to errors it did not classify) otherwise.
    fn from(err: ApplyError) -> ApiError {
        match err.code() {
            400 => ApiError::bad_request(err.to_string()),
            409 => {
                let causes = match &err {
                    ApplyError::Conflicts(conflicts) => conflicts
                        .iter()
                        .map(|c| kubernaut_api_types::meta::StatusCause {
                            reason: Some("FieldManagerConflict".to_owned()),
                            message: Some(c.message()),
                            field: Some(c.field()),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                ApiError::new(409, "Conflict", err.to_string()).with_details(
                    kubernaut_api_types::meta::StatusDetails {
                        causes: Some(causes),
                        ..Default::default()
                    },
                )
            }
            code => ApiError::new(code, "", err.to_string()),
        }
    }
}

/// Upstream's `objectGVKNN`: `namespace/name; group/version, Kind=kind`.
fn describe_object(object: &Value, api_version: &str, kind: &str) -> String {
    let meta = |k: &str| {
        object
            .get("metadata")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let group_version = if api_version.contains('/') {
        api_version.to_owned()
    } else {
        format!("/{api_version}")
    };
    format!(
        "{}/{}; {group_version}, Kind={kind}",
        meta("namespace"),
        meta("name")
    )
}

/// Upstream's field manager for one resource and write: the kind's structure, the request's
/// API version, the subresource written through, the strategy's reset fields and the time of
/// the write.
#[derive(Clone, Debug)]
pub struct FieldManager {
    schema: Arc<TypeSchema>,
    api_version: String,
    kind: String,
    subresource: String,
    reset: ResetFields,
    now: String,
}

impl FieldManager {
    /// The field manager of writes to `kind` in `api_version` at `now` (RFC 3339), through the
    /// main resource and with no reset fields.
    pub fn new(schema: Arc<TypeSchema>, api_version: &str, kind: &str, now: &str) -> Self {
        FieldManager {
            schema,
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            subresource: String::new(),
            reset: ResetFields::None,
            now: now.to_owned(),
        }
    }

    /// The same, for writes through `subresource`.
    #[must_use]
    pub fn with_subresource(mut self, subresource: Option<&str>) -> Self {
        self.subresource = subresource.unwrap_or("").to_owned();
        self
    }

    /// The same, with the strategy's reset fields.
    #[must_use]
    pub fn with_reset_fields(mut self, reset: ResetFields) -> Self {
        self.reset = reset;
        self
    }

    /// The kind's structure.
    pub fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    fn update_key(&self, manager: &str) -> ManagerKey {
        let manager = if manager.is_empty() {
            UNKNOWN_MANAGER
        } else {
            manager
        };
        ManagerKey::new(
            manager,
            Operation::Update,
            &self.api_version,
            &self.subresource,
        )
    }

    /// Records a non-apply write (create, update, JSON/merge/strategic patch, a subresource
    /// write) of `new` over `old` (`None` for a create) by `manager` in `new`'s
    /// `metadata.managedFields`, as upstream's field manager does: the fields that changed
    /// become the manager's `Update` entry for this API version and subresource (its time set
    /// to now), and leave every other entry, as do the fields that disappeared; entries left
    /// empty go.
    ///
    /// The managed fields `new` brings are used when it brings some that read (a client may
    /// edit them; `[]` or `[{}]` clears them), else `old`'s; a subresource write always uses
    /// `old`'s. An existing object without managed fields stays untracked. When the objects do
    /// not fit the kind's structure, `new` is written without managed fields (upstream's
    /// `UpdateNoErrors`).
    pub fn update(&self, old: Option<&Value>, new: &mut Value, manager: &str) {
        let from_old = || {
            old.and_then(|o| Managed::decode(managed_fields_of(o)).ok())
                .unwrap_or_default()
        };
        let mut managed = if !self.subresource.is_empty() {
            from_old()
        } else if is_reset(managed_fields_of(new)) {
            Managed::default()
        } else {
            match Managed::decode(managed_fields_of(new)) {
                Ok(m) if !m.is_empty() => m,
                _ => from_old(),
            }
        };
        remove_managed_fields(new);
        let existing = old.is_some_and(|o| {
            o.get("metadata")
                .and_then(|m| m.get("uid"))
                .and_then(Value::as_str)
                .is_some_and(|u| !u.is_empty())
        });
        if managed.is_empty() && existing {
            // Not tracked until applied to (upstream's skipNonAppliedManager).
            return;
        }
        let live = match old {
            Some(o) => {
                let mut o = o.clone();
                remove_managed_fields(&mut o);
                o
            }
            None => self.schema.zero_object(),
        };
        match self.track_update(&mut managed, &live, new, &self.update_key(manager)) {
            Ok(()) => set_managed_fields(new, &managed),
            Err(_) => remove_managed_fields(new),
        }
    }

    /// The core of an update: the comparison of `live` and `new` moves changed fields to `key`.
    fn track_update(
        &self,
        managed: &mut Managed,
        live: &Value,
        new: &Value,
        key: &ManagerKey,
    ) -> Result<(), TypedErrors> {
        let cmp = self.schema.compare(live, new)?.filter(self.reset);
        let changed = cmp.modified.union(&cmp.added);
        for entry in managed.entries.values_mut() {
            entry.set = entry.set.difference(&changed).difference(&cmp.removed);
        }
        managed.entries.retain(|_, e| !e.set.is_empty());
        let own = strip_meta(&changed.difference(&cmp.removed));
        if !own.is_empty() {
            let id = key.id();
            let set = match managed.entries.get(&id) {
                Some(previous) => own.union(&previous.set),
                None => own,
            };
            managed.entries.insert(
                id,
                Entry {
                    key: key.clone(),
                    set,
                    api_version: self.api_version.clone(),
                    time: Some(self.now.clone()),
                },
            );
        }
        managed.cap_update_managers();
        Ok(())
    }

    /// Server-side apply of `applied` by `manager` to `live` (`None`: the object does not exist
    /// yet, and the result is the object to create). Returns the new object with its
    /// `metadata.managedFields`; for an apply that changes nothing, `live` with its managed
    /// fields brought up to date.
    ///
    /// # Errors
    /// See [`ApplyError`]: a configuration that is not an object of the resource's version and
    /// kind or that sets `metadata.managedFields`, one that does not fit the kind's structure,
    /// unreadable managed fields on the live object, and conflicts (unless `force`).
    pub fn apply(
        &self,
        live: Option<&Value>,
        applied: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApplyError> {
        let config = applied.as_object().ok_or(ApplyError::NotAnObject {
            found: go_json_kind(applied),
        })?;
        let config_version = config
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        // A version Go cannot parse (more than one `/`) reads as the empty group version.
        let config_version = if config_version.matches('/').count() > 1 {
            ""
        } else {
            config_version
        };
        if config_version != self.api_version {
            return Err(ApplyError::VersionMismatch {
                found: config_version.to_owned(),
                expected: self.api_version.clone(),
            });
        }
        if matches!(managed_fields_of(applied), Some(Value::Array(_))) {
            return Err(ApplyError::ManagedFieldsInConfiguration);
        }
        let config_kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
        let config_set = if config_kind == self.kind {
            self.schema.field_set(applied, true)
        } else {
            Err(TypedErrors(vec![TypedError {
                path: String::new(),
                message: format!(
                    "no corresponding type for {}",
                    describe_object(&json!({}), config_version, config_kind)
                        .trim_start_matches("/; ")
                ),
            }]))
        }
        .map_err(|errors| ApplyError::InvalidConfiguration {
            object: describe_object(applied, config_version, config_kind),
            errors,
        })?;
        let config_set = self.reset.filter(&config_set);

        let mut live_object = live.cloned().unwrap_or_else(|| json!({}));
        let mut managed = match live {
            Some(l) => Managed::decode(managed_fields_of(l)).map_err(ApplyError::ManagedFields)?,
            None => Managed::default(),
        };
        remove_managed_fields(&mut live_object);
        let invalid_live = |errors| ApplyError::InvalidLiveObject {
            object: describe_object(&live_object, &self.api_version, &self.kind),
            errors,
        };
        if managed.is_empty() && live.is_some() {
            // The fields of an object nobody managed yet go to `before-first-apply`.
            let key = self.update_key(BEFORE_FIRST_APPLY_MANAGER);
            self.track_update(&mut managed, &self.schema.zero_object(), &live_object, &key)
                .map_err(invalid_live)?;
        }
        let manager = if manager.is_empty() {
            UNKNOWN_MANAGER
        } else {
            manager
        };
        let key = ManagerKey::new(manager, Operation::Apply, "", &self.subresource);
        let attempt =
            |force| self.apply_core(&managed, &live_object, applied, &config_set, &key, force);
        let (changed, mut managed) = match attempt(force) {
            Err(ApplyError::Conflicts(conflicts)) if manager == KUBECTL_MANAGER && !force => {
                match self.allowed_by_last_applied(&live_object) {
                    Some(allowed) => {
                        let remaining: Vec<Conflict> = conflicts
                            .into_iter()
                            .filter(|c| !allowed.has(&c.path))
                            .collect();
                        if remaining.is_empty() {
                            attempt(true)?
                        } else {
                            return Err(ApplyError::Conflicts(remaining));
                        }
                    }
                    None => return Err(ApplyError::Conflicts(conflicts)),
                }
            }
            other => other?,
        };
        let mut out = match changed {
            Some(object) => {
                if let Some(entry) = managed.entries.get_mut(&key.id()) {
                    entry.time = Some(self.now.clone());
                }
                object
            }
            None => live_object,
        };
        set_managed_fields(&mut out, &managed);
        if manager == KUBECTL_MANAGER {
            update_last_applied(&mut out, applied);
        }
        Ok(out)
    }

    /// Upstream's `Updater.Apply`: merge, record the configuration's fields, prune what the
    /// manager stopped applying, and take the changed fields from the other managers (or
    /// report them). The object is `None` when nothing changed.
    fn apply_core(
        &self,
        managed: &Managed,
        live: &Value,
        config: &Value,
        config_set: &FieldSet,
        key: &ManagerKey,
        force: bool,
    ) -> Result<(Option<Value>, Managed), ApplyError> {
        let invalid_live = |errors| ApplyError::InvalidLiveObject {
            object: describe_object(live, &self.api_version, &self.kind),
            errors,
        };
        let mut managed = managed.clone();
        let merged = self.schema.merge(live, config).map_err(invalid_live)?;
        let id = key.id();
        let last = managed.entries.get(&id).cloned();
        managed.entries.insert(
            id.clone(),
            Entry {
                key: key.clone(),
                set: config_set.clone(),
                api_version: self.api_version.clone(),
                time: last.as_ref().and_then(|l| l.time.clone()),
            },
        );
        let merged = self
            .prune(merged, &managed, last.as_ref())
            .map_err(invalid_live)?;

        let cmp = self
            .schema
            .compare(live, &merged)
            .map_err(invalid_live)?
            .filter(self.reset);
        let changed = cmp.modified.union(&cmp.added);
        let mut conflicts = Vec::new();
        let mut taken: Vec<(String, FieldSet)> = Vec::new();
        for (other_id, entry) in &managed.entries {
            if *other_id == id {
                continue;
            }
            let owned = entry.set.intersection(&changed);
            if !owned.is_empty() {
                conflicts.extend(owned.paths().into_iter().map(|path| Conflict {
                    manager: entry.key.clone(),
                    path,
                }));
                taken.push((other_id.clone(), owned));
            }
        }
        if !force && !conflicts.is_empty() {
            return Err(ApplyError::Conflicts(conflicts));
        }
        for (other_id, owned) in taken {
            if let Some(entry) = managed.entries.get_mut(&other_id) {
                entry.set = entry.set.difference(&owned);
            }
        }
        for (other_id, entry) in managed.entries.iter_mut() {
            if *other_id != id {
                entry.set = entry.set.difference(&cmp.removed);
            }
        }
        managed.entries.retain(|_, e| !e.set.is_empty());
        // The metadata the server owns is never the applier's.
        if let Some(entry) = managed.entries.get_mut(&id) {
            entry.set = strip_meta(&entry.set);
            if entry.set.is_empty() {
                managed.entries.remove(&id);
            }
        }
        let changed_object = (!values_equal(live, &merged)).then_some(merged);
        Ok((changed_object, managed))
    }

    /// Removes the items the applier applied last time and no longer does, unless an applier
    /// (this one's new configuration included) still owns them (upstream's `prune`).
    fn prune(
        &self,
        merged: Value,
        managed: &Managed,
        last: Option<&Entry>,
    ) -> Result<Value, TypedErrors> {
        let Some(last) = last.filter(|l| !l.set.is_empty()) else {
            return Ok(merged);
        };
        let pruned = self.schema.remove_items(&merged, &last.set);
        let owned_by_appliers = managed
            .entries
            .values()
            .filter(|e| e.applied())
            .fold(FieldSet::new(), |acc, e| acc.union(&e.set));
        let merged_set = self.schema.field_set(&merged, false)?;
        let pruned_set = self.schema.field_set(&pruned, false)?;
        let pruned = self.schema.remove_items(
            &merged,
            &merged_set.difference(&pruned_set.union(&owned_by_appliers)),
        );
        let pruned_set = self.schema.field_set(&pruned, false)?;
        Ok(self.schema.remove_items(
            &merged,
            &merged_set.difference(&pruned_set).intersection(&last.set),
        ))
    }

    /// The fields the `kubectl.kubernetes.io/last-applied-configuration` annotation of `live`
    /// sets to the values `live` has: the fields client-side apply owned, which `kubectl`'s
    /// server-side apply may take without conflict. `None` without a usable annotation.
    fn allowed_by_last_applied(&self, live: &Value) -> Option<FieldSet> {
        let text = live
            .get("metadata")?
            .get("annotations")?
            .get(LAST_APPLIED_ANNOTATION)?
            .as_str()
            .filter(|t| !t.is_empty())?;
        let last_applied: Value = serde_json::from_str(text).ok()?;
        if last_applied.get("apiVersion").and_then(Value::as_str) != Some(&self.api_version) {
            return None;
        }
        let set = self.schema.field_set(&last_applied, true).ok()?;
        let cmp = self.schema.compare(&last_applied, live).ok()?;
        Some(
            set.difference(&cmp.modified)
                .difference(&cmp.added)
                .difference(&cmp.removed),
        )
    }
}

/// Keeps the client-side apply annotation of `object` in step with a `kubectl` server-side
/// apply of `applied`, when `object` has one (upstream's `lastAppliedUpdater`): the applied
/// configuration without the annotation, as Go's JSON encoder writes it. Left out when the
/// annotations would exceed their size limit.
fn update_last_applied(object: &mut Value, applied: &Value) {
    let has_annotation = object
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if !has_annotation {
        return;
    }
    let mut config = applied.clone();
    if let Some(Value::Object(annotations)) = config
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    let mut text = go_json(&config);
    text.push('\n');
    if let Some(Value::Object(annotations)) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        annotations.insert(LAST_APPLIED_ANNOTATION.to_owned(), Value::String(text));
        let size: usize = annotations
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if size > TOTAL_ANNOTATION_SIZE_LIMIT {
            annotations.remove(LAST_APPLIED_ANNOTATION);
        }
    }
}

/// Records a non-apply write in `new`'s managed fields; see [`FieldManager::update`].
pub fn update_managed_fields(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    field_manager: &FieldManager,
) {
    field_manager.update(old, new, manager);
}

/// Server-side apply; see [`FieldManager::apply`].
///
/// # Errors
/// See [`ApplyError`].
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    field_manager: &FieldManager,
) -> Result<Value, ApplyError> {
    field_manager.apply(live, applied, manager, force)
}

/// The field manager of a request that names none, from its `User-Agent`, as upstream's
/// `prefixFromUserAgent`: the part before the first `/`, without unprintable characters, cut
/// at [`FIELD_MANAGER_MAX_LENGTH`] bytes (`kubectl/v1.32.0 (linux/amd64) kubernetes/abc` →
/// `kubectl`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars().filter(|c| is_go_printable(*c)) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// The manager of a write: the `fieldManager` the client gave, else one from its user agent
/// (upstream's `managerOrUserAgent`).
pub fn manager_or_user_agent(field_manager: Option<&str>, user_agent: &str) -> String {
    match field_manager {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => manager_from_user_agent(user_agent),
    }
}

/// Upstream's `ValidateFieldManager` of a `fieldManager` parameter: at most
/// [`FIELD_MANAGER_MAX_LENGTH`] bytes, printable characters only.
pub fn validate_field_manager(manager: &str) -> Vec<FieldError> {
    let path = Path::new("fieldManager");
    let mut errors = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        errors.push(FieldError::too_long(&path, FIELD_MANAGER_MAX_LENGTH));
    }
    for (at, c) in manager.char_indices() {
        if !is_go_printable(c) {
            errors.push(FieldError::invalid(
                &path,
                manager,
                format!("invalid character U+{:04X} (at position {at})", c as u32),
            ));
        }
    }
    errors
}

/// The `422` upstream answers a patch's invalid options with (`PatchOptions.meta.k8s.io ""
/// is invalid: ...`).
pub fn invalid_patch_options(errors: &[FieldError]) -> ApiError {
    ApiError::invalid(&GroupKind::new("meta.k8s.io", "PatchOptions"), "", errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: &str = "2024-05-01T10:00:00Z";
    const T1: &str = "2024-05-01T11:00:00Z";
    const T2: &str = "2024-05-01T12:00:00Z";

    fn schema(api_version: &str, kind: &str) -> Arc<TypeSchema> {
        TypeSchemas::new().get(&Scheme::builtin(), api_version, kind)
    }

    fn deployments(now: &str) -> FieldManager {
        FieldManager::new(
            schema("apps/v1", "Deployment"),
            "apps/v1",
            "Deployment",
            now,
        )
        .with_reset_fields(ResetFields::for_write(true, None))
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    }

    /// What the registry stores: the object with a uid (it exists).
    fn stored(mut object: Value) -> Value {
        object["metadata"]["uid"] = json!("0b9a8c6e-0000-4000-8000-000000000001");
        object["metadata"]["resourceVersion"] = json!("7");
        object
    }

    fn entries(object: &Value) -> Vec<Value> {
        object["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn entry_of<'a>(object: &'a Value, manager: &str) -> &'a Value {
        object["metadata"]["managedFields"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["manager"] == manager))
            .unwrap_or_else(|| panic!("no entry of {manager} in {object}"))
    }

    fn fields_text(entry: &Value) -> String {
        FieldSet::from_fields_v1(&entry["fieldsV1"])
            .unwrap()
            .to_fields_v1_string()
    }

    fn path(p: &[&str]) -> Vec<PathElement> {
        p.iter().map(|f| PathElement::field(*f)).collect()
    }

    // ----- FieldsV1 -----

    #[test]
    fn fields_v1_round_trips_byte_for_byte_in_upstream_order() {
        // Upstream's Apply entry for a deployment with one container, and an Update entry as
        // kubectl's client-side apply leaves it (members and "." first, then children).
        for text in [
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}"#,
            r#"{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}}}}}"#,
            r#"{"f:metadata":{"f:finalizers":{".":{},"v:\"a\"":{},"v:\"b\"":{}}}}"#,
            r#"{"f:status":{"f:conditions":{"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}}}}"#,
        ] {
            let set = FieldSet::from_fields_v1_str(text).unwrap();
            assert_eq!(set.to_fields_v1_string(), text);
            assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
        }
    }

    #[test]
    fn fields_v1_orders_keys_by_value_not_by_text() {
        // Upstream orders path elements by kind (f < k < v < i), then keys field by field with
        // numbers compared numerically: port 9 before 80 before 443, although "443" < "80" < "9"
        // as text.
        let mut set = FieldSet::new();
        let ports = [PathElement::field("ports")];
        for port in [443, 9, 80] {
            let mut p = ports.to_vec();
            p.push(PathElement::key([
                ("protocol".to_owned(), json!("TCP")),
                ("containerPort".to_owned(), json!(port)),
            ]));
            set.insert(&p);
        }
        set.insert(&[PathElement::Index(2)]);
        set.insert(&[PathElement::Value(json!("x"))]);
        set.insert(&[PathElement::Value(json!(3))]);
        set.insert(&[PathElement::key([("name".to_owned(), json!("a"))])]);
        set.insert(&[PathElement::field("zeta")]);
        assert_eq!(
            set.to_fields_v1_string(),
            r#"{"f:ports":{"k:{\"containerPort\":9,\"protocol\":\"TCP\"}":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{},"k:{\"containerPort\":443,\"protocol\":\"TCP\"}":{}},"f:zeta":{},"k:{\"name\":\"a\"}":{},"v:3":{},"v:\"x\"":{},"i:2":{}}"#
        );
    }

    #[test]
    fn fields_v1_mixed_kinds_keep_upstream_order_at_every_level() {
        // Upstream's golden data has this shape: at each level fields, then keys, then values
        // (numbers, strings, booleans), then indexes, and the same below every element.
        let text = r#"{"f:alpha":{"k:{\"id\":\"b\"}":{"v:7":{"f:beta":{}}},"v:7":{},"v:false":{}},"f:beta":{"f:alpha":{},"i:0":{"i:2":{}}},"k:{\"id\":\"a\"}":{"f:gamma":{}},"k:{\"port\":53,\"protocol\":\"tcp\"}":{},"k:{\"port\":53,\"protocol\":\"udp\"}":{"v:\"x\"":{}},"v:1":{},"v:10":{},"v:\"a\"":{},"v:\"b\"":{},"v:true":{"i:4":{}},"i:1":{},"i:12":{}}"#;
        let set = FieldSet::from_fields_v1_str(text).unwrap();
        assert_eq!(set.to_fields_v1_string(), text);
        assert_eq!(set.len(), 15);
    }

    #[test]
    fn fields_v1_reading_follows_upstream_rules() {
        // An element with an empty object is a member; "." makes an element with children a
        // member too; keys of unknown kinds are skipped; null reads as the empty set.
        let set = FieldSet::from_fields_v1_str(
            r#"{"f:a":{},"f:b":{"f:c":{}},"f:d":{".":{},"f:e":{}},"x:unknown":{"f:z":{}},"f:f":{"x:only-unknown":{}}}"#,
        )
        .unwrap();
        assert!(set.has(&path(&["a"])));
        assert!(!set.has(&path(&["b"])));
        assert!(set.has(&path(&["b", "c"])));
        assert!(set.has(&path(&["d"])) && set.has(&path(&["d", "e"])));
        assert!(set.has(&path(&["f"])));
        assert_eq!(set.len(), 5);
        assert!(FieldSet::from_fields_v1(&Value::Null).unwrap().is_empty());
        // A numeric key value read back from text equals the integer an object yields.
        let read = FieldSet::from_fields_v1_str(r#"{"k:{\"port\":80.0}":{}}"#).unwrap();
        assert!(read.has(&[PathElement::key([("port".to_owned(), json!(80))])]));
    }

    #[test]
    fn fields_v1_refuses_malformed_documents() {
        for (text, want) in [
            (r#"{"f:a":1}"#, "is a number, not an object"),
            (r#"{"f":{}}"#, "key must be 2 characters long"),
            (r#"{"fa":{}}"#, "missing colon"),
            (r#"{"k:[1]":{}}"#, "expected an object of key fields"),
            (r#"{"v:{":{}}"#, "parsing key"),
            (r#"{"i:x":{}}"#, "invalid digit"),
            ("[]", "is a array, not an object"),
            ("{", "not valid JSON"),
        ] {
            let err = FieldSet::from_fields_v1_str(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn paths_print_as_upstream() {
        let p = vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::key([("name".to_owned(), json!("nginx"))]),
            PathElement::field("ports"),
            PathElement::key([
                ("protocol".to_owned(), json!("TCP")),
                ("containerPort".to_owned(), json!(80)),
            ]),
        ];
        assert_eq!(
            path_string(&p),
            r#".spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]"#
        );
        assert_eq!(
            PathElement::Value(json!("a\"b")).to_string(),
            r#"[="a\"b"]"#
        );
        assert_eq!(PathElement::Index(3).to_string(), "[3]");
        assert_eq!(PathElement::Value(json!(1.5e22)).to_string(), "[=1.5e+22]");
    }

    #[test]
    fn set_algebra_matches_upstream() {
        let a = FieldSet::from_paths([&path(&["a", "b"])[..], &path(&["a"]), &path(&["c"])]);
        let b = FieldSet::from_paths([&path(&["a", "b"])[..], &path(&["d"])]);
        assert_eq!(
            a.union(&b),
            FieldSet::from_paths([
                &path(&["a", "b"])[..],
                &path(&["a"]),
                &path(&["c"]),
                &path(&["d"])
            ])
        );
        assert_eq!(
            a.intersection(&b),
            FieldSet::from_paths([&path(&["a", "b"])[..]])
        );
        assert_eq!(
            a.difference(&b),
            FieldSet::from_paths([&path(&["a"])[..], &path(&["c"])])
        );
        // A recursive difference also drops what is below a member of the other set.
        let top = FieldSet::from_paths([&path(&["a"])[..]]);
        assert_eq!(a.difference(&top).len(), 2);
        assert_eq!(
            a.recursive_difference(&top),
            FieldSet::from_paths([&path(&["c"])[..]])
        );
        // Iteration: members of a level first, then what is below each child.
        assert_eq!(
            a.paths(),
            vec![path(&["a"]), path(&["c"]), path(&["a", "b"])]
        );
    }

    // ----- type information -----

    #[test]
    fn list_and_map_types_come_from_the_schema_extensions() {
        let s = schema("apps/v1", "Deployment");
        let pod = ["spec", "template", "spec"];
        let at = |rest: &[&'static str]| -> Vec<&'static str> { [&pod[..], rest].concat() };
        assert_eq!(
            s.list_type(&at(&["containers"])),
            Some(&ListType::Map(vec!["name".to_owned()]))
        );
        assert_eq!(
            s.list_type(&at(&["containers", "ports"])),
            Some(&ListType::Map(vec![
                "containerPort".to_owned(),
                "protocol".to_owned()
            ]))
        );
        assert_eq!(
            s.list_type(&at(&["containers", "args"])),
            Some(&ListType::Atomic)
        );
        assert_eq!(
            s.list_type(&["metadata", "finalizers"]),
            Some(&ListType::Set)
        );
        assert_eq!(s.map_is_atomic(&["spec", "selector"]), Some(true));
        assert_eq!(s.map_is_atomic(&["metadata", "labels"]), Some(false));
        assert_eq!(s.map_is_atomic(&["spec"]), Some(false));
        assert_eq!(
            s.scalar_type(&["spec", "replicas"]),
            Some(ScalarType::Numeric)
        );
        assert_eq!(
            s.scalar_type(&at(&["containers", "resources", "limits", "cpu"])),
            Some(ScalarType::Untyped)
        );
    }

    #[test]
    fn lists_without_a_list_type_follow_their_patch_strategy() {
        let s = TypeSchema::from_json_schema(&json!({
            "type": "object",
            "properties": {
                "byKey": {"type": "array", "items": {"$ref": "#/$defs/Item"},
                    "x-kubernetes-patch-strategy": "merge,retainKeys",
                    "x-kubernetes-patch-merge-key": "id"},
                "primitive": {"type": "array", "items": {"type": "string"},
                    "x-kubernetes-patch-strategy": "merge"},
                "replaced": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                "wrapped": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
                    "x-kubernetes-list-type": "set"},
                "atomicRef": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}],
                    "x-kubernetes-map-type": "atomic"},
                "plainRef": {"$ref": "#/$defs/Item"}
            },
            "$defs": {"Item": {"type": "object", "properties": {"id": {"type": "string"}}}}
        }));
        assert_eq!(
            s.list_type(&["byKey"]),
            Some(&ListType::Map(vec!["id".to_owned()]))
        );
        assert_eq!(s.list_type(&["primitive"]), Some(&ListType::Set));
        assert_eq!(s.list_type(&["replaced"]), Some(&ListType::Atomic));
        assert_eq!(s.list_type(&["wrapped"]), Some(&ListType::Set));
        assert_eq!(s.map_is_atomic(&["atomicRef"]), Some(true));
        assert_eq!(s.map_is_atomic(&["plainRef"]), Some(false));
    }

    // ----- apply -----

    #[test]
    fn apply_to_a_missing_object_records_exactly_the_applied_fields() {
        let object = deployments(T0)
            .apply(None, &deployment(2, "nginx:1.25"), "deployer", false)
            .unwrap();
        assert_eq!(object["spec"]["replicas"], 2);
        let all = entries(&object);
        assert_eq!(all.len(), 1);
        let entry = &all[0];
        assert_eq!(
            entry,
            &json!({"manager": "deployer", "operation": "Apply", "apiVersion": "apps/v1",
                "time": T0, "fieldsType": "FieldsV1", "fieldsV1": entry["fieldsV1"].clone()})
        );
        assert_eq!(
            fields_text(entry),
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        );
    }

    #[test]
    fn reapplying_the_same_configuration_changes_nothing() {
        let config = deployment(2, "nginx:1.25");
        let live = stored(
            deployments(T0)
                .apply(None, &config, "deployer", false)
                .unwrap(),
        );
        let again = deployments(T1)
            .apply(Some(&live), &config, "deployer", false)
            .unwrap();
        assert_eq!(again, live);
        assert_eq!(entry_of(&again, "deployer")["time"], T0);
    }

    #[test]
    fn applying_a_changed_value_updates_the_object_and_the_time() {
        let live = stored(
            deployments(T0)
                .apply(None, &deployment(2, "nginx:1.25"), "deployer", false)
                .unwrap(),
        );
        let next = deployments(T1)
            .apply(Some(&live), &deployment(2, "nginx:1.26"), "deployer", false)
            .unwrap();
        assert_eq!(
            next["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.26"
        );
        assert_eq!(entry_of(&next, "deployer")["time"], T1);
        assert_eq!(next["metadata"]["uid"], live["metadata"]["uid"]);
    }

    #[test]
    fn a_field_the_manager_stops_applying_is_removed() {
        let mut config = deployment(2, "nginx:1.25");
        config["metadata"]["labels"]["tier"] = json!("frontend");
        config["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "envoy"}));
        let live = stored(
            deployments(T0)
                .apply(None, &config, "deployer", false)
                .unwrap(),
        );
        let next = deployments(T1)
            .apply(Some(&live), &deployment(2, "nginx:1.25"), "deployer", false)
            .unwrap();
        assert_eq!(next["metadata"]["labels"], json!({"app": "web"}));
        let containers = &next["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            containers,
            &json!([{"name": "nginx", "image": "nginx:1.25"}])
        );
        assert_eq!(
            fields_text(entry_of(&next, "deployer")),
            fields_text(entry_of(
                &deployments(T0)
                    .apply(None, &deployment(2, "nginx:1.25"), "deployer", false)
                    .unwrap(),
                "deployer"
            ))
        );
    }

    #[test]
    fn a_field_another_applier_owns_is_not_removed() {
        let mut both = deployment(2, "nginx:1.25");
        both["metadata"]["labels"]["tier"] = json!("frontend");
        let live = stored(deployments(T0).apply(None, &both, "first", false).unwrap());
        let tier_only = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"tier": "frontend"}}});
        let live = stored(
            deployments(T1)
                .apply(Some(&live), &tier_only, "second", false)
                .unwrap(),
        );
        // "first" stops applying the tier label; "second" still applies it.
        let next = deployments(T2)
            .apply(Some(&live), &deployment(2, "nginx:1.25"), "first", false)
            .unwrap();
        assert_eq!(next["metadata"]["labels"]["tier"], "frontend");
        assert_eq!(
            fields_text(entry_of(&next, "second")),
            r#"{"f:metadata":{"f:labels":{"f:tier":{}}}}"#
        );
        // A field only an updater shares is removed with the applier's ownership.
        let live = stored(deployments(T0).apply(None, &both, "first", false).unwrap());
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(4);
        deployments(T1).update(Some(&live), &mut edited, "kubectl-edit");
        let edited = stored(edited);
        let next = deployments(T2)
            .apply(Some(&edited), &deployment(4, "nginx:1.25"), "first", false)
            .unwrap();
        assert!(next["metadata"]["labels"].get("tier").is_none());
    }

    #[test]
    fn a_second_manager_changing_an_owned_field_conflicts() {
        let live = stored(
            deployments(T0)
                .apply(None, &deployment(2, "nginx:1.25"), "first", false)
                .unwrap(),
        );
        let err = deployments(T1)
            .apply(Some(&live), &deployment(5, "nginx:1.25"), "second", false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"first\": .spec.replicas"
        );
        let api = ApiError::from(err).to_json();
        assert_eq!(
            api,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Apply failed with 1 conflict: conflict with \"first\": .spec.replicas",
                "reason": "Conflict", "code": 409,
                "details": {"causes": [{"reason": "FieldManagerConflict",
                    "message": "conflict with \"first\"", "field": ".spec.replicas"}]}})
        );
        // The same value is no conflict: the field is then shared.
        let shared = deployments(T1)
            .apply(Some(&live), &deployment(2, "nginx:1.25"), "second", false)
            .unwrap();
        let replicas = |m: &str| {
            FieldSet::from_fields_v1(&entry_of(&shared, m)["fieldsV1"])
                .unwrap()
                .has(&path(&["spec", "replicas"]))
        };
        assert!(replicas("first") && replicas("second"));
    }

    #[test]
    fn conflicts_with_updaters_name_their_api_version_and_group_by_manager() {
        let live = stored(
            deployments(T0)
                .apply(None, &deployment(2, "nginx:1.25"), "first", false)
                .unwrap(),
        );
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(3);
        edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
        deployments(T1).update(Some(&live), &mut edited, "kubectl-edit");
        let edited = stored(edited);
        let mut config = deployment(9, "nginx:1.27");
        config["metadata"]["labels"]["app"] = json!("other");
        config["spec"]["template"]["metadata"]["labels"]["app"] = json!("web");
        let err = deployments(T2)
            .apply(Some(&edited), &config, "second", false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 3 conflicts: conflicts with \"first\":\n\
             - .metadata.labels.app\n\
             conflicts with \"kubectl-edit\" using apps/v1:\n\
             - .spec.replicas\n\
             - .spec.template.spec.containers[name=\"nginx\"].image"
        );
        let ApplyError::Conflicts(conflicts) = err else {
            panic!("not conflicts");
        };
        assert_eq!(
            conflicts[1].message(),
            "conflict with \"kubectl-edit\" using apps/v1"
        );
        assert_eq!(
            conflicts[2].field(),
            ".spec.template.spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn force_takes_the_fields_from_their_owners() {
        let live = stored(
            deployments(T0)
                .apply(None, &deployment(2, "nginx:1.25"), "first", false)
                .unwrap(),
        );
        let forced = deployments(T1)
            .apply(Some(&live), &deployment(5, "nginx:1.25"), "second", true)
            .unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
        let owns = |m: &str| {
            FieldSet::from_fields_v1(&entry_of(&forced, m)["fieldsV1"])
                .unwrap()
                .has(&path(&["spec", "replicas"]))
        };
        assert!(owns("second"));
        assert!(!owns("first"));
        assert_eq!(entry_of(&forced, "second")["time"], T1);
        // Apply entries come first, oldest first.
        let managers: Vec<_> = entries(&forced)
            .iter()
            .map(|e| e["manager"].clone())
            .collect();
        assert_eq!(managers, vec![json!("first"), json!("second")]);
    }

    #[test]
    fn apply_refuses_configurations_that_do_not_fit() {
        let fm = deployments(T0);
        let mut wrong_version = deployment(1, "a");
        wrong_version["apiVersion"] = json!("apps/v1beta1");
        let err = fm.apply(None, &wrong_version, "m", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, \
             expected: apps/v1"
        );
        assert_eq!(ApiError::from(err).code(), 400);

        let mut with_managed = deployment(1, "a");
        with_managed["metadata"]["managedFields"] = json!([]);
        let err = fm.apply(None, &with_managed, "m", false).unwrap_err();
        assert_eq!(err, ApplyError::ManagedFieldsInConfiguration);

        let mut unknown = deployment(1, "a");
        unknown["spec"]["replicaz"] = json!(1);
        unknown["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"image": "no-name"}));
        let err = fm.apply(None, &unknown, "m", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n  \
             .spec.replicaz: field not declared in schema\n  \
             .spec.template.spec.containers: element 1: associative list with keys has an \
             element that omits key field \"name\" (and doesn't have default value)"
        );
        let api = ApiError::from(err);
        assert_eq!((api.code(), api.reason()), (500, ""));

        let mut duplicate = deployment(1, "a");
        duplicate["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "nginx"}));
        let err = fm
            .apply(None, &duplicate, "m", false)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                ".spec.template.spec.containers: duplicate entries for key [name=\"nginx\"]"
            ),
            "{err}"
        );

        let mut wrong_type = deployment(1, "a");
        wrong_type["spec"]["replicas"] = json!("two");
        let err = fm
            .apply(None, &wrong_type, "m", false)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(".spec.replicas: expected numeric (int or float), got string"),
            "{err}"
        );
        assert_eq!(
            fm.apply(None, &json!([1]), "m", false)
                .unwrap_err()
                .to_string(),
            "error decoding YAML: json: cannot unmarshal array into Go value of type \
             map[string]interface {}"
        );
    }

    #[test]
    fn ports_without_protocol_are_keyed_with_the_default_protocol() {
        let mut config = deployment(1, "a");
        config["spec"]["template"]["spec"]["containers"][0]["ports"] =
            json!([{"containerPort": 80}, {"containerPort": 443}]);
        let object = deployments(T0).apply(None, &config, "m", false).unwrap();
        let text = fields_text(entry_of(&object, "m"));
        assert!(
            text.contains(r#""f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}},"k:{\"containerPort\":443,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}"#),
            "{text}"
        );
    }

    #[test]
    fn merging_keeps_live_items_and_follows_the_configuration_order() {
        let s = schema("apps/v1", "Deployment");
        let containers = |names: &[&str]| {
            json!({"spec": {"template": {"spec": {"containers":
                names.iter().map(|n| json!({"name": n, "image": format!("{n}:1")})).collect::<Vec<_>>()}}}})
        };
        let merged = s
            .merge(&containers(&["a", "b", "c"]), &containers(&["c", "d", "a"]))
            .unwrap();
        let names: Vec<_> = merged["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        // b stays where it was; the shared items follow the configuration.
        assert_eq!(names, ["b", "c", "d", "a"]);
        // Atomic lists and maps are replaced; granular maps merged.
        let live = json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}},
            "template": {"metadata": {"labels": {"a": "1", "b": "2"}}}}});
        let config = json!({"spec": {"selector": {"matchLabels": {"a": "1"}},
            "template": {"metadata": {"labels": {"c": "3"}}}}});
        let merged = s.merge(&live, &config).unwrap();
        assert_eq!(
            merged["spec"]["selector"],
            json!({"matchLabels": {"a": "1"}})
        );
        assert_eq!(
            merged["spec"]["template"]["metadata"]["labels"],
            json!({"a": "1", "b": "2", "c": "3"})
        );
    }

    #[test]
    fn kubectl_may_take_the_fields_its_last_applied_annotation_set() {
        // An object kubectl created with client-side apply: the annotation holds replicas 2,
        // the fields belong to kubectl-client-side-apply.
        let mut created = deployment(2, "nginx:1.25");
        let mut last = deployment(2, "nginx:1.25");
        last["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        created["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: go_json(&last)});
        deployments(T0).update(None, &mut created, "kubectl-client-side-apply");
        let live = stored(created);
        // Server-side apply by kubectl takes the fields it set before without conflict, and
        // keeps the annotation in step.
        let next = deployments(T1)
            .apply(Some(&live), &deployment(3, "nginx:1.25"), "kubectl", false)
            .unwrap();
        assert_eq!(next["spec"]["replicas"], 3);
        let annotation = next["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
            .as_str()
            .unwrap();
        assert_eq!(
            annotation,
            format!("{}\n", go_json(&deployment(3, "nginx:1.25")))
        );
        // Another manager gets the conflict.
        let err = deployments(T1)
            .apply(Some(&live), &deployment(3, "nginx:1.25"), "other", false)
            .unwrap_err();
        assert!(matches!(err, ApplyError::Conflicts(_)));
        // A field the annotation does not set as the live object has it still conflicts.
        let mut drifted = live.clone();
        drifted["spec"]["replicas"] = json!(7);
        let err = deployments(T1)
            .apply(
                Some(&drifted),
                &deployment(3, "nginx:1.25"),
                "kubectl",
                false,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using \
             apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn an_untracked_object_is_owned_by_before_first_apply_when_first_applied() {
        let live = stored(deployment(2, "nginx:1.25"));
        let err = deployments(T0)
            .apply(Some(&live), &deployment(3, "nginx:1.25"), "first", false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: \
             .spec.replicas"
        );
        let object = deployments(T0)
            .apply(Some(&live), &deployment(2, "nginx:1.25"), "first", false)
            .unwrap();
        assert_eq!(
            entry_of(&object, BEFORE_FIRST_APPLY_MANAGER)["operation"],
            "Update"
        );
        assert_eq!(entry_of(&object, "first")["operation"], "Apply");
    }

    #[test]
    fn status_is_never_owned_through_the_main_resource_and_alone_through_status() {
        let mut config = deployment(2, "nginx:1.25");
        config["status"] = json!({"replicas": 2});
        let object = deployments(T0).apply(None, &config, "m", false).unwrap();
        assert!(!fields_text(entry_of(&object, "m")).contains("status"));

        // The registry resets the status an apply to the main resource brings.
        let mut live = stored(object);
        live["status"] = json!({});
        let mut new = live.clone();
        new["status"] = json!({"replicas": 2, "readyReplicas": 2});
        let status = deployments(T1)
            .with_subresource(Some("status"))
            .with_reset_fields(ResetFields::for_write(true, Some("status")));
        status.update(Some(&live), &mut new, "kube-controller-manager");
        let entry = entry_of(&new, "kube-controller-manager");
        assert_eq!(entry["subresource"], "status");
        assert_eq!(entry["operation"], "Update");
        assert_eq!(
            fields_text(entry),
            r#"{"f:status":{"f:readyReplicas":{},"f:replicas":{}}}"#
        );
        // The status writer's entry is separate from the applier's.
        assert_eq!(entries(&new).len(), 2);
    }

    // ----- updates -----

    #[test]
    fn a_create_owns_what_it_set_and_maps_it_added() {
        let mut new = deployment(2, "nginx:1.25");
        new["spec"]["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}});
        deployments(T0).update(None, &mut new, "kubectl-create");
        let entry = entry_of(&new, "kubectl-create");
        assert_eq!(entry["operation"], "Update");
        assert_eq!(entry["apiVersion"], "apps/v1");
        assert_eq!(entry["time"], T0);
        assert_eq!(
            fields_text(entry),
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        );
    }

    #[test]
    fn a_label_change_moves_the_label_to_its_writer() {
        let mut created = deployment(2, "nginx:1.25");
        deployments(T0).update(None, &mut created, "kubectl-create");
        let live = stored(created);
        let mut new = live.clone();
        new["metadata"]["labels"]["app"] = json!("shop");
        new["metadata"]["labels"]["env"] = json!("prod");
        deployments(T1).update(Some(&live), &mut new, "kubectl-label");
        let label = entry_of(&new, "kubectl-label");
        assert_eq!(label["time"], T1);
        assert_eq!(
            fields_text(label),
            r#"{"f:metadata":{"f:labels":{"f:app":{},"f:env":{}}}}"#
        );
        let create =
            FieldSet::from_fields_v1(&entry_of(&new, "kubectl-create")["fieldsV1"]).unwrap();
        assert!(!create.has(&path(&["metadata", "labels", "app"])));
        assert!(create.has(&path(&["metadata", "labels"])));
        assert_eq!(entry_of(&new, "kubectl-create")["time"], T0);
        // Removing the label takes it from everyone; an entry left empty goes.
        let live = stored(new);
        let mut new = live.clone();
        new["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("env");
        new["metadata"]["labels"]["app"] = json!("web");
        deployments(T2).update(Some(&live), &mut new, "kubectl-create");
        let managers: Vec<_> = entries(&new).iter().map(|e| e["manager"].clone()).collect();
        assert_eq!(managers, vec![json!("kubectl-create")]);
    }

    #[test]
    fn a_write_that_changes_nothing_keeps_the_entries() {
        let mut created = deployment(2, "nginx:1.25");
        deployments(T0).update(None, &mut created, "kubectl-create");
        let live = stored(created);
        let mut new = live.clone();
        new["metadata"]["resourceVersion"] = json!("8");
        deployments(T1).update(Some(&live), &mut new, "someone");
        assert_eq!(
            new["metadata"]["managedFields"],
            live["metadata"]["managedFields"]
        );
    }

    #[test]
    fn managed_fields_in_a_request_are_used_or_reset() {
        let mut created = deployment(2, "nginx:1.25");
        deployments(T0).update(None, &mut created, "kubectl-create");
        let live = stored(created);
        // A body without managed fields keeps the stored ones.
        let mut new = live.clone();
        new["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        new["spec"]["replicas"] = json!(3);
        deployments(T1).update(Some(&live), &mut new, "editor");
        assert_eq!(entries(&new).len(), 2);
        // `[]` and `[{}]` reset them: the object is then untracked.
        for reset in [json!([]), json!([{}])] {
            let mut new = live.clone();
            new["metadata"]["managedFields"] = reset;
            new["spec"]["replicas"] = json!(3);
            deployments(T1).update(Some(&live), &mut new, "editor");
            assert!(new["metadata"].get("managedFields").is_none());
        }
        // Entries a client edits are taken as given.
        let mut new = live.clone();
        new["metadata"]["managedFields"][0]["manager"] = json!("renamed");
        deployments(T1).update(Some(&live), &mut new, "editor");
        assert_eq!(entries(&new)[0]["manager"], "renamed");
        // A subresource write always starts from the stored entries.
        let mut new = live.clone();
        new["metadata"]["managedFields"] = json!([]);
        new["status"] = json!({"replicas": 1});
        deployments(T1)
            .with_subresource(Some("status"))
            .with_reset_fields(ResetFields::AllButStatus)
            .update(Some(&live), &mut new, "controller");
        assert_eq!(entries(&new).len(), 2);
    }

    #[test]
    fn an_object_without_managed_fields_stays_untracked_by_updates() {
        let live = stored(deployment(2, "nginx:1.25"));
        let mut new = live.clone();
        new["spec"]["replicas"] = json!(3);
        deployments(T0).update(Some(&live), &mut new, "editor");
        assert!(new["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn update_entries_are_capped_into_ancient_changes() {
        let mut live = {
            let mut o = deployment(0, "nginx:1.25");
            deployments(T0).update(None, &mut o, "creator");
            stored(o)
        };
        for i in 1..=12 {
            let mut new = live.clone();
            new["spec"]["replicas"] = json!(i);
            new["metadata"]["labels"][format!("l{i}")] = json!("x");
            let now = format!("2024-05-01T10:{i:02}:00Z");
            deployments(&now).update(Some(&live), &mut new, &format!("writer-{i:02}"));
            live = new;
        }
        let all = entries(&live);
        assert_eq!(all.len(), MAX_UPDATE_MANAGERS);
        let ancient = entry_of(&live, ANCIENT_CHANGES_MANAGER);
        let set = FieldSet::from_fields_v1(&ancient["fieldsV1"]).unwrap();
        assert!(set.has(&path(&["metadata", "labels", "l1"])));
        assert!(set.has(&path(&["metadata", "labels", "l2"])));
        assert!(
            !live["metadata"]["managedFields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["manager"] == "writer-02")
        );
    }

    // ----- helpers -----

    #[test]
    fn managers_come_from_the_parameter_or_the_user_agent() {
        assert_eq!(
            manager_from_user_agent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc123"),
            "kubectl"
        );
        assert_eq!(
            manager_from_user_agent("OpenAPI-Generator/31.0.0/python"),
            "OpenAPI-Generator"
        );
        assert_eq!(manager_from_user_agent("a\u{7}b\tc/1"), "abc");
        assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), 128);
        assert_eq!(
            manager_or_user_agent(Some("kubectl-edit"), "kubectl/v1"),
            "kubectl-edit"
        );
        assert_eq!(manager_or_user_agent(Some(""), "kubectl/v1"), "kubectl");
        assert_eq!(manager_or_user_agent(None, ""), "");
        assert!(validate_field_manager("kubectl").is_empty());
        assert_eq!(validate_field_manager(&"x".repeat(129)).len(), 1);
        assert_eq!(
            validate_field_manager("a\u{1}")[0].to_string(),
            "fieldManager: Invalid value: \"a\\x01\": invalid character U+0001 (at position 1)"
        );
        let err = invalid_patch_options(&[FieldError::required(
            &Path::new("fieldManager"),
            "is required for apply patch",
        )]);
        assert_eq!(
            err.message(),
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required \
             for apply patch"
        );
        assert_eq!(err.code(), 422);
    }

    #[test]
    fn manager_identifiers_are_upstreams_json() {
        let k = ManagerKey::new("kubectl", Operation::Update, "apps/v1", "");
        assert_eq!(
            k.id(),
            r#"{"manager":"kubectl","operation":"Update","apiVersion":"apps/v1"}"#
        );
        let k = ManagerKey::new("a<b", Operation::Apply, "apps/v1", "status");
        assert_eq!(
            k.id(),
            r#"{"manager":"a\u003cb","operation":"Apply","subresource":"status"}"#
        );
        assert_eq!(k.describe(), r#""a<b" with subresource "status""#);
    }

    // ----- properties -----

    fn arb_scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[a-z<>&\"\\\\ é]{0,6}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            // Floats that serde_json reads back exactly (its default parser may be off by one
            // unit in the last place on arbitrary ones).
            (-1_000_000i64..1_000_000, 1u32..8)
                .prop_map(|(m, e)| Value::from(m as f64 / f64::from(1u32 << e))),
        ]
    }

    fn arb_element() -> impl Strategy<Value = PathElement> {
        prop_oneof![
            "[a-zA-Z0-9.:/{}\"-]{0,8}".prop_map(PathElement::Field),
            proptest::collection::btree_map("[a-z]{1,4}", arb_scalar(), 1..3)
                .prop_map(PathElement::key),
            arb_scalar().prop_map(PathElement::Value),
            (-5i64..1000).prop_map(PathElement::Index),
        ]
    }

    fn arb_set() -> impl Strategy<Value = FieldSet> {
        proptest::collection::vec(proptest::collection::vec(arb_element(), 1..5), 0..12).prop_map(
            |paths| {
                let mut set = FieldSet::new();
                for p in paths {
                    set.insert(&p);
                }
                set
            },
        )
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("metadata".to_owned()),
                        Just("spec".to_owned()),
                        Just("labels".to_owned()),
                        Just("name".to_owned()),
                        Just("containers".to_owned()),
                        Just("template".to_owned()),
                        Just("replicas".to_owned()),
                        Just("managedFields".to_owned()),
                        "[a-z]{1,3}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn fields_v1_text_round_trips(set in arb_set()) {
            let text = set.to_fields_v1_string();
            prop_assert_eq!(&FieldSet::from_fields_v1_str(&text).unwrap(), &set);
            prop_assert_eq!(&FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), &set);
            // The text is JSON, and the document it holds is the one to_fields_v1 builds.
            let parsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(parsed, set.to_fields_v1());
        }

        #[test]
        fn set_algebra_laws_hold(a in arb_set(), b in arb_set()) {
            let union = a.union(&b);
            for p in a.paths().iter().chain(b.paths().iter()) {
                prop_assert!(union.has(p));
            }
            prop_assert_eq!(union.difference(&b).union(&b), union.clone());
            prop_assert!(a.difference(&b).intersection(&b).is_empty());
            prop_assert_eq!(a.intersection(&b), b.intersection(&a));
            prop_assert_eq!(a.len(), a.paths().len());
        }

        #[test]
        fn fields_v1_reading_never_panics(v in arb_json()) {
            let _ = FieldSet::from_fields_v1(&v);
        }

        #[test]
        fn apply_and_update_never_panic(
            live in arb_json(),
            config in arb_json(),
            force in any::<bool>(),
        ) {
            let fm = deployments(T0);
            let mut config = config;
            if let Value::Object(m) = &mut config {
                m.insert("apiVersion".into(), json!("apps/v1"));
                m.insert("kind".into(), json!("Deployment"));
            }
            let _ = fm.apply(Some(&live), &config, "m", force);
            let _ = fm.apply(None, &config, "m", force);
            let deduced = FieldManager::new(Arc::new(TypeSchema::deduced()), "apps/v1", "Deployment", T0);
            let _ = deduced.apply(Some(&live), &config, "m", force);
            let mut new = config.clone();
            fm.update(Some(&live), &mut new, "m");
            let mut new = live.clone();
            deduced.update(None, &mut new, "m");
        }
    }
}
