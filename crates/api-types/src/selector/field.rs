//! Field selectors: the `?fieldSelector=` grammar, its requirements and matching.
//!
//! The grammar is upstream's (`k8s.io/apimachinery/pkg/fields.ParseSelector`): terms
//! separated by `,`, each `field=value`, `field==value` or `field!=value`. Values escape `\`,
//! `,` and `=` with a backslash; fields cannot be escaped and end at the first operator. Empty
//! terms are skipped. Parsing sorts the terms as strings.
//!
//! Unlike labels, a missing field reads as the empty string: `spec.nodeName=` matches pods
//! that are not scheduled, `spec.nodeName!=` those that are.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How a field [`Requirement`] compares (upstream uses `selection.Equals` and `NotEquals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

impl Operator {
    /// The operator as printed: `=` or `!=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One term of a field selector: a field, an operator and a value (unescaped).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Requirement {
    /// The field, e.g. `metadata.name`.
    pub field: String,
    /// The comparison.
    pub operator: Operator,
    /// The value, without escapes.
    pub value: String,
}

impl Requirement {
    /// Whether the fields that `lookup` reads satisfy this requirement; a missing field reads as
    /// the empty string.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        let actual = lookup(&self.field).unwrap_or_default();
        match self.operator {
            Operator::Equals => actual == self.value,
            Operator::NotEquals => actual != self.value,
        }
    }
}

/// Prints `field=value` or `field!=value`, the value escaped.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator,
            escape_value(&self.value)
        )
    }
}

/// Why a field selector string does not parse. The messages are upstream's, word for word;
/// [`ParseError::offset`] tells where in the input (a byte offset) the problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A term without `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    InvalidTerm {
        /// The whole selector.
        selector: String,
        /// The term.
        term: String,
        /// Byte offset of the term in the selector.
        offset: usize,
    },
    /// A backslash before something other than `\`, `,` or `=`, or at the end of a value.
    #[error("invalid field selector: invalid escape sequence: {sequence}")]
    InvalidEscape {
        /// The backslash and the character after it (the backslash alone at the end).
        sequence: String,
        /// Byte offset of the backslash in the selector.
        offset: usize,
    },
    /// An `=` or `,` in a value without a backslash. Upstream prints the character's code.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.character))]
    UnescapedCharacter {
        /// The character.
        character: char,
        /// Byte offset of the character in the selector.
        offset: usize,
    },
}

impl ParseError {
    /// Byte offset in the input where the problem is.
    pub fn offset(&self) -> usize {
        match self {
            ParseError::InvalidTerm { offset, .. }
            | ParseError::InvalidEscape { offset, .. }
            | ParseError::UnescapedCharacter { offset, .. } => *offset,
        }
    }
}

/// A field the server does not support selecting on. The message is upstream's (the API
/// server answers it with `400 Bad Request`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field label not supported: {field}")]
pub struct UnsupportedFieldError {
    /// The field.
    pub field: String,
}

/// Escapes a literal value for a field selector: `\` → `\\`, `,` → `\,`, `=` → `\=`
/// (upstream's `EscapeValue`).
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Undoes [`escape_value`] (upstream's `UnescapeValue`): rejects unknown escapes, a trailing
/// backslash, and unescaped `,` or `=`.
pub fn unescape_value(value: &str) -> Result<String, ParseError> {
    unescape_at(value, 0)
}

/// [`unescape_value`] for a value found at byte `base` of a selector, for error offsets.
fn unescape_at(value: &str, base: usize) -> Result<String, ParseError> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    let mut slash_at = None;
    for (i, c) in value.char_indices() {
        if let Some(at) = slash_at.take() {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(ParseError::InvalidEscape {
                    sequence: format!("\\{c}"),
                    offset: base + at,
                });
            }
            out.push(c);
            continue;
        }
        match c {
            '\\' => slash_at = Some(i),
            ',' | '=' => {
                return Err(ParseError::UnescapedCharacter {
                    character: c,
                    offset: base + i,
                });
            }
            _ => out.push(c),
        }
    }
    if let Some(at) = slash_at {
        return Err(ParseError::InvalidEscape {
            sequence: "\\".to_owned(),
            offset: base + at,
        });
    }
    Ok(out)
}

/// A field selector: requirements that must all hold.
///
/// ```
/// use std::collections::BTreeMap;
/// use kubernaut_api_types::selector::FieldSelector;
///
/// let selector = FieldSelector::parse("status.phase!=Failed,metadata.name==a\\,b").unwrap();
/// assert_eq!(selector.to_string(), "metadata.name=a\\,b,status.phase!=Failed");
/// let fields = BTreeMap::from([("metadata.name".to_owned(), "a,b".to_owned())]);
/// assert!(selector.matches(&fields));
/// assert_eq!(selector.requires_exact_match("metadata.name"), Some("a,b"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The selector that matches everything (upstream's `Everything`).
    pub fn everything() -> Self {
        Selector::default()
    }

    /// Parses a selector string (upstream's `fields.ParseSelector`). The empty string gives
    /// [`Selector::everything`]; so do terms with neither field nor value (`=`).
    pub fn parse(selector: &str) -> Result<Self, ParseError> {
        let mut terms = split_terms(selector);
        terms.sort_unstable();
        let mut requirements = Vec::with_capacity(terms.len());
        for (term, offset) in terms {
            if term.is_empty() {
                continue;
            }
            let Some((field, operator, value_at)) = split_term(term) else {
                return Err(ParseError::InvalidTerm {
                    selector: selector.to_owned(),
                    term: term.to_owned(),
                    offset,
                });
            };
            let raw_value = term.get(value_at..).unwrap_or_default();
            let value = unescape_at(raw_value, offset + value_at)?;
            requirements.push(Requirement {
                field: field.to_owned(),
                operator,
                value,
            });
        }
        Ok(Selector::from_requirements(requirements))
    }

    /// Parses a selector string and rewrites each term with `transform` (upstream's
    /// `ParseAndTransformSelector`); see [`Selector::transform`].
    pub fn parse_and_transform<E>(
        selector: &str,
        transform: impl FnMut(&str, &str) -> Result<(String, String), E>,
    ) -> Result<Self, ParseAndTransformError<E>> {
        Selector::parse(selector)
            .map_err(ParseAndTransformError::Parse)?
            .transform(transform)
            .map_err(ParseAndTransformError::Transform)
    }

    /// The requirements in the given order, leaving out those with neither field nor value.
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        Selector {
            requirements: requirements
                .into_iter()
                .filter(|r| !(r.field.is_empty() && r.value.is_empty()))
                .collect(),
        }
    }

    /// A selector requiring each field of `fields` to have its value (upstream's
    /// `SelectorFromSet`).
    pub fn from_set(fields: &BTreeMap<String, String>) -> Self {
        Selector {
            requirements: fields
                .iter()
                .map(|(field, value)| Requirement {
                    field: field.clone(),
                    operator: Operator::Equals,
                    value: value.clone(),
                })
                .collect(),
        }
    }

    /// `field=value` (upstream's `OneTermEqualSelector`).
    pub fn one_term_equal(field: impl Into<String>, value: impl Into<String>) -> Self {
        Selector {
            requirements: vec![Requirement {
                field: field.into(),
                operator: Operator::Equals,
                value: value.into(),
            }],
        }
    }

    /// `field!=value` (upstream's `OneTermNotEqualSelector`).
    pub fn one_term_not_equal(field: impl Into<String>, value: impl Into<String>) -> Self {
        Selector {
            requirements: vec![Requirement {
                field: field.into(),
                operator: Operator::NotEquals,
                value: value.into(),
            }],
        }
    }

    /// All the requirements of all the selectors (upstream's `AndSelectors`).
    pub fn and(selectors: impl IntoIterator<Item = Selector>) -> Self {
        Selector {
            requirements: selectors.into_iter().flat_map(|s| s.requirements).collect(),
        }
    }

    /// The selector with every term rewritten by `transform(field, value)` (upstream's
    /// `Transform`); terms rewritten to an empty field and an empty value are dropped. The API
    /// server uses this to map a field to the one it stores or to reject it.
    pub fn transform<E>(
        &self,
        mut transform: impl FnMut(&str, &str) -> Result<(String, String), E>,
    ) -> Result<Self, E> {
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for requirement in &self.requirements {
            let (field, value) = transform(&requirement.field, &requirement.value)?;
            requirements.push(Requirement {
                field,
                operator: requirement.operator,
                value,
            });
        }
        Ok(Selector::from_requirements(requirements))
    }

    /// The requirements, in order (upstream's `Requirements`).
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether this selector restricts nothing (upstream's `Empty`).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a field set satisfies every requirement; a missing field reads as empty.
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.matches_with(|field| fields.get(field).map(String::as_str))
    }

    /// Whether the fields that `lookup` reads satisfy every requirement; `lookup` returns a
    /// field's value, `None` (read as empty) when the object has no such field.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches_with(&lookup))
    }

    /// The value the first `field=value` term on `field` demands (upstream's
    /// `RequiresExactMatch`); `!=` terms demand nothing.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.operator == Operator::Equals && r.field == field)
            .map(|r| r.value.as_str())
    }

    /// The fields the selector uses, in order (a field used twice appears twice).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| r.field.as_str())
    }

    /// Whether every field the selector uses is one of `supported`.
    pub fn uses_only<S: AsRef<str>>(&self, supported: &[S]) -> bool {
        self.check_supported(supported).is_ok()
    }

    /// Fails on the first field that is not one of `supported`, with upstream's error
    /// (`field label not supported: spec.foo`).
    pub fn check_supported<S: AsRef<str>>(
        &self,
        supported: &[S],
    ) -> Result<(), UnsupportedFieldError> {
        match self
            .fields()
            .find(|field| !supported.iter().any(|s| s.as_ref() == *field))
        {
            Some(field) => Err(UnsupportedFieldError {
                field: field.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

/// Prints as upstream's `String()`: the terms joined by `,`, values escaped, `==` as `=`.
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

/// Why [`Selector::parse_and_transform`] failed: the string or the transformation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseAndTransformError<E> {
    /// The string does not parse.
    #[error(transparent)]
    Parse(ParseError),
    /// The transformation rejected a term.
    #[error(transparent)]
    Transform(E),
}

/// The terms between unescaped commas, backslashes kept, with their byte offsets.
fn split_terms(selector: &str) -> Vec<(&str, usize)> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push((selector.get(start..i).unwrap_or_default(), start));
            start = i + 1;
        }
    }
    terms.push((selector.get(start..).unwrap_or_default(), start));
    terms
}

/// Splits a term at its first operator (`!=` before `==` before `=` at each position): the
/// field, the operator and where the raw value starts.
fn split_term(term: &str) -> Option<(&str, Operator, usize)> {
    for (i, _) in term.char_indices() {
        let rest = term.get(i..).unwrap_or_default();
        let (operator, len) = if rest.starts_with("!=") {
            (Operator::NotEquals, 2)
        } else if rest.starts_with("==") {
            (Operator::Equals, 2)
        } else if rest.starts_with('=') {
            (Operator::Equals, 1)
        } else {
            continue;
        };
        return Some((term.get(..i).unwrap_or_default(), operator, i + len));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type FieldSet<'a> = &'a [(&'a str, &'a str)];
    type Term<'a> = (&'a str, Operator, &'a str);

    fn fields(pairs: FieldSet<'_>) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parse(s: &str) -> Selector {
        Selector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    // Upstream TestSelectorParse: good strings print back as given; bad ones fail.
    #[test]
    fn parse_and_print_upstream_strings() {
        let good = [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            r"x=a\,b",
            r"x=a\\",
            r"x=a\=b",
            r"x=a\\\,",
        ];
        for input in good {
            assert_eq!(parse(input).to_string(), input, "{input:?}");
        }
        for input in [
            "x=a||y=b", "x==a==b", "x=a,b", r"x=a\b", r"x=a\", "x", "x,y=z",
        ] {
            assert!(
                Selector::parse(input).is_err(),
                "{input:?} should not parse"
            );
        }
    }

    // Upstream TestDeterministicParse.
    #[test]
    fn parse_is_deterministic() {
        assert_eq!(parse("x=a,a=x").to_string(), parse("a=x,x=a").to_string());
        assert_eq!(parse("x=a,a=x").to_string(), "a=x,x=a");
    }

    // Upstream TestSelectorMatches.
    #[test]
    fn selector_matches_upstream_cases() {
        let cases: &[(&str, FieldSet<'_>, bool)] = &[
            ("", &[("x", "y")], true),
            ("x=y", &[("x", "y")], true),
            ("x=y,z=w", &[("x", "y"), ("z", "w")], true),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")], true),
            ("x=z", &[], false),
            ("x=y", &[("x", "z")], false),
            ("x=y,z=w", &[("x", "w"), ("z", "w")], false),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")], false),
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
            // A missing field reads as empty.
            ("spec.nodeName=", &[], true),
            ("spec.nodeName!=", &[], false),
            ("spec.nodeName!=", &[("spec.nodeName", "n1")], true),
            ("x==y", &[("x", "y")], true),
            (r"x=a\,b", &[("x", "a,b")], true),
            (r"x=a\=b\\", &[("x", r"a=b\")], true),
        ];
        for (selector, set, want) in cases {
            assert_eq!(
                parse(selector).matches(&fields(set)),
                *want,
                "{selector:?} on {set:?}"
            );
        }
    }

    // Upstream TestOneTermEqualSelector / TestSetMatches / TestEverything.
    #[test]
    fn constructors() {
        assert!(Selector::one_term_equal("x", "y").matches(&fields(&[("x", "y")])));
        assert!(!Selector::one_term_equal("x", "y").matches(&fields(&[("x", "z")])));
        assert!(Selector::one_term_not_equal("x", "y").matches(&fields(&[])));
        assert!(Selector::everything().is_empty());
        assert!(Selector::everything().matches(&fields(&[("x", "y")])));
        let set = fields(&[("foo", "bar"), ("baz", "blah")]);
        assert!(Selector::from_set(&fields(&[])).matches(&set));
        assert!(Selector::from_set(&fields(&[("foo", "bar")])).matches(&set));
        assert!(Selector::from_set(&set).matches(&set));
        assert!(!Selector::from_set(&fields(&[("foo", "baz")])).matches(&set));
        assert_eq!(Selector::from_set(&set).to_string(), "baz=blah,foo=bar");
        let both = Selector::and([
            Selector::one_term_equal("a", "1"),
            Selector::everything(),
            Selector::one_term_not_equal("b", "x,y"),
        ]);
        assert_eq!(both.to_string(), r"a=1,b!=x\,y");
        assert_eq!(both.requirements().len(), 2);
    }

    // Upstream TestSelectorParse's requirement table (selector, requirements).
    #[test]
    fn requirements_of_parsed_selectors() {
        use Operator::*;
        let cases: &[(&str, &[Term<'_>])] = &[
            ("", &[]),
            ("x=a", &[("x", Equals, "a")]),
            ("x==a", &[("x", Equals, "a")]),
            ("x!=a", &[("x", NotEquals, "a")]),
            ("x=", &[("x", Equals, "")]),
            ("x!=", &[("x", NotEquals, "")]),
            ("=a", &[("", Equals, "a")]),
            ("=", &[]),
            ("!=", &[]),
            ("==", &[]),
            (",,x=a,,", &[("x", Equals, "a")]),
            ("x=a,a=b", &[("a", Equals, "b"), ("x", Equals, "a")]),
            (r"x=a\,b,y=c", &[("x", Equals, "a,b"), ("y", Equals, "c")]),
            (r"x=\\\=\,", &[("x", Equals, r"\=,")]),
            ("a!b=c", &[("a!b", Equals, "c")]),
            ("a!!=c", &[("a!", NotEquals, "c")]),
            (r"a\=b", &[(r"a\", Equals, "b")]),
            ("spec.nodeName= ", &[("spec.nodeName", Equals, " ")]),
            (" x = a ", &[(" x ", Equals, " a ")]),
            ("é=ü", &[("é", Equals, "ü")]),
        ];
        for (input, want) in cases {
            let want: Vec<Requirement> = want
                .iter()
                .map(|(field, operator, value)| Requirement {
                    field: (*field).to_owned(),
                    operator: *operator,
                    value: (*value).to_owned(),
                })
                .collect();
            assert_eq!(parse(input).requirements(), want.as_slice(), "{input:?}");
        }
    }

    #[test]
    fn parse_error_messages() {
        let cases = [
            ("x", "invalid selector: 'x'; can't understand 'x'", 0),
            (
                "a=b,c",
                "invalid selector: 'a=b,c'; can't understand 'c'",
                4,
            ),
            (
                "x=a=b",
                "invalid field selector: unescaped character in value: 61",
                3,
            ),
            (
                "x==a==b",
                "invalid field selector: unescaped character in value: 61",
                4,
            ),
            (
                r"x=a\b",
                r"invalid field selector: invalid escape sequence: \b",
                3,
            ),
            (
                r"y=1,x=a\",
                r"invalid field selector: invalid escape sequence: \",
                7,
            ),
            (
                r"x=\é",
                r"invalid field selector: invalid escape sequence: \é",
                2,
            ),
        ];
        for (input, want, offset) in cases {
            let err = Selector::parse(input).err();
            assert_eq!(
                err.as_ref().map(ToString::to_string).as_deref(),
                Some(want),
                "{input:?}"
            );
            assert_eq!(err.map(|e| e.offset()), Some(offset), "offset in {input:?}");
        }
    }

    // Upstream TestEscapeValue / TestUnescapeValue.
    #[test]
    fn escaping() {
        let cases = [
            ("", ""),
            ("a", "a"),
            ("=", r"\="),
            (",", r"\,"),
            (r"\", r"\\"),
            (r"\=\,\", r"\\\=\\\,\\"),
        ];
        for (raw, escaped) in cases {
            assert_eq!(escape_value(raw), escaped);
            assert_eq!(unescape_value(escaped).as_deref(), Ok(raw));
        }
        let bad = [
            (r"\", r"invalid field selector: invalid escape sequence: \"),
            (
                r"\\\",
                r"invalid field selector: invalid escape sequence: \",
            ),
            (
                r"\a",
                r"invalid field selector: invalid escape sequence: \a",
            ),
            (
                "=",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                ",",
                "invalid field selector: unescaped character in value: 44",
            ),
        ];
        for (input, want) in bad {
            assert_eq!(
                unescape_value(input)
                    .err()
                    .map(|e| e.to_string())
                    .as_deref(),
                Some(want),
                "{input:?}"
            );
        }
    }

    // Upstream TestRequiresExactMatch.
    #[test]
    fn exact_match() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("key=value", "key", Some("value")),
            ("key!=value", "key", None),
            ("key=value", "other", None),
            ("a=b,key=value", "key", Some("value")),
            ("key!=x,key=value", "key", Some("value")),
            ("", "key", None),
        ];
        for (selector, field, want) in cases {
            assert_eq!(
                parse(selector).requires_exact_match(field),
                *want,
                "{selector:?}"
            );
        }
    }

    // Upstream TestTransform.
    #[test]
    fn transform() {
        let s = parse("a=b,spec.host=n1,c!=d");
        let renamed = s.transform(|field, value| -> Result<_, String> {
            match field {
                "spec.host" => Ok(("spec.nodeName".to_owned(), value.to_owned())),
                "a" => Ok((String::new(), String::new())),
                _ => Ok((field.to_owned(), value.to_owned())),
            }
        });
        assert_eq!(
            renamed.map(|s| s.to_string()),
            Ok("c!=d,spec.nodeName=n1".to_owned())
        );
        let rejected = s.transform(|field, _| Err(format!("field label not supported: {field}")));
        assert_eq!(rejected, Err("field label not supported: a".to_owned()));
        let parsed = Selector::parse_and_transform("x=1", |f, v| {
            Ok::<_, String>((format!("{f}{f}"), v.to_owned()))
        });
        assert_eq!(parsed.map(|s| s.to_string()), Ok("xx=1".to_owned()));
        let failed = Selector::parse_and_transform("x", |f, v| {
            Ok::<_, String>((f.to_owned(), v.to_owned()))
        });
        assert!(matches!(failed, Err(ParseAndTransformError::Parse(_))));
    }

    #[test]
    fn supported_fields() {
        let s = parse("metadata.name=a,spec.nodeName!=,metadata.name!=b");
        assert_eq!(
            s.fields().collect::<Vec<_>>(),
            ["metadata.name", "metadata.name", "spec.nodeName"]
        );
        assert!(s.uses_only(&["metadata.name", "spec.nodeName"]));
        assert!(!s.uses_only(&["metadata.name"]));
        assert_eq!(
            s.check_supported(&["metadata.name", "metadata.namespace"])
                .map_err(|e| e.to_string()),
            Err("field label not supported: spec.nodeName".to_owned())
        );
        assert!(Selector::everything().uses_only::<&str>(&[]));
    }

    #[test]
    fn matches_with_lookup() {
        let s = parse("metadata.name=web,spec.nodeName=");
        assert!(s.matches_with(|f| (f == "metadata.name").then_some("web")));
        assert!(!s.matches_with(|_| Some("web")));
    }

    fn requirement_strategy() -> impl Strategy<Value = Requirement> {
        (
            "[a-zA-Z.!\\\\ ]{0,8}",
            prop::sample::select(vec![Operator::Equals, Operator::NotEquals]),
            "[a-z,=!\\\\ é]{0,8}",
        )
            .prop_map(|(field, operator, value)| Requirement {
                field,
                operator,
                value,
            })
            .prop_filter("field must not hold an operator", |r| {
                !r.field.contains('=') && !r.field.ends_with('!')
            })
    }

    /// parse(print(s)) has the same requirements, and printing is stable from the second
    /// round on (the first may reorder: `==` prints as `=`, and parsing sorts the terms).
    fn check_round_trip(selector: &Selector) -> Result<(), TestCaseError> {
        let printed = selector.to_string();
        let reparsed = Selector::parse(&printed);
        prop_assert!(
            reparsed.is_ok(),
            "{:?} does not parse: {:?}",
            printed,
            reparsed
        );
        let reparsed = reparsed.unwrap_or_default();
        let mut want = selector.requirements().to_vec();
        let mut got = reparsed.requirements().to_vec();
        want.sort();
        got.sort();
        prop_assert_eq!(got, want, "printed {:?}", printed);
        let again = reparsed.to_string();
        prop_assert_eq!(
            Selector::parse(&again).map(|s| s.to_string()),
            Ok(again.clone())
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn print_parse_round_trip(reqs in prop::collection::vec(requirement_strategy(), 0..6)) {
            check_round_trip(&Selector::from_requirements(reqs))?;
        }

        #[test]
        fn parse_never_panics(input in any::<String>()) {
            match Selector::parse(&input) {
                Ok(selector) => check_round_trip(&selector)?,
                Err(e) => prop_assert!(e.offset() <= input.len()),
            }
        }

        #[test]
        fn parse_never_panics_on_selector_like_input(input in "[a-c=!,\\\\ é]{0,16}") {
            match Selector::parse(&input) {
                Ok(selector) => check_round_trip(&selector)?,
                Err(e) => prop_assert!(e.offset() <= input.len()),
            }
        }
    }
}
