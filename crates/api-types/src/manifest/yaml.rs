//! YAML text into JSON values, with the resolution rules of Kubernetes' YAML decoder.
//!
//! `kubectl` and the API server read YAML with `sigs.k8s.io/yaml`: a fork of go-yaml v2 decodes
//! the text into generic Go values, which are then written out as JSON. This module gives the same
//! JSON for the same text, one [`serde_json::Value`] per document of a stream. The syntax is read
//! by `saphyr-parser`; everything after the syntax (what a scalar means, anchors, merge keys, map
//! keys) is done here, following the v2 rules:
//!
//! - Plain scalars are typed the YAML 1.1 way: `true`/`false`, `yes`/`no`, `on`/`off`, `y`/`n`
//!   (lower case, capitalised or upper case) are booleans; `~`, `null` and the empty scalar are
//!   null; decimal, `0x` hexadecimal, `0o` and leading-`0` octal and `0b` binary integers (with
//!   `_` separators) are integers; decimal floats, `.inf` and `.nan` are floats; everything else,
//!   timestamps included, is a string. Quoted and block scalars are always strings.
//! - The tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` and `!!binary`
//!   force or check a type; other tags are ignored (the scalar is a string, a collection stays
//!   what it is).
//! - Aliases expand to a copy of their anchor; documents that alias too much are refused
//!   (`document contains excessive aliasing`), as are anchors that contain themselves.
//! - `<<` merge keys take a mapping or a sequence of mappings; keys written in the mapping win
//!   over merged ones, and among merged mappings the first one listed wins.
//! - A key written twice in a mapping is an error, as in upstream's strict decoding.
//! - Keys that are not strings become their text: integers in decimal, booleans as `true` and
//!   `false`, floats in Go's short form. Null keys, collection keys and integers that only fit in
//!   a `u64` cannot become JSON keys and are errors, as upstream.
//! - Integers become JSON integers; floats become JSON numbers, written the way Go's `encoding/json`
//!   writes them (so `1.0` becomes `1`). NaN and infinities have no JSON form: an error.
//! - A stream holds any number of documents separated by `---`; documents that are empty, only
//!   comments, or null are skipped. JSON is YAML too, so a JSON document reads the same way.
//!   A byte order mark at the start is ignored.
//!
//! The syntax is YAML 1.2's, which differs from go-yaml's YAML 1.1 in corners only: tabs after a
//! `:` are accepted as go-yaml accepts them (the parser does not, so such text is read again with
//! spaces there); alias names may contain `:`, so an alias used as a key needs a space before the
//! `:` (`*base : value`); flow collections nest at most 255 deep, and any collection at most
//! [`MAX_DEPTH`] deep.
//!
//! ```
//! use kubernaut_api_types::manifest::yaml;
//! use serde_json::json;
//!
//! let docs = yaml::parse_documents("a: yes\nb: 0x10\nc: '0x10'\n---\n# nothing\n---\n[1.5, ~]\n")
//!     .unwrap();
//! assert_eq!(docs.len(), 2);
//! assert_eq!(docs[0].value, json!({"a": true, "b": 16, "c": "0x10"}));
//! assert_eq!(docs[1].value, json!([1.5, null]));
//! assert_eq!(docs[1].start.line, 7);
//!
//! let err = yaml::parse_documents("a: 1\na: 2\n").unwrap_err();
//! assert_eq!(err.to_string(), "yaml: line 2, column 1: mapping key \"a\" already defined at line 1");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

/// The deepest nesting of sequences and mappings a document may have, aliases expanded.
///
/// Deeper documents are refused (`exceeded max depth of 1000`) rather than risking the stack of
/// whoever walks the resulting value.
pub const MAX_DEPTH: usize = 1000;

/// The prefix of the tags of the YAML core schema (`!!int` is `tag:yaml.org,2002:int`).
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A place in the YAML text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The line, counted from 1.
    pub line: usize,
    /// The column in characters, counted from 1.
    pub column: usize,
}

impl Position {
    fn of(marker: &Marker) -> Self {
        Position {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// One document of a YAML stream, as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The index of the document among the stream's non-empty documents, counted from 0.
    pub index: usize,
    /// Where the document's content starts.
    pub start: Position,
    /// The document's content (never `null`: null documents are skipped).
    pub value: Value,
}

/// Why a YAML stream could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("yaml: {}{message}", At(.position))]
pub struct YamlError {
    /// Where the problem is, when known.
    pub position: Option<Position>,
    /// The index the failing document would have had among the non-empty documents (the number
    /// of documents read before it).
    pub document: usize,
    /// What is wrong.
    pub message: String,
}

impl YamlError {
    fn new(position: Option<Position>, document: usize, message: impl Into<String>) -> Self {
        YamlError {
            position,
            document,
            message: message.into(),
        }
    }
}

/// Writes the `line L, column C: ` prefix of an error when its position is known.
struct At<'a>(&'a Option<Position>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(position) => write!(f, "{position}: "),
            None => Ok(()),
        }
    }
}

/// Reads the documents of a YAML stream one at a time.
///
/// Empty and null documents are skipped. After the first error the iterator ends.
pub fn documents(text: &str) -> Documents<'_> {
    Documents::new(text, true)
}

/// Reads all the documents of a YAML stream, or the first error.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    documents(text).collect()
}

/// The iterator of [`documents`].
pub struct Documents<'a> {
    text: &'a str,
    parser: Parser<'a, StrInput<'a>>,
    /// How many documents have been handed out.
    read: usize,
    finished: bool,
    /// Whether to read past tabs after `:` (see [`Documents::reread`]).
    tabs_after_colons: bool,
    /// When reading stopped at a value that follows a `:` and tabs only: the value's index in
    /// characters.
    tab_separated_value: Option<usize>,
    /// Documents read ahead from a copy of the text.
    ahead: std::collections::VecDeque<Result<Document, YamlError>>,
}

/// What the parser says about a `:` followed by tabs and then a value on the same line.
const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// How much text the work-around for tabs after `:` may read again, in bytes.
const REREAD_BUDGET: usize = 16 << 20;

impl fmt::Debug for Documents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Documents")
            .field("read", &self.read)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, YamlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.ahead.pop_front() {
            return Some(item);
        }
        if self.finished {
            return None;
        }
        match self.next_document() {
            Ok(Some(document)) => {
                self.read += 1;
                Some(Ok(document))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(error) => {
                self.finished = true;
                match self.tab_separated_value {
                    Some(at) if self.tabs_after_colons => {
                        self.ahead = Self::reread(self.text, at, self.read, error);
                        self.ahead.pop_front()
                    }
                    _ => Some(Err(error)),
                }
            }
        }
    }
}

impl std::iter::FusedIterator for Documents<'_> {}

impl<'a> Documents<'a> {
    fn new(text: &'a str, tabs_after_colons: bool) -> Self {
        Documents {
            text,
            parser: Parser::new_from_str(text),
            read: 0,
            finished: false,
            tabs_after_colons,
            tab_separated_value: None,
            ahead: std::collections::VecDeque::new(),
        }
    }

    /// Reads the stream again from a copy of the text in which the tabs between a `:` and the
    /// value after it are spaces, and returns what follows the `skip` documents already read.
    ///
    /// `saphyr-parser` refuses `key:<TAB>value`, which go-yaml (like YAML itself) accepts; the
    /// tabs there only separate, so making them spaces changes nothing else, not even columns.
    /// Each pass fixes one place, and the passes stop when they have read `REREAD_BUDGET` bytes,
    /// leaving the parser's error.
    fn reread(
        text: &str,
        at: usize,
        skip: usize,
        error: YamlError,
    ) -> std::collections::VecDeque<Result<Document, YamlError>> {
        let mut budget = REREAD_BUDGET;
        let mut patched = String::new();
        let mut at = at;
        loop {
            let source = if patched.is_empty() { text } else { &patched };
            let Some(next) = spaces_for_tabs_before(source, at) else {
                return [Err(error)].into();
            };
            budget = budget.saturating_sub(next.len());
            if budget == 0 {
                return [Err(error)].into();
            }
            patched = next;
            let mut documents = Documents::new(&patched, false);
            let read: std::collections::VecDeque<_> = documents.by_ref().skip(skip).collect();
            match documents.tab_separated_value {
                Some(again) => at = again,
                None => return read,
            }
        }
    }

    fn event(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                if error.info() == TAB_AFTER_COLON {
                    self.tab_separated_value = Some(error.marker().index());
                }
                Err(self.scan_error(&error))
            }
            None => Err(YamlError::new(None, self.read, "unexpected end of stream")),
        }
    }

    fn scan_error(&self, error: &ScanError) -> YamlError {
        YamlError::new(Some(Position::of(error.marker())), self.read, error.info())
    }

    /// Reads up to the next non-empty document, or `None` at the end of the stream.
    fn next_document(&mut self) -> Result<Option<Document>, YamlError> {
        loop {
            let (event, span) = self.event()?;
            match event {
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(_) => {
                    let mut builder = Builder::new(self.text, self.read);
                    loop {
                        let (event, span) = self.event()?;
                        if event == Event::DocumentEnd {
                            break;
                        }
                        builder.event(event, span)?;
                    }
                    if let Some((start, value)) = builder.finish() {
                        return Ok(Some(Document {
                            index: self.read,
                            start,
                            value,
                        }));
                    }
                }
                Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
                _ => {
                    return Err(YamlError::new(
                        Some(Position::of(&span.start)),
                        self.read,
                        "unexpected content outside of a document",
                    ));
                }
            }
        }
    }
}

/// A copy of `text` in which the tabs just before the character at index `at` (and after the
/// last character that is neither a space nor a tab) are spaces; `None` when there are none.
fn spaces_for_tabs_before(text: &str, at: usize) -> Option<String> {
    let end = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
    let bytes = text.as_bytes();
    let mut start = end;
    while start > 0 && matches!(bytes.get(start - 1), Some(b' ' | b'\t')) {
        start -= 1;
    }
    let blanks = text.get(start..end)?;
    if !blanks.contains('\t') {
        return None;
    }
    let mut patched = String::with_capacity(text.len());
    patched.push_str(text.get(..start)?);
    patched.push_str(&blanks.replace('\t', " "));
    patched.push_str(text.get(end..)?);
    Some(patched)
}

// ---------------------------------------------------------------------------------------------
// Building a document from events.

/// A finished node. Nodes are shared (aliases point at their anchor's node) and turned into JSON
/// once the document is complete, so anchors cost nothing until they are used.
struct Node {
    /// How many nodes this one stands for, aliases expanded (keys count one each).
    size: u64,
    /// How many collections deep the node is, aliases expanded: 0 for a scalar.
    depth: usize,
    kind: Kind,
}

enum Kind {
    Leaf(Value),
    Seq(Vec<Rc<Node>>),
    Map(Vec<(String, Rc<Node>)>),
}

impl Node {
    fn leaf(value: Value) -> Rc<Node> {
        Rc::new(Node {
            size: 1,
            depth: 0,
            kind: Kind::Leaf(value),
        })
    }

    fn to_json(&self) -> Value {
        match &self.kind {
            Kind::Leaf(value) => value.clone(),
            Kind::Seq(items) => Value::Array(items.iter().map(|item| item.to_json()).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }
}

/// What an anchor stands for.
enum Anchor {
    /// A collection still being read: an alias to it would contain itself.
    Open,
    /// A scalar, kept resolved but not converted, since an alias may use it as a key.
    Scalar(Scalar),
    Node(Rc<Node>),
}

/// A node ready to be placed in its parent.
enum Item {
    Scalar { scalar: Scalar, merge: bool },
    Node { node: Rc<Node>, aliased: bool },
}

/// A collection being read.
struct Frame {
    anchor: usize,
    start: Position,
    body: Body,
}

enum Body {
    Seq(Vec<Rc<Node>>),
    Map(MapFrame),
}

/// A mapping being read.
#[derive(Default)]
struct MapFrame {
    entries: Vec<(String, Rc<Node>)>,
    index: HashMap<String, (usize, Origin)>,
    pending: Pending,
    /// How many `<<` keys have been read so far.
    merges: u32,
}

/// Where a mapping entry comes from.
#[derive(Clone, Copy)]
enum Origin {
    /// Written in the mapping, with the key at this position.
    Written(Position),
    /// Brought in by the n-th `<<` key.
    Merged(u32),
}

#[derive(Default)]
enum Pending {
    #[default]
    Key,
    Value(String, Position),
    Merge,
}

impl MapFrame {
    /// Checks a key written in the mapping against the keys written before it.
    fn check_key(&self, key: &str) -> Result<(), String> {
        match self.index.get(key) {
            Some((_, Origin::Written(first))) => Err(format!(
                "mapping key {} already defined at line {}",
                quote(key),
                first.line
            )),
            _ => Ok(()),
        }
    }

    fn insert_written(&mut self, key: String, position: Position, node: Rc<Node>) {
        match self.index.get_mut(&key) {
            Some((at, origin)) => {
                *origin = Origin::Written(position);
                if let Some(entry) = self.entries.get_mut(*at) {
                    entry.1 = node;
                }
            }
            None => {
                self.index
                    .insert(key.clone(), (self.entries.len(), Origin::Written(position)));
                self.entries.push((key, node));
            }
        }
    }

    /// Brings in the entries of a merged mapping. Written keys always win; a later `<<` key wins
    /// over an earlier one, and within one `<<` key the first mapping listed wins.
    fn merge_entries(&mut self, entries: &[(String, Rc<Node>)], generation: u32) {
        for (key, node) in entries {
            match self.index.get_mut(key) {
                Some((at, origin)) => {
                    if let Origin::Merged(previous) = *origin
                        && previous < generation
                    {
                        *origin = Origin::Merged(generation);
                        if let Some(entry) = self.entries.get_mut(*at) {
                            entry.1 = Rc::clone(node);
                        }
                    }
                }
                None => {
                    self.index.insert(
                        key.clone(),
                        (self.entries.len(), Origin::Merged(generation)),
                    );
                    self.entries.push((key.clone(), Rc::clone(node)));
                }
            }
        }
    }

    fn merge(&mut self, item: Item) -> Result<(), String> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        self.merges += 1;
        let generation = self.merges;
        let Item::Node { node, aliased } = item else {
            return Err(WANT_MAP.into());
        };
        match &node.kind {
            Kind::Map(entries) => self.merge_entries(entries, generation),
            Kind::Seq(items) if !aliased => {
                for item in items {
                    let Kind::Map(entries) = &item.kind else {
                        return Err(WANT_MAP.into());
                    };
                    self.merge_entries(entries, generation);
                }
            }
            _ => return Err(WANT_MAP.into()),
        }
        Ok(())
    }
}

impl Frame {
    fn finish(self) -> Rc<Node> {
        let (size, depth, kind) = match self.body {
            Body::Seq(items) => {
                let size = items
                    .iter()
                    .fold(1u64, |sum, item| sum.saturating_add(item.size));
                let depth = items.iter().map(|item| item.depth).max().unwrap_or(0);
                (size, depth, Kind::Seq(items))
            }
            Body::Map(map) => {
                let size = map.entries.iter().fold(1u64, |sum, (_, value)| {
                    sum.saturating_add(1).saturating_add(value.size)
                });
                let depth = map
                    .entries
                    .iter()
                    .map(|(_, value)| value.depth)
                    .max()
                    .unwrap_or(0);
                (size, depth, Kind::Map(map.entries))
            }
        };
        Rc::new(Node {
            size,
            depth: depth + 1,
            kind,
        })
    }
}

/// Turns the events of one document into a value.
struct Builder<'t> {
    text: &'t str,
    document: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchor>,
    root: Option<(Position, Rc<Node>)>,
    /// Nodes decoded so far, aliases expanded, as go-yaml counts them.
    decoded: u64,
    /// Of those, the nodes that came from expanding aliases.
    aliased: u64,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, document: usize) -> Self {
        Builder {
            text,
            document,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            decoded: 0,
            aliased: 0,
        }
    }

    fn error(&self, position: Position, message: impl Into<String>) -> YamlError {
        YamlError::new(Some(position), self.document, message)
    }

    /// The document's value, or `None` when it is empty or null.
    fn finish(self) -> Option<(Position, Value)> {
        let (start, node) = self.root?;
        match node.to_json() {
            Value::Null => None,
            value => Some((start, value)),
        }
    }

    /// Counts decoded nodes, and refuses documents whose size comes mostly from aliases, with the
    /// allowance go-yaml v2 gives: 99% for up to 400,000 nodes, falling to 10% at 4,000,000.
    fn count(&mut self, decoded: u64, aliased: u64, position: Position) -> Result<(), YamlError> {
        self.decoded = self.decoded.saturating_add(decoded);
        self.aliased = self.aliased.saturating_add(aliased);
        if self.aliased > 100 && self.decoded > 1000 {
            const LOW: f64 = 400_000.0;
            const HIGH: f64 = 4_000_000.0;
            let decoded = self.decoded as f64;
            let allowed = if decoded <= LOW {
                0.99
            } else if decoded >= HIGH {
                0.10
            } else {
                0.99 - 0.89 * ((decoded - LOW) / (HIGH - LOW))
            };
            if self.aliased as f64 / decoded > allowed {
                return Err(self.error(position, "document contains excessive aliasing"));
            }
        }
        Ok(())
    }

    /// Whether the next node read is a mapping key.
    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                body: Body::Map(MapFrame {
                    pending: Pending::Key,
                    ..
                }),
                ..
            })
        )
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let position = Position::of(&span.start);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                self.count(1, 0, position)?;
                let (scalar, merge) = resolve_event_scalar(&value, style, tag.as_deref())
                    .map_err(|message| self.error(position, message))?;
                if anchor > 0 {
                    self.anchors.insert(anchor, Anchor::Scalar(scalar.clone()));
                }
                self.place(Item::Scalar { scalar, merge }, position)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.count(1, 0, position)?;
                if self.expecting_key() {
                    return Err(self.error(
                        position,
                        "invalid map key: a sequence or mapping cannot be a key",
                    ));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.error(position, format!("exceeded max depth of {MAX_DEPTH}")));
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, Anchor::Open);
                }
                let body = if matches!(event, Event::SequenceStart(..)) {
                    Body::Seq(Vec::new())
                } else {
                    Body::Map(MapFrame::default())
                };
                self.stack.push(Frame {
                    anchor,
                    start: position,
                    body,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(self.error(position, "unbalanced end of a collection"));
                };
                let (anchor, start) = (frame.anchor, frame.start);
                if let Body::Map(MapFrame {
                    pending: Pending::Value(..) | Pending::Merge,
                    ..
                }) = &frame.body
                {
                    return Err(self.error(position, "mapping key without a value"));
                }
                let node = frame.finish();
                if anchor > 0 {
                    self.anchors.insert(anchor, Anchor::Node(Rc::clone(&node)));
                }
                self.place(
                    Item::Node {
                        node,
                        aliased: false,
                    },
                    start,
                )
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(Anchor::Scalar(scalar)) => {
                    let scalar = scalar.clone();
                    self.count(2, 1, position)?;
                    self.place(
                        Item::Scalar {
                            scalar,
                            merge: false,
                        },
                        position,
                    )
                }
                Some(Anchor::Node(node)) => {
                    let node = Rc::clone(node);
                    self.count(node.size.saturating_add(1), node.size, position)?;
                    if self.stack.len() + node.depth > MAX_DEPTH {
                        return Err(
                            self.error(position, format!("exceeded max depth of {MAX_DEPTH}"))
                        );
                    }
                    self.place(
                        Item::Node {
                            node,
                            aliased: true,
                        },
                        position,
                    )
                }
                Some(Anchor::Open) => Err(self.error(
                    position,
                    format!("anchor '{}' value contains itself", self.alias_name(span)),
                )),
                None => Err(self.error(
                    position,
                    format!("unknown anchor '{}' referenced", self.alias_name(span)),
                )),
            },
            Event::StreamEnd => Err(self.error(position, "unexpected end of stream")),
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {
                Err(self.error(position, "unexpected start or end of a document"))
            }
        }
    }

    /// The name of the alias at `span` (only used for error messages).
    fn alias_name(&self, span: Span) -> String {
        let (start, end) = (span.start.index(), span.end.index());
        let name: String = self
            .text
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect();
        name.trim_start_matches('*').to_owned()
    }

    /// Puts a finished node in its parent (or makes it the document's root).
    fn place(&mut self, item: Item, position: Position) -> Result<(), YamlError> {
        let document = self.document;
        let error = |message: String| YamlError::new(Some(position), document, message);
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some((position, item_node(item).map_err(error)?));
            return Ok(());
        };
        match &mut frame.body {
            Body::Seq(items) => items.push(item_node(item).map_err(error)?),
            Body::Map(map) => match std::mem::take(&mut map.pending) {
                Pending::Key => match item {
                    Item::Scalar { merge: true, .. } => map.pending = Pending::Merge,
                    Item::Scalar { scalar, .. } => {
                        let key = scalar.key().map_err(error)?;
                        map.check_key(&key).map_err(error)?;
                        map.pending = Pending::Value(key, position);
                    }
                    Item::Node { .. } => {
                        return Err(error(
                            "invalid map key: a sequence or mapping cannot be a key".into(),
                        ));
                    }
                },
                Pending::Value(key, key_position) => {
                    let node = item_node(item).map_err(error)?;
                    map.insert_written(key, key_position, node);
                }
                Pending::Merge => map.merge(item).map_err(error)?,
            },
        }
        Ok(())
    }
}

/// The node of an item in value position.
fn item_node(item: Item) -> Result<Rc<Node>, String> {
    match item {
        Item::Scalar { scalar, .. } => Ok(Node::leaf(scalar.json()?)),
        Item::Node { node, .. } => Ok(node),
    }
}

/// A string quoted as in error messages.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

// ---------------------------------------------------------------------------------------------
// Scalars.

/// A resolved scalar, before it becomes a JSON value or a key.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that fits in a `u64`.
    Uint(u64),
    Float(f64),
    /// An integer too large for a `u64` (hexadecimal, octal or binary; decimal ones are floats):
    /// its value as the nearest `f64`, or `None` beyond the range of `f64`.
    Big(Option<f64>),
    Str(String),
}

impl Scalar {
    /// The JSON value, as Go's `encoding/json` writes the decoded value and `serde_json` reads it.
    fn json(&self) -> Result<Value, String> {
        Ok(match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Uint(u) => Value::from(*u),
            Scalar::Float(f) => float_json(*f)?,
            Scalar::Big(Some(f)) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Big(None) => {
                return Err("integer too large to be a JSON number".into());
            }
            Scalar::Str(s) => Value::String(s.clone()),
        })
    }

    /// The JSON object key, as `sigs.k8s.io/yaml` converts map keys.
    fn key(self) -> Result<String, String> {
        match self {
            Scalar::Str(s) => Ok(s),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::Bool(b) => Ok(b.to_string()),
            Scalar::Float(f) => Ok(format_float_key(f)),
            Scalar::Null => Err("unsupported map key: null".into()),
            Scalar::Uint(u) => Err(format!(
                "unsupported map key of type uint64: {u} (integer keys must fit in an int64)"
            )),
            Scalar::Big(_) => Err(
                "unsupported map key: integer too large (integer keys must fit in an int64)".into(),
            ),
        }
    }
}

/// The type a scalar resolves to, or that a tag asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Core {
    Str,
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
}

impl Core {
    fn short_tag(self) -> &'static str {
        match self {
            Core::Str => "!!str",
            Core::Bool => "!!bool",
            Core::Int => "!!int",
            Core::Float => "!!float",
            Core::Null => "!!null",
            Core::Timestamp => "!!timestamp",
        }
    }
}

/// The full name of a tag: `tag:yaml.org,2002:int` for `!!int`, `!foo` for a local tag, `!` for
/// the non-specific tag.
fn tag_name(tag: &Tag) -> String {
    if tag.handle.is_empty() && tag.suffix == "!" {
        "!".to_owned()
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Resolves a scalar event; the flag says whether it is a merge key (`<<`) when used as a key.
fn resolve_event_scalar(
    value: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<(Scalar, bool), String> {
    let Some(tag) = tag else {
        return Ok(if style == ScalarStyle::Plain {
            (resolve_plain(value), value == "<<")
        } else {
            (Scalar::Str(value.to_owned()), false)
        });
    };
    let name = tag_name(tag);
    let core = name.strip_prefix(CORE_TAG_PREFIX);
    // The non-specific tag `!` marks a scalar as implicit to go-yaml, hence a merge key too.
    let merge = value == "<<" && (name == "!" || core == Some("merge"));
    let wanted = match core {
        Some("binary") => return Ok((Scalar::Str(decode_binary(value)?), merge)),
        Some("str") => Core::Str,
        Some("bool") => Core::Bool,
        Some("int") => Core::Int,
        Some("float") => Core::Float,
        Some("null") => Core::Null,
        Some("timestamp") => Core::Timestamp,
        // Any other tag leaves the text as it is.
        _ => return Ok((Scalar::Str(value.to_owned()), merge)),
    };
    Ok((resolve_tagged(wanted, value)?, merge))
}

/// Resolves a plain, untagged scalar.
fn resolve_plain(text: &str) -> Scalar {
    resolve(text, false).1
}

/// Resolves a scalar with an explicit core tag, checking the type as go-yaml v2 does.
fn resolve_tagged(wanted: Core, text: &str) -> Result<Scalar, String> {
    if wanted == Core::Str {
        return Ok(Scalar::Str(text.to_owned()));
    }
    let (found, scalar) = resolve(text, wanted == Core::Timestamp);
    if found == wanted {
        return Ok(scalar);
    }
    match (wanted, scalar) {
        (Core::Float, Scalar::Int(i)) => Ok(Scalar::Float(i as f64)),
        _ => Err(format!(
            "cannot decode {} `{text}` as a {}",
            found.short_tag(),
            wanted.short_tag()
        )),
    }
}

/// The implicit typing of go-yaml v2 (`resolve.go`): the first character hints at the type, a
/// table holds the special words, numbers are tried as integers then floats.
fn resolve(text: &str, timestamps: bool) -> (Core, Scalar) {
    let bytes = text.as_bytes();
    let hint = match bytes.first() {
        None => b'M',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return (Core::Str, Scalar::Str(text.to_owned())),
    };
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return (Core::Bool, Scalar::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return (Core::Bool, Scalar::Bool(false));
        }
        "" | "~" | "null" | "Null" | "NULL" => return (Core::Null, Scalar::Null),
        ".nan" | ".NaN" | ".NAN" => return (Core::Float, Scalar::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (Core::Float, Scalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return (Core::Float, Scalar::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    let string = || (Core::Str, Scalar::Str(text.to_owned()));
    match hint {
        b'.' => match parse_dot_float(text) {
            Some(f) => (Core::Float, Scalar::Float(f)),
            None => string(),
        },
        b'S' | b'D' => {
            if timestamps && is_timestamp(bytes) {
                return (Core::Timestamp, Scalar::Str(text.to_owned()));
            }
            let plain: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'_').collect();
            if let Ok(i) = parse_int(&plain, 0) {
                return (Core::Int, Scalar::Int(i));
            }
            let unsigned = parse_uint(&plain, 0);
            if let Ok(u) = unsigned {
                return (Core::Int, Scalar::Uint(u));
            }
            if is_yaml_float(&plain)
                && let Some(f) = parse_finite(&plain)
            {
                return (Core::Float, Scalar::Float(f));
            }
            if let Some(rest) = plain.strip_prefix(b"0b") {
                if let Ok(i) = parse_int(rest, 2) {
                    return (Core::Int, Scalar::Int(i));
                }
                if let Ok(u) = parse_uint(rest, 2) {
                    return (Core::Int, Scalar::Uint(u));
                }
            } else if let Some(rest) = plain.strip_prefix(b"-0b") {
                let mut negative = Vec::with_capacity(rest.len() + 1);
                negative.push(b'-');
                negative.extend_from_slice(rest);
                if let Ok(i) = parse_int(&negative, 2) {
                    return (Core::Int, Scalar::Int(i));
                }
            }
            if unsigned == Err(NumError::Range)
                && let Some(big) = big_integer(&plain)
            {
                return (Core::Int, Scalar::Big(big));
            }
            string()
        }
        _ => string(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumError {
    Syntax,
    Range,
}

fn lower(c: u8) -> u8 {
    c | 0x20
}

/// The value of an ASCII digit or letter as a digit, if any.
fn digit_value(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        _ if lower(c).is_ascii_lowercase() => Some(u64::from(lower(c) - b'a') + 10),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, base, 64)` for text without underscores; base 0 reads a `0x`,
/// `0o`, `0b` or `0` prefix.
fn parse_uint(s: &[u8], base: u64) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let (base, digits) = if base == 0 {
        match s {
            [b'0', p, _, ..] if lower(*p) == b'b' => (2, &s[2..]),
            [b'0', p, _, ..] if lower(*p) == b'o' => (8, &s[2..]),
            [b'0', p, _, ..] if lower(*p) == b'x' => (16, &s[2..]),
            [b'0', rest @ ..] => (8, rest),
            _ => (10, s),
        }
    } else {
        (base, s)
    };
    let cutoff = u64::MAX / base + 1;
    let mut n: u64 = 0;
    for &c in digits {
        let d = match digit_value(c) {
            Some(d) if d < base => d,
            _ => return Err(NumError::Syntax),
        };
        if n >= cutoff {
            return Err(NumError::Range);
        }
        n *= base;
        n = n.checked_add(d).ok_or(NumError::Range)?;
    }
    Ok(n)
}

/// Go's `strconv.ParseInt(s, base, 64)` for text without underscores.
fn parse_int(s: &[u8], base: u64) -> Result<i64, NumError> {
    let (negative, rest) = match s {
        [b'+', rest @ ..] => (false, rest),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let magnitude = match parse_uint(rest, base) {
        Ok(n) => n,
        Err(NumError::Range) => u64::MAX,
        Err(NumError::Syntax) => return Err(NumError::Syntax),
    };
    const CUTOFF: u64 = 1 << 63;
    if negative {
        if magnitude > CUTOFF {
            return Err(NumError::Range);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else if magnitude >= CUTOFF {
        Err(NumError::Range)
    } else {
        Ok(magnitude as i64)
    }
}

/// Whether `s` is a float in go-yaml's sense:
/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &[u8]) -> bool {
    fn digits(s: &[u8], mut i: usize) -> usize {
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    }
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    if s.get(i) == Some(&b'.') {
        let end = digits(s, i + 1);
        if end == i + 1 {
            return false;
        }
        i = end;
    } else {
        let end = digits(s, i);
        if end == i {
            return false;
        }
        i = end;
        if s.get(i) == Some(&b'.') {
            i = digits(s, i + 1);
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(s, i);
        if end == i {
            return false;
        }
        i = end;
    }
    i == s.len()
}

/// Parses decimal float text that is known to be well formed; `None` when it overflows (Go's
/// `ErrRange`).
fn parse_finite(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseFloat` on text starting with `.`: digits (with `_` between digits), then an
/// optional exponent.
fn parse_dot_float(text: &str) -> Option<f64> {
    let s = text.as_bytes();
    let mut i = 1;
    let mut digits = 0;
    while let Some(&c) = s.get(i) {
        match c {
            b'0'..=b'9' => digits += 1,
            b'_' => {}
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while s.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    if i != s.len() {
        return None;
    }
    if s.contains(&b'_') && !underscores_ok(s) {
        return None;
    }
    let plain: Vec<u8> = s.iter().copied().filter(|&b| b != b'_').collect();
    parse_finite(&plain)
}

/// Go's rule for `_` in numbers: only between digits (or after a base prefix).
fn underscores_ok(s: &[u8]) -> bool {
    let s = match s {
        [b'+' | b'-', rest @ ..] => rest,
        _ => s,
    };
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if let [b'0', p, ..] = s
        && matches!(lower(*p), b'b' | b'o' | b'x')
    {
        i = 2;
        saw = b'0';
        hex = lower(*p) == b'x';
    }
    for &c in &s[i.min(s.len())..] {
        if c.is_ascii_digit() || (hex && lower(c).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `big.Int.SetString(s, 0)` for an unsigned integer too large for a `u64`: `None` when the
/// text is not an integer, else its value as the nearest `f64` (`None` inside when out of range).
fn big_integer(s: &[u8]) -> Option<Option<f64>> {
    let (base, digits): (u64, &[u8]) = match s {
        [b'0', p, rest @ ..] if lower(*p) == b'x' => (16, rest),
        [b'0', p, rest @ ..] if lower(*p) == b'o' => (8, rest),
        [b'0', p, rest @ ..] if lower(*p) == b'b' => (2, rest),
        [b'0', rest @ ..] => (8, rest),
        _ => (10, s),
    };
    if digits.is_empty()
        || !digits
            .iter()
            .all(|&c| digit_value(c).is_some_and(|d| d < base))
    {
        return None;
    }
    let significant = match digits.iter().position(|&c| c != b'0') {
        Some(first) => &digits[first..],
        None => return Some(Some(0.0)),
    };
    // More than 1100 digits is beyond 2^1100 in any base, far beyond the range of f64.
    if significant.len() > 1100 {
        return Some(None);
    }
    // The magnitude in base 2^32, least significant limb first.
    let mut limbs: Vec<u32> = Vec::new();
    for &c in significant {
        let mut carry = digit_value(c).unwrap_or(0);
        for limb in &mut limbs {
            let t = u64::from(*limb) * base + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    // Written out in decimal, so that the standard parser rounds it correctly.
    let mut chunks: Vec<u32> = Vec::new();
    while !limbs.is_empty() {
        let mut remainder = 0u64;
        for limb in limbs.iter_mut().rev() {
            let t = (remainder << 32) | u64::from(*limb);
            *limb = (t / 1_000_000_000) as u32;
            remainder = t % 1_000_000_000;
        }
        chunks.push(remainder as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut decimal = String::new();
    for (i, chunk) in chunks.iter().rev().enumerate() {
        if i == 0 {
            decimal.push_str(&chunk.to_string());
        } else {
            decimal.push_str(&format!("{chunk:09}"));
        }
    }
    Some(decimal.parse::<f64>().ok().filter(|f| f.is_finite()))
}

/// A float as Go's `encoding/json` writes it, read back by `serde_json`: integral values below
/// 1e21 are written without a fraction, so they come back as integers when they fit.
fn float_json(f: f64) -> Result<Value, String> {
    if f.is_nan() {
        return Err("json: unsupported value: NaN".into());
    }
    if f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}Inf",
            if f > 0.0 { "+" } else { "-" }
        ));
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if f.fract() == 0.0 && f.abs() < 1e21 && !(f == 0.0 && f.is_sign_negative()) {
        if (0.0..TWO_64).contains(&f) {
            return Ok(Value::from(f as u64));
        }
        if (-TWO_63..0.0).contains(&f) {
            return Ok(Value::from(f as i64));
        }
    }
    Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
}

/// A float key as `sigs.k8s.io/yaml` writes it: Go's `strconv.FormatFloat(f, 'g', -1, 32)`, with
/// `.inf`, `-.inf` and `.nan` for the special values.
fn format_float_key(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    // The shortest digits that read back as `x`, and the exponent of the first one.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let point = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{point}{rest}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    } else {
        let point = exponent + 1;
        let count = digits.len() as i32;
        if point <= 0 {
            format!(
                "{sign}0.{}{digits}",
                "0".repeat(point.unsigned_abs() as usize)
            )
        } else if point >= count {
            format!("{sign}{digits}{}", "0".repeat((point - count) as usize))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{sign}{whole}.{fraction}")
        }
    }
}

/// Whether `s` is a timestamp in one of the forms go-yaml v2 accepts: `2006-1-2`,
/// `2006-1-2T15:4:5.999999999Z07:00` (`T` or `t`) and `2006-1-2 15:4:5.999999999`.
fn is_timestamp(s: &[u8]) -> bool {
    fn number(s: &[u8], i: &mut usize) -> Option<u32> {
        let first = u32::from(s.get(*i).filter(|c| c.is_ascii_digit())? - b'0');
        *i += 1;
        match s.get(*i).filter(|c| c.is_ascii_digit()) {
            Some(c) => {
                *i += 1;
                Some(first * 10 + u32::from(c - b'0'))
            }
            None => Some(first),
        }
    }
    fn expect(s: &[u8], i: &mut usize, c: u8) -> Option<()> {
        (s.get(*i) == Some(&c)).then(|| *i += 1)
    }
    fn two_digits(s: &[u8], i: usize) -> Option<u32> {
        let (a, b) = (s.get(i)?, s.get(i + 1)?);
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    }
    fn check(s: &[u8]) -> Option<()> {
        if s.len() < 5 || !s[..4].iter().all(u8::is_ascii_digit) || s[4] != b'-' {
            return None;
        }
        let year: u32 = s[..4].iter().fold(0, |y, c| y * 10 + u32::from(c - b'0'));
        let mut i = 5;
        let month = number(s, &mut i)?;
        expect(s, &mut i, b'-')?;
        let day = number(s, &mut i)?;
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if !(1..=days).contains(&day) {
            return None;
        }
        let Some(&separator) = s.get(i) else {
            return Some(());
        };
        if !matches!(separator, b'T' | b't' | b' ') {
            return None;
        }
        i += 1;
        let hour = number(s, &mut i)?;
        expect(s, &mut i, b':')?;
        let minute = number(s, &mut i)?;
        expect(s, &mut i, b':')?;
        let second = number(s, &mut i)?;
        if hour >= 24 || minute >= 60 || second >= 60 {
            return None;
        }
        if matches!(s.get(i), Some(b'.' | b',')) && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if separator != b' ' {
            if s.get(i) == Some(&b'Z') {
                i += 1;
            } else {
                if !matches!(s.get(i), Some(b'+' | b'-')) || s.get(i + 3) != Some(&b':') {
                    return None;
                }
                let hours = two_digits(s, i + 1)?;
                let minutes = two_digits(s, i + 4)?;
                if hours > 24 || minutes > 60 {
                    return None;
                }
                i += 6;
            }
        }
        (i == s.len()).then_some(())
    }
    check(s).is_some()
}

/// The text of a `!!binary` scalar: standard base64 with padding, line breaks ignored, as Go's
/// `base64.StdEncoding`; bytes that are not UTF-8 become U+FFFD, as Go's JSON encoder does.
fn decode_binary(text: &str) -> Result<String, String> {
    const INVALID: &str = "!!binary value contains invalid base64 data";
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let clean: Vec<u8> = text.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    if !clean.len().is_multiple_of(4) {
        return Err(INVALID.into());
    }
    let mut bytes = Vec::with_capacity(clean.len() / 4 * 3);
    let quanta = clean.len() / 4;
    for (n, quantum) in clean.chunks_exact(4).enumerate() {
        let padding = quantum.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && n + 1 != quanta) {
            return Err(INVALID.into());
        }
        let mut bits = 0u32;
        for &c in &quantum[..4 - padding] {
            bits = (bits << 6) | sextet(c).ok_or(INVALID)?;
        }
        bits <<= 6 * padding;
        let [_, a, b, c] = bits.to_be_bytes();
        bytes.extend_from_slice(&[a, b, c][..3 - padding]);
    }
    Ok(lossy_utf8(&bytes))
}

/// UTF-8 text from bytes, with each byte that is not part of a valid sequence replaced by U+FFFD.
fn lossy_utf8(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                out.push_str(&String::from_utf8_lossy(valid));
                let bad = error.error_len().unwrap_or(rest.len()).min(rest.len());
                out.extend(std::iter::repeat_n('\u{FFFD}', bad));
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The single document of `text`.
    fn one(text: &str) -> Value {
        let docs = parse_documents(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(docs.len(), 1, "{text:?} gave {docs:?}");
        docs.into_iter().next().map(|d| d.value).unwrap_or_default()
    }

    /// The error `text` gives.
    fn fail(text: &str) -> YamlError {
        match parse_documents(text) {
            Ok(docs) => panic!("{text:?} parsed: {docs:?}"),
            Err(e) => e,
        }
    }

    /// The value of the scalar text `scalar` in value position.
    fn value(scalar: &str) -> Value {
        one(&format!("v: {scalar}\n"))["v"].clone()
    }

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn block_and_flow_styles_agree() {
        let block = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
      - containerPort: 80
        protocol: TCP
    args: [--a, '--b']
    command:
    -   sh
";
        let flow = r#"{apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}},
            spec: {containers: [{name: nginx, image: "nginx:1.27",
            ports: [{containerPort: 80, protocol: TCP}], args: [--a, "--b"], command: [sh]}]}}"#;
        let expected = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "nginx", "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "args": ["--a", "--b"], "command": ["sh"],
            }]},
        });
        assert_eq!(one(block), expected);
        assert_eq!(one(flow), expected);
    }

    #[test]
    fn block_scalars_and_multiline_strings() {
        let text = "a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  kept\nd: plain\n  continued\ne: \"x\\ty\\u00e9\\/\"\nf: 'it''s'\n";
        assert_eq!(
            one(text),
            json!({
                "a": "line 1\nline 2\n", "b": "folded text\npara\n", "c": "kept",
                "d": "plain continued", "e": "x\ty\u{e9}/", "f": "it's",
            })
        );
        // Block scalars are strings whatever they hold.
        assert_eq!(value("|\n  12\n"), json!("12\n"));
        assert_eq!(value(">-\n  true"), json!("true"));
    }

    #[test]
    fn booleans() {
        for text in [
            "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON",
        ] {
            assert_eq!(value(text), json!(true), "{text}");
            assert_eq!(value(&format!("'{text}'")), json!(text), "{text}");
            assert_eq!(value(&format!("\"{text}\"")), json!(text), "{text}");
        }
        for text in [
            "false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF",
        ] {
            assert_eq!(value(text), json!(false), "{text}");
            assert_eq!(value(&format!("'{text}'")), json!(text), "{text}");
        }
        for text in ["tRue", "yEs", "oN", "nO", "fALSE", "yes!", "Yess", "t", "f"] {
            assert_eq!(value(text), json!(text), "{text}");
        }
    }

    #[test]
    fn nulls() {
        for text in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(value(text), Value::Null, "{text:?}");
        }
        assert_eq!(value("''"), json!(""));
        assert_eq!(value("\"~\""), json!("~"));
        assert_eq!(value("'null'"), json!("null"));
        assert_eq!(value("nULL"), json!("nULL"));
        assert_eq!(
            one("a:\nb: ~\nc: [~, null, ]\n"),
            json!({"a": null, "b": null, "c": [null, null]})
        );
    }

    #[test]
    fn integers() {
        let cases = [
            ("0", json!(0)),
            ("12", json!(12)),
            ("+12", json!(12)),
            ("-12", json!(-12)),
            ("-0", json!(0)),
            ("0x1F", json!(31)),
            ("0X1f", json!(31)),
            ("-0x10", json!(-16)),
            ("0o17", json!(15)),
            ("0O17", json!(15)),
            ("017", json!(15)),
            ("-017", json!(-15)),
            ("0b101", json!(5)),
            ("0B101", json!(5)),
            ("-0b101", json!(-5)),
            ("0b-101", json!(-5)),
            ("1_000", json!(1000)),
            ("1__0", json!(10)),
            ("1_", json!(1)),
            ("0x_ff", json!(255)),
            ("9223372036854775807", json!(i64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("9223372036854775808", json!(9_223_372_036_854_775_808_u64)),
            ("18446744073709551615", json!(u64::MAX)),
            ("0xFFFFFFFFFFFFFFFF", json!(u64::MAX)),
            // Too large for 64 bits: decimal text reads as a float...
            (
                "18446744073709551616",
                json!(18_446_744_073_709_551_616.0_f64),
            ),
            ("-9223372036854775809", json!(i64::MIN)),
            (
                "-9223372036854777856",
                json!(-9_223_372_036_854_777_856.0_f64),
            ),
            // ... and so does octal-looking text, in decimal.
            (
                "0777777777777777777777777",
                json!(777_777_777_777_777_777_777_777.0_f64),
            ),
            // Prefixed text is a big integer, written out as a number.
            (
                "0x10000000000000000",
                json!(18_446_744_073_709_551_616.0_f64),
            ),
            // Digits that are not in the base fall back on other readings.
            ("08", json!(8)),
            ("09.5", json!(9.5)),
            ("0x", json!("0x")),
            ("0b", json!("0b")),
            ("0xG", json!("0xG")),
            ("0b2", json!("0b2")),
            ("_1", json!("_1")),
            ("1_000_", json!(1000)),
            ("-0x10000000000000000", json!("-0x10000000000000000")),
            ("1:20", json!("1:20")),
            ("1,000", json!("1,000")),
            ("+", json!("+")),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
            assert_eq!(value(&format!("'{text}'")), json!(text), "{text}");
            assert_eq!(value(&format!("\"{text}\"")), json!(text), "{text}");
        }
        assert_eq!(
            value(&format!("0b1{}", "0".repeat(70))),
            json!(2f64.powi(70))
        );
        let huge = format!("0x{}", "F".repeat(300));
        assert!(fail(&format!("v: {huge}")).message.contains("too large"));
        assert_eq!(value(&format!("'{huge}'")), json!(huge));
    }

    #[test]
    fn floats() {
        let cases = [
            ("1.5", json!(1.5)),
            ("-1.5", json!(-1.5)),
            ("+1.5", json!(1.5)),
            (".5", json!(0.5)),
            ("-.5", json!(-0.5)),
            ("+.5", json!(0.5)),
            ("0.1", json!(0.1)),
            ("1.5e-3", json!(0.0015)),
            ("6.02E23", json!(6.02e23)),
            ("1_000.5", json!(1000.5)),
            (".5_5", json!(0.55)),
            (".5e1_0", json!(5_000_000_000_u64)),
            // Integral floats are written without a fraction, as Go's JSON encoder does.
            ("1.", json!(1)),
            ("1.0", json!(1)),
            ("-2.0", json!(-2)),
            ("1e3", json!(1000)),
            ("0.0", json!(0)),
            ("1e21", json!(1e21)),
            ("1e20", json!(1e20)),
            ("-0.0", json!(-0.0)),
            // Text that overflows a float, and malformed text, stays a string.
            ("1e400", json!("1e400")),
            (".1e400", json!(".1e400")),
            ("._5", json!("._5")),
            (".5_", json!(".5_")),
            ("1.2.3", json!("1.2.3")),
            ("1e", json!("1e")),
            (".", json!(".")),
            (".e5", json!(".e5")),
            ("-.nan", json!("-.nan")),
            (".iNf", json!(".iNf")),
            ("1_e5", json!(100_000)),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
            assert_eq!(value(&format!("'{text}'")), json!(text), "{text}");
        }
        for (text, shown) in [
            (".nan", "NaN"),
            (".NaN", "NaN"),
            (".NAN", "NaN"),
            (".inf", "+Inf"),
            (".Inf", "+Inf"),
            ("+.INF", "+Inf"),
            ("-.inf", "-Inf"),
            ("-.Inf", "-Inf"),
            ("!!float .inf", "+Inf"),
        ] {
            let error = fail(&format!("v: {text}"));
            assert_eq!(
                error.message,
                format!("json: unsupported value: {shown}"),
                "{text}"
            );
            assert_eq!(error.position, at(1, 4), "{text}");
            assert_eq!(value(&format!("\"{text}\"")), json!(text));
        }
    }

    #[test]
    fn timestamps_and_other_strings_stay_strings() {
        for text in [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14T21:59:43Z",
            "2001-12-14 21:59:43.10",
            "2001-12-14 21:59:43.10 -5",
            "abc",
            "<<",
            "=",
            "a b c",
            "nginx:1.27",
            "10.0.0.1",
            "1.2.3.4/24",
            "500m",
            "1Gi",
            "0.5Gi",
            "@x",
            "`x`",
        ] {
            assert_eq!(value(&format!("'{text}'")), json!(text), "{text}");
            if !text.starts_with(['@', '`']) {
                assert_eq!(value(text), json!(text), "{text}");
            }
        }
    }

    #[test]
    fn explicit_tags() {
        let cases = [
            ("!!str 123", json!("123")),
            ("!!str true", json!("true")),
            ("!!str ~", json!("~")),
            ("!!str .nan", json!(".nan")),
            ("!!str", json!("")),
            ("!!int \"12\"", json!(12)),
            ("!!int '0x10'", json!(16)),
            ("!!int 1_0", json!(10)),
            ("!!float 1", json!(1)),
            ("!!float '2.5'", json!(2.5)),
            ("!!float -3", json!(-3)),
            ("!!bool yes", json!(true)),
            ("!!bool 'off'", json!(false)),
            ("!!null ~", Value::Null),
            ("!!null ''", Value::Null),
            ("!!null", Value::Null),
            ("!!binary aGVsbG8=", json!("hello")),
            ("!!binary |\n  aGVs\n  bG8=\n", json!("hello")),
            ("!!binary ''", json!("")),
            ("!!binary /w==", json!("\u{FFFD}")),
            ("!!binary 4oKs", json!("\u{20AC}")),
            ("!!binary 4oI=", json!("\u{FFFD}\u{FFFD}")),
            ("!!timestamp 2001-12-14", json!("2001-12-14")),
            (
                "!!timestamp 2001-2-4t1:2:3.5+01:00",
                json!("2001-2-4t1:2:3.5+01:00"),
            ),
            (
                "!!timestamp '2001-12-14 21:59:43'",
                json!("2001-12-14 21:59:43"),
            ),
            ("!custom 12", json!("12")),
            ("! 12", json!("12")),
            ("!!map 12", json!("12")),
            ("!!merge x", json!("x")),
            ("!<tag:yaml.org,2002:int> 12", json!(12)),
            ("!<tag:example.com,2000:x> 12", json!("12")),
            // Tags on collections are ignored.
            ("!!str [1, 2]", json!([1, 2])),
            ("!foo {a: 1}", json!({"a": 1})),
            ("!!seq {a: 1}", json!({"a": 1})),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
        }
        assert_eq!(
            one("%TAG !e! tag:yaml.org,2002:\n---\nv: !e!int '7'\n"),
            json!({"v": 7})
        );
        let errors = [
            ("!!int 1.5", "cannot decode !!float `1.5` as a !!int"),
            ("!!int abc", "cannot decode !!str `abc` as a !!int"),
            ("!!int ~", "cannot decode !!null `~` as a !!int"),
            ("!!int <<", "cannot decode !!str `<<` as a !!int"),
            (
                "!!float 18446744073709551615",
                "cannot decode !!int `18446744073709551615` as a !!float",
            ),
            ("!!float x", "cannot decode !!str `x` as a !!float"),
            ("!!bool 1", "cannot decode !!int `1` as a !!bool"),
            ("!!null x", "cannot decode !!str `x` as a !!null"),
            (
                "!!timestamp 2001-02-30",
                "cannot decode !!str `2001-02-30` as a !!timestamp",
            ),
            (
                "!!timestamp 2001-12-14T21:59:43",
                "cannot decode !!str `2001-12-14T21:59:43` as a !!timestamp",
            ),
            (
                "!!timestamp 12",
                "cannot decode !!int `12` as a !!timestamp",
            ),
            (
                "!!binary aGVsbG8",
                "!!binary value contains invalid base64 data",
            ),
            (
                "!!binary 'aGVs bG8='",
                "!!binary value contains invalid base64 data",
            ),
            (
                "!!binary a===",
                "!!binary value contains invalid base64 data",
            ),
            (
                "!!binary aQ==aQ==",
                "!!binary value contains invalid base64 data",
            ),
        ];
        for (text, message) in errors {
            let error = fail(&format!("x: 1\nv: {text}\n"));
            assert_eq!(error.message, message, "{text}");
            assert_eq!(error.position, at(2, 4), "{text}");
        }
    }

    #[test]
    fn json_documents() {
        let text = r#"{
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "x", "labels": {"a": "b"}},
	"data": {"yes": "no", "n": "1"},
  "list": [1, 2.5, -3, 1e2, true, false, null, "s", "\u00e9\n"],
  "empty": {}, "none": []
}"#;
        assert_eq!(
            one(text),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "x", "labels": {"a": "b"}},
                "data": {"yes": "no", "n": "1"},
                "list": [1, 2.5, -3, 100, true, false, null, "s", "\u{e9}\n"],
                "empty": {}, "none": [],
            })
        );
        assert_eq!(
            one(r#"{"a":1,"b":[true,null,{"c":"d"}]}"#),
            json!({"a": 1, "b": [true, null, {"c": "d"}]})
        );
        assert_eq!(one("[]"), json!([]));
        assert_eq!(one("\"just a string\""), json!("just a string"));
        assert_eq!(one("42"), json!(42));
    }

    #[test]
    fn multiple_documents() {
        let text = "\
# leading comment
---
---
# only a comment
---
a: 1
---
~
---
null
...
---
- x
--- |
  text
...
";
        let docs = parse_documents(text).unwrap_or_default();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].value, json!({"a": 1}));
        assert_eq!(
            (docs[0].index, docs[0].start),
            (0, Position { line: 6, column: 1 })
        );
        assert_eq!(docs[1].value, json!(["x"]));
        assert_eq!(
            (docs[1].index, docs[1].start),
            (
                1,
                Position {
                    line: 13,
                    column: 1
                }
            )
        );
        assert_eq!(docs[2].value, json!("text\n"));
        assert_eq!(docs[2].index, 2);

        for empty in [
            "",
            "\n",
            "   \n\n",
            "# c\n# d",
            "---",
            "---\n...\n---\n",
            "~",
            "--- null\n",
            "!!null",
        ] {
            assert_eq!(parse_documents(empty), Ok(vec![]), "{empty:?}");
        }
        // The start is where the content starts.
        assert_eq!(
            parse_documents("---\n\n   a: 1").map(|d| d[0].start),
            Ok(Position { line: 3, column: 4 })
        );
        // Documents come one at a time, and the iterator ends after an error.
        let mut iter = documents("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(
            iter.next().map(|d| d.map(|d| d.value)),
            Some(Ok(json!({"a": 1})))
        );
        let error = iter.next().and_then(Result::err);
        assert_eq!(error.map(|e| e.document), Some(1));
        assert_eq!(iter.next(), None);
    }

    #[test]
    fn byte_order_mark_and_line_endings() {
        let docs = parse_documents("\u{feff}a: 1\r\nb:\r\n  - 2\r\n").unwrap_or_default();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value, json!({"a": 1, "b": [2]}));
        assert_eq!(docs[0].start, Position { line: 1, column: 1 });
        assert_eq!(one("\u{feff}{\"a\": 1}"), json!({"a": 1}));
    }

    #[test]
    fn tabs_after_colons() {
        assert_eq!(
            one("a:\t1\nb:\t\ttrue\nc: \tx\n"),
            json!({"a": 1, "b": true, "c": "x"})
        );
        assert_eq!(one("{\"a\":\t1, \"b\":\t\"x\"}"), json!({"a": 1, "b": "x"}));
        // Tabs that are content stay.
        assert_eq!(
            one("a: \"x:\ty\"\nb: |\n  k:\tv\nc:\tz\n"),
            json!({"a": "x:\ty", "b": "k:\tv\n", "c": "z"})
        );
        let many: String = (0..300).map(|i| format!("k{i}:\tv{i}\n")).collect();
        assert_eq!(one(&many).as_object().map(Map::len), Some(300));
        // Documents before and after the fix-up come out once each, in order.
        let docs: Vec<_> = documents("a: 1\n---\nb:\tx\n---\nc:\tq\n---\nd: 2\n").collect();
        assert_eq!(
            docs.into_iter()
                .map(|d| d.map(|d| (d.index, d.value)))
                .collect::<Result<Vec<_>, _>>(),
            Ok(vec![
                (0, json!({"a": 1})),
                (1, json!({"b": "x"})),
                (2, json!({"c": "q"})),
                (3, json!({"d": 2})),
            ])
        );
        // Errors after the fix-up are reported as usual.
        let error = fail("a: 1\n---\nb:\tx\nc: [\n");
        assert_eq!((error.document, error.position), (1, at(5, 1)));
        // Tabs before anything but a value are still refused.
        assert!(parse_documents("a:\n\tb: 1\n").is_err());
    }

    #[test]
    fn anchors_and_aliases() {
        let text = "\
base: &b {x: 1, z: [1, 2]}
copy: *b
list: [&s hello, *s, &n 3, *n]
key: &k name
*k : value
empty: &e
again: *e
redefined: [&r 1, *r, &r 2, *r]
";
        assert_eq!(
            one(text),
            json!({
                "base": {"x": 1, "z": [1, 2]}, "copy": {"x": 1, "z": [1, 2]},
                "list": ["hello", "hello", 3, 3], "key": "name", "name": "value",
                "empty": null, "again": null, "redefined": [1, 1, 2, 2],
            })
        );
        // An alias of a scalar resolves the same way as the scalar.
        assert_eq!(
            one("a: &t yes\nb: *t\n*t : 1\n"),
            json!({"a": true, "b": true, "true": 1})
        );

        let error = fail("a: &x [1, *x]\n");
        assert_eq!(error.message, "anchor 'x' value contains itself");
        assert_eq!(error.position, at(1, 11));
        let error = fail("a: &x {b: {c: *x}}\n");
        assert_eq!(error.message, "anchor 'x' value contains itself");
        assert!(fail("a: *nope\n").message.contains("unknown anchor"));
        // Anchors do not reach across documents.
        let error = fail("a: &x 1\n---\nb: *x\n");
        assert_eq!(error.message, "unknown anchor 'x' referenced");
        assert_eq!((error.document, error.position), (1, at(3, 4)));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let aliases = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("{}: &{} [{aliases}]\n", pair[1], pair[1]));
        }
        let error = fail(&text);
        assert_eq!(error.message, "document contains excessive aliasing");
        // Ordinary reuse is fine.
        let mut text = String::from("base: &base {a: 1, b: 2, c: [1, 2, 3]}\n");
        for i in 0..200 {
            text.push_str(&format!("item{i}: {{<<: *base, i: {i}}}\n"));
        }
        assert_eq!(one(&text).as_object().map(Map::len), Some(201));
    }

    #[test]
    fn merge_keys() {
        let text = "\
defaults: &d {a: 1, b: 2}
extra: &e {b: 3, c: 4}
one: &one
  <<: *d
  b: 20
multi:
  <<: [*e, *d]
  c: 40
inline:
  <<: {z: 9}
  w: 8
written_first:
  a: 0
  <<: *d
twice:
  <<: {a: 1, b: 1}
  <<: {b: 2}
nested:
  <<: *one
  d: 4
quoted:
  \"<<\": *d
tagged:
  !!merge <<: *d
flow: {<<: *d, a: 5}
empty:
  <<: []
";
        assert_eq!(
            one(text),
            json!({
                "defaults": {"a": 1, "b": 2}, "extra": {"b": 3, "c": 4},
                "one": {"a": 1, "b": 20},
                "multi": {"a": 1, "b": 3, "c": 40},
                "inline": {"z": 9, "w": 8},
                "written_first": {"a": 0, "b": 2},
                "twice": {"a": 1, "b": 2},
                "nested": {"a": 1, "b": 20, "d": 4},
                "quoted": {"<<": {"a": 1, "b": 2}},
                "tagged": {"a": 1, "b": 2},
                "flow": {"a": 5, "b": 2},
                "empty": {},
            })
        );
        // Merged keys may repeat; written keys may not.
        assert_eq!(one("<<: [{a: 1}, {a: 2}]\n"), json!({"a": 1}));
        for bad in [
            "<<: 1\n",
            "<<:\n",
            "<<: [1]\n",
            "<<: [[{a: 1}]]\n",
            "s: &s [{a: 1}]\nm:\n  <<: *s\n",
            "s: &s 1\nm:\n  <<: *s\n",
        ] {
            let error = fail(bad);
            assert_eq!(
                error.message, "map merge requires map or sequence of maps as the value",
                "{bad:?}"
            );
        }
        assert_eq!(fail("a: 1\n<<: [2]\n").position, at(2, 5));
    }

    #[test]
    fn duplicate_keys() {
        let error = fail("a: 1\nb: 2\na: 3\n");
        assert_eq!(error.message, "mapping key \"a\" already defined at line 1");
        assert_eq!(error.position, at(3, 1));
        assert_eq!(
            error.to_string(),
            "yaml: line 3, column 1: mapping key \"a\" already defined at line 1"
        );
        assert_eq!(fail("x:\n  y: 1\n  y: 2\n").position, at(3, 3));
        assert_eq!(fail("{a: 1, a: 2}").position, at(1, 8));
        // Keys are compared as the JSON keys they become.
        assert_eq!(
            fail("1: a\n0x1: b\n").message,
            "mapping key \"1\" already defined at line 1"
        );
        assert_eq!(
            fail("true: a\nyes: b\n").message,
            "mapping key \"true\" already defined at line 1"
        );
        assert_eq!(
            fail("1: a\n\"1\": b\n").message,
            "mapping key \"1\" already defined at line 1"
        );
        assert_eq!(
            fail("\"a\\\"b\": 1\n'a\"b': 2\n").message,
            "mapping key \"a\\\"b\" already defined at line 1"
        );
        // The same key in different mappings is fine.
        assert_eq!(
            one("a: {x: 1}\nb: {x: 2}\n"),
            json!({"a": {"x": 1}, "b": {"x": 2}})
        );
    }

    #[test]
    fn non_string_keys() {
        let text = "\
1: a
-2: b
0x10: c
true: d
no: e
1.5: f
1e6: g
0.1: h
.inf: i
-.inf: j
.nan: k
3.14159265358979: l
100000.0: m
0.00001: nn
-0.0: o
2001-12-14: p
1e30: q
0.0001: r
123456789.0: s
!!binary aGk=: t
1_000: u
";
        assert_eq!(
            one(text),
            json!({
                "1": "a", "-2": "b", "16": "c", "true": "d", "false": "e", "1.5": "f",
                "1e+06": "g", "0.1": "h", ".inf": "i", "-.inf": "j", ".nan": "k",
                "3.1415927": "l", "100000": "m", "1e-05": "nn", "-0": "o", "2001-12-14": "p",
                "1e+30": "q", "0.0001": "r", "1.2345679e+08": "s", "hi": "t", "1000": "u",
            })
        );
        assert_eq!(one("1e300: x\n"), json!({".inf": "x"}));
        let errors = [
            ("~: a\n", "unsupported map key: null"),
            (": a\n", "unsupported map key: null"),
            (
                "[1]: a\n",
                "invalid map key: a sequence or mapping cannot be a key",
            ),
            (
                "{a: 1}: b\n",
                "invalid map key: a sequence or mapping cannot be a key",
            ),
            (
                "? - a\n: b\n",
                "invalid map key: a sequence or mapping cannot be a key",
            ),
            (
                "s: &s [1]\n*s : x\n",
                "invalid map key: a sequence or mapping cannot be a key",
            ),
        ];
        for (text, message) in errors {
            assert_eq!(fail(text).message, message, "{text:?}");
        }
        assert!(fail("18446744073709551615: a\n").message.contains("uint64"));
        assert!(
            fail("0x1FFFFFFFFFFFFFFFF: a\n")
                .message
                .contains("too large")
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        // Bad indentation.
        let error = fail("a:\n  b: 1\n c: 2\n");
        assert_eq!(error.position, at(3, 2), "{error}");
        // An unclosed flow sequence.
        let error = fail("a: [1, 2\nb: 3\n");
        assert_eq!(error.position, at(2, 2), "{error}");
        let error = fail("a: [1, 2\n");
        assert_eq!(error.position, at(2, 1), "{error}");
        // Tabs as indentation.
        let error = fail("a:\n\tb: 1\n");
        assert_eq!(error.position, at(2, 2), "{error}");
        assert!(error.message.contains("tab"), "{error}");
        // A mapping value where none may be.
        let error = fail("a: b: c\n");
        assert_eq!(
            error.to_string(),
            "yaml: line 1, column 5: mapping values are not allowed in this context"
        );
        // An unclosed quote.
        assert!(fail("a: \"abc\n").position.is_some());
        // Errors count the documents before them.
        assert_eq!(fail("a: 1\n---\nb: 2\n---\nc: [\n").document, 2);
        assert_eq!(fail("---\n---\nc: [\n").document, 0);
        let error = YamlError::new(None, 0, "something");
        assert_eq!(error.to_string(), "yaml: something");
    }

    #[test]
    fn depth_is_limited() {
        let nested = |depth: usize, leaf: &str| format!("{}{leaf}", "- ".repeat(depth));
        let expected = (0..MAX_DEPTH).fold(json!(1), |inner, _| json!([inner]));
        assert_eq!(one(&nested(MAX_DEPTH, "1")), expected);
        let error = fail(&nested(MAX_DEPTH + 1, "1"));
        assert_eq!(error.message, format!("exceeded max depth of {MAX_DEPTH}"));
        // Aliases cannot be used to go deeper.
        let half = MAX_DEPTH / 2 + 10;
        let text = format!(
            "a: &x\n  {}\nb:\n  {}\n",
            nested(half, "1"),
            nested(half, "*x")
        );
        assert_eq!(
            fail(&text).message,
            format!("exceeded max depth of {MAX_DEPTH}")
        );
        // The parser itself refuses flow collections nested more than 255 deep.
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(parse_documents(&deep).is_err());
        let flow = format!("{}{}", "[".repeat(255), "]".repeat(255));
        assert_eq!(parse_documents(&flow).map(|d| d.len()), Ok(1));
    }

    #[test]
    fn number_helpers() {
        assert_eq!(parse_uint(b"", 0), Err(NumError::Syntax));
        assert_eq!(parse_uint(b"0", 0), Ok(0));
        assert_eq!(parse_uint(b"18446744073709551616", 0), Err(NumError::Range));
        assert_eq!(parse_int(b"-9223372036854775809", 0), Err(NumError::Range));
        assert_eq!(parse_int(b"-", 0), Err(NumError::Syntax));
        assert_eq!(
            big_integer(b"0x10000000000000000"),
            Some(Some(18_446_744_073_709_551_616.0))
        );
        assert_eq!(big_integer(b"0xZ"), None);
        for (f, shown) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e6, "1e+06"),
            (123_456.0, "123456"),
            (1.5e-5, "1.5e-05"),
            (-2.5, "-2.5"),
            (f64::NAN, ".nan"),
            (1e100, ".inf"),
            (-1e100, "-.inf"),
            (16_777_217.0, "1.6777216e+07"),
        ] {
            assert_eq!(format_float_key(f), shown, "{f}");
        }
        assert_eq!(lossy_utf8(b"a\xffb\xe2\x82"), "a\u{FFFD}b\u{FFFD}\u{FFFD}");
    }

    /// Every manifest of the shared corpus reads, with at least one document.
    #[test]
    fn shared_manifests_parse() {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    found.push(path);
                }
            }
        }
        let root = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/manifests"
        ));
        let mut files = Vec::new();
        walk(root, &mut files);
        assert!(!files.is_empty(), "no manifests under {}", root.display());
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            match parse_documents(&text) {
                Ok(docs) => assert!(!docs.is_empty(), "{}: no documents", file.display()),
                Err(error) => panic!("{}: {error}", file.display()),
            }
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let text = "[\\PC\\t\\n\\r\\x01\\x7f]{0,10}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map(text, inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// What a JSON value reads back as: integral floats become integers, as Go writes them.
    fn normalized(value: &Value) -> Value {
        match value {
            Value::Number(n) if n.is_f64() => n
                .as_f64()
                .map_or(Value::Null, |f| float_json(f).unwrap_or(Value::Null)),
            Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), normalized(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn yaml_ish() -> impl Strategy<Value = String> {
        let pieces = vec![
            "a",
            "b",
            "-",
            "- ",
            " ",
            "  ",
            "\n",
            ":",
            ": ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&a ",
            "*a",
            "*a ",
            "!!int ",
            "!!binary ",
            "!x ",
            "'",
            "\"",
            "#",
            "<<",
            "? ",
            "|",
            ">",
            "\t",
            "1",
            "0x1",
            ".5",
            "~",
            "---",
            "...",
            "%TAG ! x\n",
            "\\",
            "yes",
            "\u{feff}",
            "\r",
            "%YAML 1.2\n",
        ];
        proptest::collection::vec(proptest::sample::select(pieces), 0..48).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_documents(&text);
        }

        #[test]
        fn yaml_like_text_never_panics(text in yaml_ish()) {
            let _ = parse_documents(&text);
        }

        #[test]
        fn json_text_reads_back(value in json_value()) {
            let expected = normalized(&value);
            for text in [
                serde_json::to_string(&value).unwrap_or_default(),
                serde_json::to_string_pretty(&value).unwrap_or_default(),
            ] {
                let docs = parse_documents(&text);
                let values: Result<Vec<Value>, YamlError> =
                    docs.map(|docs| docs.into_iter().map(|d| d.value).collect());
                if value.is_null() {
                    prop_assert_eq!(values, Ok(vec![]));
                } else {
                    prop_assert_eq!(values, Ok(vec![expected.clone()]), "{}", text);
                }
            }
        }
    }
}
