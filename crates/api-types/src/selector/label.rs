//! Label selectors: the `?labelSelector=` grammar, its requirements and matching.
//!
//! The grammar is upstream's (`k8s.io/apimachinery/pkg/labels.Parse`):
//!
//! ```text
//! selector    = requirement *( "," requirement )      ; ANDed; the empty string selects all
//! requirement = [ "!" ] KEY                           ; exists / does not exist
//!             | KEY ( "in" | "notin" ) "(" [ VALUE *( "," VALUE ) ] ")"
//!             | KEY ( "=" | "==" | "!=" ) [ VALUE ]
//!             | KEY ( ">" | "<" ) INTEGER
//! ```
//!
//! Keys are qualified names (`[prefix/]name`), values label values; blanks (space, tab, CR, LF)
//! separate tokens. Parsing sorts the requirements by key and the values of each requirement,
//! so printing a parsed selector gives a canonical string that parses back to the same selector.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::validate::{BadValue, FieldError, Path};

use super::go_quote;
use crate::validate::names::{
    is_qualified_name as qualified_name_errors, is_valid_label_value as label_value_errors,
};

/// How a [`Requirement`] relates a label's value to its values (upstream's `selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `key in (a,b)`: the label is present and its value is one of the values.
    In,
    /// `key notin (a,b)`: the label is absent, or its value is none of the values.
    NotIn,
    /// `key=a`: the label is present with that value.
    Equals,
    /// `key==a`: the same as [`Operator::Equals`], printed with two signs.
    DoubleEquals,
    /// `key!=a`: the label is absent, or has another value.
    NotEquals,
    /// `key`: the label is present.
    Exists,
    /// `!key`: the label is absent.
    DoesNotExist,
    /// `key>1`: the label is present and, read as an integer, greater than the value.
    GreaterThan,
    /// `key<1`: the label is present and, read as an integer, less than the value.
    LessThan,
}

impl Operator {
    /// The operator's name as upstream spells it (`in`, `notin`, `=`, `==`, `!=`, `exists`, `!`,
    /// `gt`, `lt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Invalid parts of a [`Requirement`]: every problem found, each a [`FieldError`] with
/// upstream's path (`key`, `values`, `values[0][app]`) and message.
///
/// It prints as upstream's aggregate: the message alone when there is one, otherwise
/// `[first, second]`, duplicates left out.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", aggregate(.errors))]
pub struct RequirementError {
    errors: Vec<FieldError>,
}

impl RequirementError {
    /// The individual errors, in the order they were found.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

fn aggregate(errors: &[FieldError]) -> String {
    let mut seen = BTreeSet::new();
    let mut messages = Vec::new();
    for error in errors {
        let message = error.to_string();
        if seen.insert(message.clone()) {
            messages.push(message);
        }
    }
    match messages.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// What the parser expected where it found something else; part of
/// [`ParseError::UnexpectedToken`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expected {
    /// After a requirement: a comma or the end of the input.
    CommaOrEnd,
    /// After a comma: another requirement.
    IdentifierAfterComma,
    /// At the start of the input: `!`, a key or the end of the input.
    RequirementStart,
    /// After `!`: a key.
    Key,
    /// After a key: an operator.
    Operator,
    /// After `in` or `notin`: an opening parenthesis.
    OpenParen,
    /// After `(`: a value, a comma or `)`.
    ValueListStart,
    /// After a value list: `)`.
    CloseParen,
    /// After a value in a list: a comma or `)`.
    CommaOrCloseParen,
    /// After a comma in a value list: a value or another comma.
    CommaOrValue,
    /// After `=`, `==`, `!=`, `>` or `<`: a value.
    Value,
}

impl Expected {
    /// Whether upstream reports this inside a requirement (`unable to parse requirement: ...`).
    fn in_requirement(self) -> bool {
        !matches!(
            self,
            Expected::CommaOrEnd | Expected::IdentifierAfterComma | Expected::RequirementStart
        )
    }

    /// The text upstream prints after `found '<token>'`.
    fn suffix(self) -> &'static str {
        match self {
            Expected::CommaOrEnd => ", expected: ',' or 'end of string'",
            Expected::IdentifierAfterComma => ", expected: identifier after ','",
            Expected::RequirementStart => ", expected: !, identifier, or 'end of string'",
            Expected::Key | Expected::Value => ", expected: identifier",
            Expected::Operator => ", expected: in, notin, =, ==, !=, gt, lt",
            Expected::OpenParen => " expected: '('",
            Expected::ValueListStart => ", expected: ',', ')' or identifier",
            Expected::CloseParen => ", expected: ')'",
            Expected::CommaOrCloseParen => ", expected: ',' or ')'",
            Expected::CommaOrValue => ", expected: ',', or identifier",
        }
    }
}

/// Why a label selector string does not parse. The messages are upstream's, word for word;
/// [`ParseError::offset`] tells where in the input (a byte offset) the problem is.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// A token where the grammar allows something else (`found ')', expected: identifier`).
    #[error(
        "{}found '{found}'{}",
        if expected.in_requirement() { "unable to parse requirement: " } else { "" },
        expected.suffix()
    )]
    UnexpectedToken {
        /// The token found (empty at the end of the input).
        found: String,
        /// What the grammar allows there.
        expected: Expected,
        /// Byte offset of the token in the input.
        offset: usize,
    },
    /// A key that is not a qualified name.
    #[error("unable to parse requirement: {error}")]
    InvalidKey {
        /// The key, its path (`<nil>`, as upstream prints it) and the reasons.
        error: FieldError,
        /// Byte offset of the key in the input.
        offset: usize,
    },
    /// A well-formed requirement with invalid values (`x in (a b)`, `x<a`, `x=-`).
    #[error("unable to parse requirement: {error}")]
    InvalidRequirement {
        /// The problems with the requirement.
        error: RequirementError,
        /// Byte offset of the requirement's key in the input.
        offset: usize,
    },
}

impl ParseError {
    /// Byte offset in the input where the problem is.
    pub fn offset(&self) -> usize {
        match self {
            ParseError::UnexpectedToken { offset, .. }
            | ParseError::InvalidKey { offset, .. }
            | ParseError::InvalidRequirement { offset, .. } => *offset,
        }
    }
}

/// One condition on one label: a key, an [`Operator`] and the values it compares with.
///
/// Built by the parser, by [`Requirement::new`] (which validates as upstream's
/// `NewRequirement` does), or from a `LabelSelector`'s `matchLabels` and `matchExpressions`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// A validated requirement, with upstream's rules: the key is a qualified name; `in` and
    /// `notin` need at least one value, `=`, `==` and `!=` exactly one, `exists` and `!` none,
    /// `gt` and `lt` exactly one integer; every value is a valid label value.
    ///
    /// The values are kept in the given order (printing sorts them).
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, RequirementError> {
        let key = key.into();
        let mut errors = Vec::new();
        let key_errors = qualified_name_errors(&key);
        if !key_errors.is_empty() {
            errors.push(FieldError::invalid(
                &Path::new("key"),
                key.as_str(),
                key_errors.join("; "),
            ));
        }
        let values_path = Path::new("values");
        // Go's `%#v` of the values, as upstream prints them; no values print as the nil slice
        // that `LabelSelectorAsSelector` passes for a missing or empty `values`.
        let all_values = || {
            if values.is_empty() {
                BadValue::Raw("[]string(nil)".to_owned())
            } else {
                let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
                BadValue::Raw(format!("[]string{{{}}}", quoted.join(", ")))
            }
        };
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errors.push(FieldError::invalid(
                        &values_path,
                        all_values(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errors.push(FieldError::invalid(
                        &values_path,
                        all_values(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errors.push(FieldError::invalid(
                        &values_path,
                        all_values(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errors.push(FieldError::invalid(
                        &values_path,
                        all_values(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, value) in values.iter().enumerate() {
                    if value.parse::<i64>().is_err() {
                        errors.push(FieldError::invalid(
                            &values_path.index(i),
                            value.as_str(),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, value) in values.iter().enumerate() {
            let value_errors = label_value_errors(value);
            if !value_errors.is_empty() {
                errors.push(FieldError::invalid(
                    &values_path.index(i).key(&key),
                    value.as_str(),
                    value_errors.join("; "),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Requirement {
                key,
                operator,
                values,
            })
        } else {
            Err(RequirementError { errors })
        }
    }

    /// A `key=value` requirement without validation (upstream's `SelectorFromValidatedSet`
    /// builds these): the caller vouches for the key and value.
    pub(crate) fn equals_unchecked(key: &str, value: &str) -> Self {
        Requirement {
            key: key.to_owned(),
            operator: Operator::Equals,
            values: vec![value.to_owned()],
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given (sorted and without duplicates when parsed).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// Whether a label set satisfies this requirement.
    pub fn matches(&self, labels: &(impl Labels + ?Sized)) -> bool {
        self.matches_with(|key| labels.label(key))
    }

    /// Whether the labels that `lookup` reads satisfy this requirement; `lookup` returns a
    /// label's value, `None` when the label is absent.
    ///
    /// `notin` and `!=` hold for an absent label; `>` and `<` hold only when both the label's
    /// value and the requirement's value read as 64-bit integers.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        let found = lookup(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                found.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => found.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => found.is_some(),
            Operator::DoesNotExist => found.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(Ok(actual)) = found.map(str::parse::<i64>) else {
                    return false;
                };
                let [wanted] = self.values.as_slice() else {
                    return false;
                };
                let Ok(wanted) = wanted.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > wanted
                } else {
                    actual < wanted
                }
            }
        }
    }
}

/// Prints as upstream: `!key`, `key`, `key=v`, `key==v`, `key!=v`, `key>1`, `key<1`,
/// `key in (a,b)`, `key notin (a,b)`; set values sorted, without duplicates.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, parens) = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
        };
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        if let [only] = self.values.as_slice() {
            f.write_str(only)?;
        } else {
            let sorted: BTreeSet<&str> = self.values.iter().map(String::as_str).collect();
            for (i, value) in sorted.into_iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                f.write_str(value)?;
            }
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A set of labels that selectors match against (upstream's `labels.Labels`).
pub trait Labels {
    /// The value of label `key`; `None` when the label is absent.
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for crate::SortedMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> Labels for std::collections::HashMap<String, String, S> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<T: Labels + ?Sized> Labels for &T {
    fn label(&self, key: &str) -> Option<&str> {
        (**self).label(key)
    }
}

/// A label selector: requirements that must all hold, kept sorted by key.
///
/// Two selectors are special: [`Selector::everything`] (no requirement, the empty string)
/// matches every label set, and [`Selector::nothing`] (what an absent `LabelSelector`
/// converts to) matches none.
///
/// ```
/// use std::collections::BTreeMap;
/// use kubernaut_api_types::selector::Selector;
///
/// let selector = Selector::parse("env notin (prod), tier=front").unwrap();
/// let labels = BTreeMap::from([("tier".to_owned(), "front".to_owned())]);
/// assert!(selector.matches(&labels));
/// assert_eq!(selector.to_string(), "env notin (prod),tier=front");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// The selector that matches every label set (upstream's `Everything`).
    pub fn everything() -> Self {
        Selector::default()
    }

    /// The selector that matches no label set (upstream's `Nothing`). It prints as the empty
    /// string, like upstream's, so printing does not tell it from [`Selector::everything`].
    pub fn nothing() -> Self {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses a selector string (upstream's `labels.Parse`). The empty string (or blanks)
    /// gives [`Selector::everything`].
    pub fn parse(selector: &str) -> Result<Self, ParseError> {
        Ok(Selector {
            requirements: Parser::new(selector).parse()?,
            nothing: false,
        })
    }

    /// A selector from requirements, sorted by key (the order among equal keys is kept).
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        let mut requirements: Vec<Requirement> = requirements.into_iter().collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements,
            nothing: false,
        }
    }

    /// A selector requiring every label of `labels` with its value, without validating them
    /// (upstream's `SelectorFromSet`); an empty set gives [`Selector::everything`].
    pub fn from_set<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        Selector {
            requirements: labels
                .into_iter()
                .map(|(k, v)| Requirement::equals_unchecked(k, v))
                .collect(),
            nothing: false,
        }
    }

    /// Like [`Selector::from_set`], but validating each key and value (upstream's
    /// `ValidatedSelectorFromSet`).
    pub fn try_from_set<'a>(
        labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self, RequirementError> {
        let requirements = labels
            .into_iter()
            .map(|(k, v)| Requirement::new(k.as_str(), Operator::Equals, vec![v.clone()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector {
            requirements,
            nothing: false,
        })
    }

    /// This selector with one more requirement (upstream's `Add`); adding to
    /// [`Selector::nothing`] leaves it as it is.
    #[must_use]
    pub fn add_requirement(mut self, requirement: Requirement) -> Self {
        if !self.nothing {
            self.requirements.push(requirement);
            self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
        }
        self
    }

    /// The requirements, sorted by key; none for [`Selector::everything`] and
    /// [`Selector::nothing`].
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether this selector restricts nothing, i.e. matches every label set (upstream's
    /// `Empty`). False for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether this is [`Selector::nothing`], which matches no label set.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: &(impl Labels + ?Sized)) -> bool {
        self.matches_with(|key| labels.label(key))
    }

    /// Whether the labels that `lookup` reads satisfy every requirement; `lookup` returns a
    /// label's value, `None` when the label is absent.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches_with(&lookup))
    }

    /// The value that the first requirement on `label` demands, when it demands exactly one
    /// (`label=v`, `label==v`, `label in (v)`); upstream's `RequiresExactMatch`.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let requirement = self.requirements.iter().find(|r| r.key == label)?;
        match (requirement.operator, requirement.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [value]) => {
                Some(value.as_str())
            }
            _ => None,
        }
    }
}

/// Prints as upstream's `String()`: the requirements joined by `,`; the empty string for
/// [`Selector::everything`] and [`Selector::nothing`].
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            fmt::Display::fmt(requirement, f)?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer and parser.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

#[derive(Clone, Copy, Debug)]
struct Item<'a> {
    token: Token,
    literal: &'a str,
    offset: usize,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn special_token(symbol: &[u8]) -> Option<Token> {
    Some(match symbol {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

/// Upstream's byte lexer. A NUL byte reads as the end of the input, as upstream's does: at the
/// start of a token it ends the input; right after an identifier or a symbol it is skipped.
struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn read(&mut self) -> u8 {
        match self.input.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn lex(&mut self) -> Item<'a> {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return Item {
                token: Token::EndOfString,
                literal: "",
                offset: self.pos,
            };
        }
        self.unread();
        if is_special(ch) {
            self.scan_special()
        } else {
            self.scan_identifier()
        }
    }

    fn scan_identifier(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut end = start;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            end = self.pos;
        }
        // Every delimiter is ASCII, so `start..end` falls on character boundaries.
        let literal = self.input.get(start..end).unwrap_or_default();
        let token = match literal {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Identifier,
        };
        Item {
            token,
            literal,
            offset: start,
        }
    }

    fn scan_special(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut len = 0;
        let mut best: Option<(Token, usize)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special(ch) {
                self.unread();
                break;
            }
            len += 1;
            let symbol = self
                .input
                .as_bytes()
                .get(start..start + len)
                .unwrap_or_default();
            match special_token(symbol) {
                Some(token) => best = Some((token, len)),
                None if best.is_some() => {
                    self.unread();
                    break;
                }
                None => {}
            }
        }
        // Every single special symbol is a token, so `best` is always set.
        let (token, len) = best.unwrap_or((Token::Identifier, len));
        Item {
            token,
            literal: self.input.get(start..start + len).unwrap_or_default(),
            offset: start,
        }
    }
}

/// In a value position `in` and `notin` are plain identifiers (`x in (in,notin)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser<'a> {
    items: Vec<Item<'a>>,
    position: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        let mut lexer = Lexer { input, pos: 0 };
        let mut items = Vec::new();
        loop {
            let item = lexer.lex();
            items.push(item);
            if item.token == Token::EndOfString {
                break;
            }
        }
        Parser {
            items,
            position: 0,
            end: input.len(),
        }
    }

    fn lookahead(&self, context: Context) -> Item<'a> {
        let mut item = self.items.get(self.position).copied().unwrap_or(Item {
            token: Token::EndOfString,
            literal: "",
            offset: self.end,
        });
        if context == Context::Values && matches!(item.token, Token::In | Token::NotIn) {
            item.token = Token::Identifier;
        }
        item
    }

    fn consume(&mut self, context: Context) -> Item<'a> {
        let item = self.lookahead(context);
        if self.position < self.items.len() {
            self.position += 1;
        }
        item
    }

    fn unexpected(item: Item<'_>, expected: Expected) -> ParseError {
        ParseError::UnexpectedToken {
            found: item.literal.to_owned(),
            expected,
            offset: item.offset,
        }
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, ParseError> {
        let mut requirements = Vec::new();
        loop {
            let item = self.lookahead(Context::Values);
            match item.token {
                Token::Identifier | Token::DoesNotExist => {
                    requirements.push(self.parse_requirement()?);
                    let next = self.consume(Context::Values);
                    match next.token {
                        Token::EndOfString => break,
                        Token::Comma => {
                            let after = self.lookahead(Context::Values);
                            if !matches!(after.token, Token::Identifier | Token::DoesNotExist) {
                                return Err(Self::unexpected(
                                    after,
                                    Expected::IdentifierAfterComma,
                                ));
                            }
                        }
                        _ => return Err(Self::unexpected(next, Expected::CommaOrEnd)),
                    }
                }
                Token::EndOfString => break,
                _ => return Err(Self::unexpected(item, Expected::RequirementStart)),
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(requirements)
    }

    fn parse_requirement(&mut self) -> Result<Requirement, ParseError> {
        let (key, offset, inferred) = self.parse_key_and_infer_operator()?;
        let (operator, values) = match inferred {
            Some(operator) => (operator, BTreeSet::new()),
            None => {
                let operator = self.parse_operator()?;
                let values = match operator {
                    Operator::In | Operator::NotIn => self.parse_values()?,
                    _ => self.parse_exact_value()?,
                };
                (operator, values)
            }
        };
        let values = values.into_iter().map(str::to_owned).collect();
        Requirement::new(key, operator, values)
            .map_err(|error| ParseError::InvalidRequirement { error, offset })
    }

    /// The key, its offset, and the operator when the key alone decides it (`!key`, `key`).
    fn parse_key_and_infer_operator(
        &mut self,
    ) -> Result<(&'a str, usize, Option<Operator>), ParseError> {
        let mut operator = None;
        let mut item = self.consume(Context::Values);
        if item.token == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            item = self.consume(Context::Values);
        }
        if item.token != Token::Identifier {
            return Err(Self::unexpected(item, Expected::Key));
        }
        let reasons = qualified_name_errors(item.literal);
        if !reasons.is_empty() {
            return Err(ParseError::InvalidKey {
                error: FieldError::invalid(&Path::new("<nil>"), item.literal, reasons.join("; ")),
                offset: item.offset,
            });
        }
        let next = self.lookahead(Context::Values).token;
        if operator.is_none() && matches!(next, Token::EndOfString | Token::Comma) {
            operator = Some(Operator::Exists);
        }
        Ok((item.literal, item.offset, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, ParseError> {
        let item = self.consume(Context::KeyAndOperator);
        Ok(match item.token {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(Self::unexpected(item, Expected::Operator)),
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<&'a str>, ParseError> {
        let open = self.consume(Context::Values);
        if open.token != Token::OpenPar {
            return Err(Self::unexpected(open, Expected::OpenParen));
        }
        let first = self.lookahead(Context::Values);
        match first.token {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                if self.consume(Context::Values).token != Token::ClosedPar {
                    // Upstream reports the token after `(` here (unreachable in practice: the
                    // list only ends before `)`).
                    return Err(Self::unexpected(first, Expected::CloseParen));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([""]))
            }
            _ => Err(Self::unexpected(first, Expected::ValueListStart)),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<&'a str>, ParseError> {
        let mut values = BTreeSet::new();
        loop {
            let item = self.consume(Context::Values);
            match item.token {
                Token::Identifier => {
                    values.insert(item.literal);
                    let next = self.lookahead(Context::Values);
                    match next.token {
                        Token::Comma => {}
                        Token::ClosedPar => return Ok(values),
                        _ => return Err(Self::unexpected(next, Expected::CommaOrCloseParen)),
                    }
                }
                Token::Comma => {
                    // A leading, doubled or trailing comma stands for the empty value.
                    if values.is_empty() {
                        values.insert("");
                    }
                    match self.lookahead(Context::Values).token {
                        Token::ClosedPar => {
                            values.insert("");
                            return Ok(values);
                        }
                        Token::Comma => {
                            self.consume(Context::Values);
                            values.insert("");
                        }
                        _ => {}
                    }
                }
                _ => return Err(Self::unexpected(item, Expected::CommaOrValue)),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<&'a str>, ParseError> {
        if matches!(
            self.lookahead(Context::Values).token,
            Token::EndOfString | Token::Comma
        ) {
            return Ok(BTreeSet::from([""]));
        }
        let item = self.consume(Context::Values);
        if item.token == Token::Identifier {
            Ok(BTreeSet::from([item.literal]))
        } else {
            Err(Self::unexpected(item, Expected::Value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type LabelSet<'a> = &'a [(&'a str, &'a str)];

    fn labels(pairs: LabelSet<'_>) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        match Requirement::new(key, operator, values) {
            Ok(r) => r,
            Err(e) => panic!("requirement {key} {operator}: {e}"),
        }
    }

    fn tokens(input: &str) -> Vec<(Token, &str)> {
        let mut lexer = Lexer { input, pos: 0 };
        let mut out = Vec::new();
        loop {
            let item = lexer.lex();
            if item.token == Token::EndOfString {
                return out;
            }
            out.push((item.token, item.literal));
        }
    }

    // Upstream TestSelectorParse: good strings print back without their blanks.
    #[test]
    fn parse_and_print_upstream_strings() {
        let good = [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            "x=",
            "x= ",
            "x=,z= ",
            "x= ,z= ",
            "!x",
            "x>1",
            "x>1,z<5",
        ];
        for input in good {
            let selector = Selector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(selector.to_string(), input.replace(' ', ""), "{input:?}");
        }
        for input in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            assert!(
                Selector::parse(input).is_err(),
                "{input:?} should not parse"
            );
        }
    }

    // Upstream TestDeterministicParse.
    #[test]
    fn parse_is_deterministic() {
        let a = Selector::parse("x=a,a=x").unwrap_or_default();
        let b = Selector::parse("a=x,x=a").unwrap_or_default();
        assert_eq!(a.to_string(), "a=x,x=a");
        assert_eq!(a, b);
    }

    // Upstream TestSelectorMatches.
    #[test]
    fn selector_matches_upstream_cases() {
        let cases: &[(&str, LabelSet<'_>, bool)] = &[
            ("", &[("x", "y")], true),
            ("x=y", &[("x", "y")], true),
            ("x=y,z=w", &[("x", "y"), ("z", "w")], true),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")], true),
            ("notin=in", &[("notin", "in")], true),
            ("x", &[("x", "z")], true),
            ("!x", &[("y", "z")], true),
            ("x>1", &[("x", "2")], true),
            ("x<1", &[("x", "0")], true),
            ("x=z", &[], false),
            ("x=y", &[("x", "z")], false),
            ("x=y,z=w", &[("x", "w"), ("z", "w")], false),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")], false),
            ("x", &[("y", "z")], false),
            ("!x", &[("x", "z")], false),
            ("x>1", &[("x", "0")], false),
            ("x<1", &[("x", "2")], false),
            ("foo=bar", &[("foo", "bar"), ("baz", "blah")], true),
            ("baz=blah", &[("foo", "bar"), ("baz", "blah")], true),
            ("foo=bar,baz=blah", &[("foo", "bar"), ("baz", "blah")], true),
            ("foo=blah", &[("foo", "bar"), ("baz", "blah")], false),
            ("baz=bar", &[("foo", "bar"), ("baz", "blah")], false),
            (
                "foo=bar,foobar=bar,baz=blah",
                &[("foo", "bar"), ("baz", "blah")],
                false,
            ),
            // Absent keys: notin and != hold, in and = do not, gt/lt do not.
            ("x notin (a)", &[], true),
            ("x!=a", &[], true),
            ("x in (a)", &[], false),
            ("x>1", &[], false),
            ("x<1", &[("x", "a")], false),
            ("x in (a,b)", &[("x", "b")], true),
            ("x notin (a,b)", &[("x", "b")], false),
            ("x notin (a,b)", &[("x", "c")], true),
            ("x in ()", &[("x", "")], true),
            ("x=", &[("x", "")], true),
            ("x=", &[], false),
            ("x>1", &[("x", "+2")], true),
            (
                "x<9223372036854775807",
                &[("x", "9223372036854775808")],
                false,
            ),
        ];
        for (selector, set, want) in cases {
            let parsed = Selector::parse(selector).unwrap_or_else(|e| panic!("{selector:?}: {e}"));
            assert_eq!(
                parsed.matches(&labels(set)),
                *want,
                "{selector:?} on {set:?}"
            );
        }
    }

    // Upstream TestSetMatches / TestNilMapIsValid / TestSetIsEmpty / TestEverything.
    #[test]
    fn set_selectors() {
        let set = labels(&[("foo", "bar"), ("baz", "blah")]);
        for wanted in [
            labels(&[]),
            labels(&[("foo", "bar")]),
            labels(&[("baz", "blah")]),
            labels(&[("foo", "bar"), ("baz", "blah")]),
        ] {
            assert!(Selector::from_set(&wanted).matches(&set), "{wanted:?}");
        }
        assert!(!Selector::from_set(&labels(&[("foo", "baz")])).matches(&set));
        assert!(Selector::from_set(&labels(&[])).is_empty());
        assert!(Selector::everything().is_empty());
        assert!(Selector::everything().matches(&labels(&[("x", "y")])));
        assert_eq!(
            Selector::from_set(&labels(&[("b", "2"), ("a", "1")])).to_string(),
            "a=1,b=2"
        );
        assert!(Selector::try_from_set(&labels(&[("a b", "1")])).is_err());
        assert!(Selector::try_from_set(&labels(&[("a", "1")])).is_ok());
    }

    #[test]
    fn nothing_selector() {
        let nothing = Selector::nothing();
        assert!(!nothing.matches(&labels(&[])));
        assert!(!nothing.is_empty());
        assert!(nothing.is_nothing());
        assert_eq!(nothing.to_string(), "");
        let still = nothing.add_requirement(req("x", Operator::Exists, &[]));
        assert!(still.is_nothing() && still.requirements().is_empty());
    }

    // Upstream TestLexer.
    #[test]
    fn lexer_single_tokens() {
        let cases = [
            ("", None),
            (",", Some(Token::Comma)),
            ("notin", Some(Token::NotIn)),
            ("in", Some(Token::In)),
            ("=", Some(Token::Equals)),
            ("==", Some(Token::DoubleEquals)),
            (">", Some(Token::GreaterThan)),
            ("<", Some(Token::LessThan)),
            ("!", Some(Token::DoesNotExist)),
            ("!=", Some(Token::NotEquals)),
            ("(", Some(Token::OpenPar)),
            (")", Some(Token::ClosedPar)),
            ("~", Some(Token::Identifier)),
            ("||", Some(Token::Identifier)),
        ];
        for (input, want) in cases {
            let got = tokens(input);
            match want {
                None => assert!(got.is_empty()),
                Some(token) => assert_eq!(got, [(token, input)], "{input:?}"),
            }
        }
    }

    // Upstream TestLexerSequence.
    #[test]
    fn lexer_sequences() {
        use Token::*;
        let cases: &[(&str, &[Token])] = &[
            (
                "key in ( value )",
                &[Identifier, In, OpenPar, Identifier, ClosedPar],
            ),
            (
                "key notin ( value )",
                &[Identifier, NotIn, OpenPar, Identifier, ClosedPar],
            ),
            (
                "key in ( value1, value2 )",
                &[
                    Identifier, In, OpenPar, Identifier, Comma, Identifier, ClosedPar,
                ],
            ),
            ("key", &[Identifier]),
            ("!key", &[DoesNotExist, Identifier]),
            ("()", &[OpenPar, ClosedPar]),
            (
                "x in (),y",
                &[Identifier, In, OpenPar, ClosedPar, Comma, Identifier],
            ),
            (
                "== != (), = notin",
                &[
                    DoubleEquals,
                    NotEquals,
                    OpenPar,
                    ClosedPar,
                    Comma,
                    Equals,
                    NotIn,
                ],
            ),
            ("key>2", &[Identifier, GreaterThan, Identifier]),
            ("key<1", &[Identifier, LessThan, Identifier]),
            ("!!=", &[DoesNotExist, NotEquals]),
            ("===", &[DoubleEquals, Equals]),
        ];
        for (input, want) in cases {
            let got: Vec<Token> = tokens(input).into_iter().map(|(t, _)| t).collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    #[test]
    fn nul_bytes_behave_as_upstream() {
        // At the start of a token a NUL ends the input; after a token it is skipped.
        assert_eq!(
            Selector::parse("a=b \0junk").map(|s| s.to_string()),
            Ok("a=b".to_owned())
        );
        assert_eq!(
            Selector::parse("a=\0b").map(|s| s.to_string()),
            Ok("a=b".to_owned())
        );
        assert!(Selector::parse("a=b\0junk").is_err());
    }

    // Upstream TestRequirementConstructor.
    #[test]
    fn requirement_constructor() {
        let cases: &[(&str, Operator, &[&str], bool)] = &[
            ("x", Operator::In, &[], false),
            ("x", Operator::NotIn, &[], false),
            ("x", Operator::In, &["foo"], true),
            ("x", Operator::NotIn, &["foo"], true),
            ("x", Operator::Exists, &[], true),
            ("x", Operator::DoesNotExist, &[], true),
            ("1foo", Operator::In, &["bar"], true),
            ("1234", Operator::In, &["bar"], true),
            ("y", Operator::GreaterThan, &["1"], true),
            ("z", Operator::LessThan, &["6"], true),
            ("foo", Operator::GreaterThan, &["bar"], false),
            ("barz", Operator::LessThan, &["blah"], false),
            ("x", Operator::Equals, &["a", "b"], false),
            ("x", Operator::Exists, &["a"], false),
            ("x", Operator::GreaterThan, &["1", "2"], false),
        ];
        for (key, op, values, ok) in cases {
            let values = values.iter().map(|v| (*v).to_owned()).collect();
            assert_eq!(
                Requirement::new(*key, *op, values).is_ok(),
                *ok,
                "{key} {op}"
            );
        }
        let long = "a".repeat(254);
        assert!(Requirement::new(long, Operator::Exists, vec![]).is_err());
    }

    #[test]
    fn requirement_error_messages() {
        let err = |key: &str, op, values: &[&str]| {
            let values = values.iter().map(|v| (*v).to_owned()).collect();
            Requirement::new(key, op, values)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            err("x", Operator::In, &[]),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be \
             empty"
        );
        assert_eq!(
            err("x", Operator::Exists, &["a"]),
            r#"values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist"#
        );
        assert_eq!(
            err("x", Operator::GreaterThan, &["a"]),
            r#"values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer"#
        );
        assert_eq!(
            err("x", Operator::Equals, &["a", "b"]),
            r#"values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value"#
        );
        let both = err("a b", Operator::In, &["-"]);
        assert!(both.starts_with(r#"[key: Invalid value: "a b": name part must consist"#));
        assert!(both.contains(r#", values[0][a b]: Invalid value: "-": a valid label must"#));
        assert!(both.ends_with("')]"));
    }

    // Upstream TestToString.
    #[test]
    fn requirement_strings() {
        let cases: Vec<(Vec<Requirement>, &str)> = vec![
            (
                vec![
                    req("x", Operator::In, &["abc", "def"]),
                    req("y", Operator::NotIn, &["jkl"]),
                    req("z", Operator::Exists, &[]),
                ],
                "x in (abc,def),y notin (jkl),z",
            ),
            (
                vec![
                    req("x", Operator::NotIn, &["abc", "def"]),
                    req("y", Operator::NotEquals, &["jkl"]),
                    req("z", Operator::DoesNotExist, &[]),
                ],
                "x notin (abc,def),y!=jkl,!z",
            ),
            (
                vec![
                    req("x", Operator::NotIn, &["abc"]),
                    req("y", Operator::In, &["jkl", "mno"]),
                    req("z", Operator::NotIn, &[""]),
                ],
                "x notin (abc),y in (jkl,mno),z notin ()",
            ),
            (
                vec![
                    req("x", Operator::Equals, &["abc"]),
                    req("y", Operator::DoubleEquals, &["jkl"]),
                    req("z", Operator::NotEquals, &["a"]),
                    req("z", Operator::Exists, &[]),
                ],
                "x=abc,y==jkl,z!=a,z",
            ),
            (
                vec![
                    req("x", Operator::GreaterThan, &["2"]),
                    req("y", Operator::LessThan, &["8"]),
                    req("z", Operator::Exists, &[]),
                ],
                "x>2,y<8,z",
            ),
            // Values print sorted and without duplicates, whatever their order.
            (vec![req("x", Operator::In, &["b", "a", "b"])], "x in (a,b)"),
        ];
        for (requirements, want) in cases {
            assert_eq!(Selector::from_requirements(requirements).to_string(), want);
        }
    }

    // Upstream TestRequirementSelectorMatching.
    #[test]
    fn requirement_selector_matching() {
        let cases: Vec<(LabelSet<'_>, Vec<Requirement>, bool)> = vec![
            (
                &[("x", "foo"), ("y", "baz")],
                vec![
                    req("x", Operator::In, &["foo"]),
                    req("y", Operator::NotIn, &["alpha"]),
                ],
                true,
            ),
            (
                &[("x", "foo"), ("y", "baz")],
                vec![
                    req("x", Operator::In, &["foo"]),
                    req("y", Operator::In, &["alpha"]),
                ],
                false,
            ),
            (
                &[("y", "")],
                vec![
                    req("x", Operator::NotIn, &[""]),
                    req("y", Operator::Exists, &[]),
                ],
                true,
            ),
            (
                &[("y", "")],
                vec![
                    req("x", Operator::DoesNotExist, &[]),
                    req("y", Operator::Exists, &[]),
                ],
                true,
            ),
            (
                &[("y", "")],
                vec![
                    req("x", Operator::NotIn, &[""]),
                    req("y", Operator::DoesNotExist, &[]),
                ],
                false,
            ),
            (&[("y", "baz")], vec![req("x", Operator::In, &[""])], false),
            (
                &[("z", "2")],
                vec![req("z", Operator::GreaterThan, &["1"])],
                true,
            ),
            (
                &[("z", "v2")],
                vec![req("z", Operator::GreaterThan, &["1"])],
                false,
            ),
        ];
        for (set, requirements, want) in cases {
            let selector = Selector::from_requirements(requirements);
            assert_eq!(
                selector.matches(&labels(set)),
                want,
                "{selector} on {set:?}"
            );
        }
    }

    // Upstream TestSetSelectorParser: input, expected requirements (None = parse error).
    #[test]
    fn set_selector_parser() {
        use Operator::*;
        type Case<'a> = (&'a str, Option<Vec<(&'a str, Operator, &'a [&'a str])>>);
        let cases: Vec<Case<'_>> = vec![
            ("", Some(vec![])),
            ("\rx", Some(vec![("x", Exists, &[])])),
            (
                "this-is-a-dns.domain.com/key-with-dash",
                Some(vec![(
                    "this-is-a-dns.domain.com/key-with-dash",
                    Exists,
                    &[],
                )]),
            ),
            (
                "this-is-another-dns.domain.com/key-with-dash in (so,what)",
                Some(vec![(
                    "this-is-another-dns.domain.com/key-with-dash",
                    In,
                    &["so", "what"],
                )]),
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                Some(vec![(
                    "0.1.2.domain/99",
                    NotIn,
                    &["10.10.100.1", "tick.tack.clock"],
                )]),
            ),
            ("foo  in\t (abc)", Some(vec![("foo", In, &["abc"])])),
            ("x notin\n (abc)", Some(vec![("x", NotIn, &["abc"])])),
            (
                "x  notin\t\t\t(abc,def)",
                Some(vec![("x", NotIn, &["abc", "def"])]),
            ),
            ("x in (abc,def)", Some(vec![("x", In, &["abc", "def"])])),
            ("x in (abc,)", Some(vec![("x", In, &["", "abc"])])),
            ("x in ()", Some(vec![("x", In, &[""])])),
            (
                "x notin (abc,def),bar,z in (),w",
                Some(vec![
                    ("bar", Exists, &[]),
                    ("w", Exists, &[]),
                    ("x", NotIn, &["abc", "def"]),
                    ("z", In, &[""]),
                ]),
            ),
            (
                "x,y in (a)",
                Some(vec![("x", Exists, &[]), ("y", In, &["a"])]),
            ),
            ("x=a", Some(vec![("x", Equals, &["a"])])),
            ("x>1", Some(vec![("x", GreaterThan, &["1"])])),
            ("x<7", Some(vec![("x", LessThan, &["7"])])),
            (
                "x=a,y!=b",
                Some(vec![("x", Equals, &["a"]), ("y", NotEquals, &["b"])]),
            ),
            (
                "x=a,y!=b,z in (h,i,j)",
                Some(vec![
                    ("x", Equals, &["a"]),
                    ("y", NotEquals, &["b"]),
                    ("z", In, &["h", "i", "j"]),
                ]),
            ),
            ("x=a||y=b", None),
            ("x,,y", None),
            (",x,y", None),
            ("x nott in (y)", None),
            ("x notin ( )", Some(vec![("x", NotIn, &[""])])),
            ("x notin (, a)", Some(vec![("x", NotIn, &["", "a"])])),
            ("a in (xyz),", None),
            ("a in (xyz)b notin ()", None),
            ("a ", Some(vec![("a", Exists, &[])])),
            (
                "a in (x,y,notin, z,in)",
                Some(vec![("a", In, &["in", "notin", "x", "y", "z"])]),
            ),
            ("a in (xyz abc)", None),
            ("a notin(", None),
            ("a (", None),
            ("(", None),
            // Beyond upstream's table.
            ("x in (a,,b)", Some(vec![("x", In, &["", "a", "b"])])),
            ("x in (b,a,b)", Some(vec![("x", In, &["a", "b"])])),
            ("in in (in)", Some(vec![("in", In, &["in"])])),
            ("!in", Some(vec![("in", DoesNotExist, &[])])),
            ("x==y", Some(vec![("x", DoubleEquals, &["y"])])),
            (
                "x = y , !z",
                Some(vec![("x", Equals, &["y"]), ("z", DoesNotExist, &[])]),
            ),
            (
                "z,a,z=1",
                Some(vec![
                    ("a", Exists, &[]),
                    ("z", Exists, &[]),
                    ("z", Equals, &["1"]),
                ]),
            ),
            ("x in (a", None),
            ("x in a", None),
            ("x=(", None),
            ("!", None),
            ("!!x", None),
            ("x!", None),
            ("x>", None),
        ];
        for (input, want) in cases {
            let got = Selector::parse(input);
            match want {
                None => assert!(got.is_err(), "{input:?} should not parse: {got:?}"),
                Some(want) => {
                    let want: Vec<Requirement> = want
                        .into_iter()
                        .map(|(k, op, values)| req(k, op, values))
                        .collect();
                    let got = got.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                    assert_eq!(got.requirements(), want.as_slice(), "{input:?}");
                }
            }
        }
    }

    #[test]
    fn parse_error_messages() {
        let value_regex = "a valid label must be an empty string or consist of alphanumeric \
             characters, '-', '_' or '.', and must start and end with an alphanumeric character \
             (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
             '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        let cases: Vec<(&str, String, usize)> = vec![
            (
                "x==a==b",
                "found '==', expected: ',' or 'end of string'".into(),
                4,
            ),
            (
                "!x=a",
                "found '=', expected: ',' or 'end of string'".into(),
                2,
            ),
            ("x,", "found '', expected: identifier after ','".into(), 2),
            (
                ",x",
                "found ',', expected: !, identifier, or 'end of string'".into(),
                0,
            ),
            (
                "!=x",
                "found '!=', expected: !, identifier, or 'end of string'".into(),
                0,
            ),
            (
                "! =x",
                "unable to parse requirement: found '=', expected: identifier".into(),
                2,
            ),
            (
                "x nott in (y)",
                "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"
                    .into(),
                2,
            ),
            (
                "a notin(",
                "unable to parse requirement: found '', expected: ',', ')' or identifier".into(),
                8,
            ),
            (
                "x in a",
                "unable to parse requirement: found 'a' expected: '('".into(),
                5,
            ),
            (
                "a in (xyz abc)",
                "unable to parse requirement: found 'abc', expected: ',' or ')'".into(),
                10,
            ),
            (
                "a in (x,=)",
                "unable to parse requirement: found '=', expected: ',', or identifier".into(),
                8,
            ),
            (
                "x=(",
                "unable to parse requirement: found '(', expected: identifier".into(),
                2,
            ),
            (
                "x<a",
                "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' \
                 operators, the value must be an integer"
                    .into(),
                0,
            ),
            (
                "x=a||y=b",
                format!(
                    "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": \
                     {value_regex}"
                ),
                0,
            ),
            (
                "x<-1",
                format!(
                    "unable to parse requirement: values[0][x]: Invalid value: \"-1\": \
                     {value_regex}"
                ),
                0,
            ),
            (
                "x<b-",
                format!(
                    "unable to parse requirement: [values[0]: Invalid value: \"b-\": for 'Gt', \
                     'Lt' operators, the value must be an integer, values[0][x]: Invalid value: \
                     \"b-\": {value_regex}]"
                ),
                0,
            ),
            (
                "ok, a$b=1",
                "unable to parse requirement: <nil>: Invalid value: \"a$b\": name part must \
                 consist of alphanumeric characters, '-', '_' or '.', and must start and end with \
                 an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex \
                 used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                    .into(),
                4,
            ),
        ];
        for (input, want, offset) in cases {
            let err = Selector::parse(input).err();
            assert_eq!(
                err.as_ref().map(ToString::to_string).as_deref(),
                Some(want.as_str()),
                "{input:?}"
            );
            assert_eq!(err.map(|e| e.offset()), Some(offset), "offset in {input:?}");
        }
    }

    #[test]
    fn exact_match_and_add() {
        let s = Selector::parse("a=1,b in (2),c in (3,4),d!=5,e==6").unwrap_or_default();
        assert_eq!(s.requires_exact_match("a"), Some("1"));
        assert_eq!(s.requires_exact_match("b"), Some("2"));
        assert_eq!(s.requires_exact_match("c"), None);
        assert_eq!(s.requires_exact_match("d"), None);
        assert_eq!(s.requires_exact_match("e"), Some("6"));
        assert_eq!(s.requires_exact_match("f"), None);
        let s = Selector::everything()
            .add_requirement(req("key", Operator::In, &["value"]))
            .add_requirement(req("a", Operator::Equals, &["b"]));
        assert_eq!(s.to_string(), "a=b,key in (value)");
        assert_eq!(s.requirements()[1].key(), "key");
        assert_eq!(s.requirements()[1].operator(), Operator::In);
        assert_eq!(s.requirements()[1].values(), ["value"]);
    }

    #[test]
    fn matches_with_lookup() {
        let s = Selector::parse("app=web,!legacy").unwrap_or_default();
        assert!(s.matches_with(|k| (k == "app").then_some("web")));
        assert!(!s.matches_with(|_| Some("web")));
    }

    fn key_strategy() -> impl Strategy<Value = String> {
        let name = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?";
        let prefix = "([a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?\\.){0,2}[a-z0-9]{1,6}";
        (proptest::option::of(prefix), name).prop_map(|(prefix, name)| match prefix {
            Some(prefix) => format!("{prefix}/{name}"),
            None => name,
        })
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("in".to_owned()),
            Just("notin".to_owned()),
            "[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?",
        ]
    }

    fn requirement_strategy() -> impl Strategy<Value = Requirement> {
        use Operator::*;
        let ops = prop::sample::select(vec![
            In,
            NotIn,
            Equals,
            DoubleEquals,
            NotEquals,
            Exists,
            DoesNotExist,
            GreaterThan,
            LessThan,
        ]);
        (
            key_strategy(),
            ops,
            prop::collection::btree_set(value_strategy(), 1..4),
            "[0-9]{1,6}",
        )
            .prop_map(|(key, op, set, int)| {
                let values: Vec<String> = match op {
                    In | NotIn => set.into_iter().collect(),
                    Exists | DoesNotExist => vec![],
                    GreaterThan | LessThan => vec![int],
                    Equals | DoubleEquals | NotEquals => set.into_iter().take(1).collect(),
                };
                Requirement::new(key, op, values).ok()
            })
            .prop_filter_map("invalid requirement", |r| r)
    }

    proptest! {
        #[test]
        fn print_parse_round_trip(reqs in prop::collection::vec(requirement_strategy(), 0..6)) {
            let selector = Selector::from_requirements(reqs);
            let printed = selector.to_string();
            let parsed = Selector::parse(&printed);
            prop_assert_eq!(parsed.as_ref(), Ok(&selector), "printed {}", printed);
            prop_assert_eq!(parsed.map(|p| p.to_string()), Ok(printed));
        }

        #[test]
        fn parse_never_panics(input in any::<String>()) {
            if let Ok(selector) = Selector::parse(&input) {
                let printed = selector.to_string();
                prop_assert_eq!(Selector::parse(&printed), Ok(selector));
            }
        }

        #[test]
        fn parse_never_panics_on_selector_like_input(input in "[ a-z0-9=!(),<>\\-./\0]{0,24}") {
            match Selector::parse(&input) {
                Ok(selector) => {
                    let printed = selector.to_string();
                    let reparsed = Selector::parse(&printed);
                    prop_assert_eq!(reparsed.as_ref(), Ok(&selector), "{:?} -> {}", input, printed);
                    let _ = selector.matches(&labels(&[("a", "1"), ("b", "")]));
                }
                Err(e) => prop_assert!(e.offset() <= input.len()),
            }
        }
    }
}
