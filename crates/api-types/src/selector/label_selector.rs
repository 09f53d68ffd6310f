//! Conversions between the API's `LabelSelector` (`matchLabels` / `matchExpressions`) and
//! [`Selector`], with upstream's rules (`metav1.LabelSelectorAsSelector`, `LabelSelectorAsMap`,
//! `ParseToLabelSelector`, `SetAsLabelSelector`, `FormatLabelSelector`).

use crate::SortedMap;

use crate::meta::{LabelSelector, LabelSelectorRequirement};

use super::go_quote;
use super::label::{Operator, ParseError, Requirement, RequirementError, Selector};

/// Why a `LabelSelector` does not convert (to a [`Selector`] or a plain label map), or why a
/// selector string does not convert to a `LabelSelector`. The messages are upstream's.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LabelSelectorError {
    /// A `matchExpressions` operator other than `In`, `NotIn`, `Exists` and `DoesNotExist`, or
    /// a parsed `!=` (which `matchExpressions` cannot express).
    #[error("{} is not a valid label selector operator", go_quote(.operator))]
    InvalidOperator {
        /// The operator as written.
        operator: String,
    },
    /// An invalid key or values in `matchLabels` or `matchExpressions`.
    #[error(transparent)]
    InvalidRequirement(#[from] RequirementError),
    /// A selector string that does not parse.
    #[error("couldn't parse the selector string \"{selector}\": {error}")]
    Parse {
        /// The selector string.
        selector: String,
        /// Why it does not parse.
        error: ParseError,
    },
    /// A parsed `>` or `<`, which `matchExpressions` cannot express.
    #[error("{} isn't supported in label selectors", go_quote(.operator.as_str()))]
    UnsupportedOperator {
        /// The operator.
        operator: Operator,
    },
    /// An expression that a plain label map cannot express (`NotIn`, `Exists`, `DoesNotExist`).
    #[error(
        "operator {} cannot be converted into the old label selector format",
        go_quote(.operator)
    )]
    NotConvertibleToMap {
        /// The operator as written.
        operator: String,
    },
    /// An `In` expression without exactly one value, which a plain label map cannot express.
    #[error(
        "operator {} without a single value cannot be converted into the old label selector \
         format",
        go_quote(.operator)
    )]
    NotASingleValue {
        /// The operator as written.
        operator: String,
    },
    /// An unknown operator met while converting to a plain label map.
    #[error("{} is not a valid selector operator", go_quote(.operator))]
    InvalidMapOperator {
        /// The operator as written.
        operator: String,
    },
}

impl Selector {
    /// The selector an optional `LabelSelector` stands for (upstream's
    /// `LabelSelectorAsSelector`): an absent one selects nothing, one without labels or
    /// expressions selects everything, otherwise every label and expression must hold.
    pub fn from_label_selector(
        selector: Option<&LabelSelector>,
    ) -> Result<Self, LabelSelectorError> {
        let Some(selector) = selector else {
            return Ok(Selector::nothing());
        };
        let labels = selector.match_labels.as_ref();
        let expressions = selector.match_expressions.as_deref().unwrap_or_default();
        let mut requirements = Vec::new();
        for (key, value) in labels.into_iter().flatten() {
            requirements.push(Requirement::new(
                key.as_str(),
                Operator::Equals,
                vec![value.clone()],
            )?);
        }
        for expression in expressions {
            let operator = match expression.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(LabelSelectorError::InvalidOperator {
                        operator: other.to_owned(),
                    });
                }
            };
            let values = expression.values.clone().unwrap_or_default();
            requirements.push(Requirement::new(expression.key.as_str(), operator, values)?);
        }
        Ok(Selector::from_requirements(requirements))
    }
}

impl TryFrom<&LabelSelector> for Selector {
    type Error = LabelSelectorError;

    /// See [`Selector::from_label_selector`].
    fn try_from(selector: &LabelSelector) -> Result<Self, Self::Error> {
        Selector::from_label_selector(Some(selector))
    }
}

impl LabelSelector {
    /// The [`Selector`] this stands for (upstream's `LabelSelectorAsSelector`): without labels
    /// or expressions it selects everything. For an optional selector, where absent means
    /// "nothing", use [`Selector::from_label_selector`].
    pub fn to_selector(&self) -> Result<Selector, LabelSelectorError> {
        Selector::from_label_selector(Some(self))
    }

    /// Whether a label set satisfies this selector. An invalid selector matches nothing, as
    /// upstream's controllers treat one.
    pub fn matches(&self, labels: &(impl super::label::Labels + ?Sized)) -> bool {
        self.to_selector().is_ok_and(|s| s.matches(labels))
    }

    /// The selector as plain labels (upstream's `LabelSelectorAsMap`): `matchLabels` plus each
    /// `In` expression with a single value; any other expression is an error.
    pub fn as_map(&self) -> Result<SortedMap<String, String>, LabelSelectorError> {
        let mut map = self.match_labels.clone().unwrap_or_default();
        for expression in self.match_expressions.as_deref().unwrap_or_default() {
            match expression.operator.as_str() {
                "In" => match expression.values.as_deref() {
                    Some([value]) => {
                        map.insert(expression.key.clone(), value.clone());
                    }
                    _ => {
                        return Err(LabelSelectorError::NotASingleValue {
                            operator: expression.operator.clone(),
                        });
                    }
                },
                "NotIn" | "Exists" | "DoesNotExist" => {
                    return Err(LabelSelectorError::NotConvertibleToMap {
                        operator: expression.operator.clone(),
                    });
                }
                other => {
                    return Err(LabelSelectorError::InvalidMapOperator {
                        operator: other.to_owned(),
                    });
                }
            }
        }
        Ok(map)
    }

    /// A selector requiring exactly these labels (upstream's `SetAsLabelSelector`).
    pub fn from_set<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        LabelSelector {
            match_labels: Some(
                labels
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            match_expressions: None,
        }
    }

    /// Parses a selector string into a `LabelSelector` (upstream's `ParseToLabelSelector`):
    /// `=` and `==` become `matchLabels`, `in`, `notin`, `key` and `!key` become
    /// `matchExpressions` (values sorted); `!=`, `>` and `<` have no equivalent and are errors.
    ///
    /// Empty `matchLabels`, `matchExpressions` and `values` are left out (`None`), which is how
    /// upstream's result serializes.
    pub fn parse(selector: &str) -> Result<Self, LabelSelectorError> {
        let parsed = Selector::parse(selector).map_err(|error| LabelSelectorError::Parse {
            selector: selector.to_owned(),
            error,
        })?;
        let mut labels = SortedMap::new();
        let mut expressions = Vec::new();
        for requirement in parsed.requirements() {
            let operator = match requirement.operator() {
                Operator::Equals | Operator::DoubleEquals => {
                    if let [value] = requirement.values() {
                        labels.insert(requirement.key().to_owned(), value.clone());
                    }
                    continue;
                }
                Operator::In => "In",
                Operator::NotIn => "NotIn",
                Operator::Exists => "Exists",
                Operator::DoesNotExist => "DoesNotExist",
                operator @ (Operator::GreaterThan | Operator::LessThan) => {
                    return Err(LabelSelectorError::UnsupportedOperator { operator });
                }
                operator @ Operator::NotEquals => {
                    return Err(LabelSelectorError::InvalidOperator {
                        operator: operator.as_str().to_owned(),
                    });
                }
            };
            let mut values = requirement.values().to_vec();
            values.sort();
            values.dedup();
            expressions.push(LabelSelectorRequirement {
                key: requirement.key().to_owned(),
                operator: operator.to_owned(),
                values: (!values.is_empty()).then_some(values),
            });
        }
        Ok(LabelSelector {
            match_labels: (!labels.is_empty()).then_some(labels),
            match_expressions: (!expressions.is_empty()).then_some(expressions),
        })
    }
}

/// An optional `LabelSelector` as a selector string, as `kubectl describe` prints it
/// (upstream's `FormatLabelSelector`): `<none>` when it selects everything or nothing,
/// `<error>` when it is invalid.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match Selector::from_label_selector(selector) {
        Ok(selector) if selector.requirements().is_empty() => "<none>".to_owned(),
        Ok(selector) => selector.to_string(),
        Err(_) => "<error>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(key: &str, operator: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: values.map(|v| v.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn selector(
        labels: Option<&[(&str, &str)]>,
        expressions: Option<Vec<LabelSelectorRequirement>>,
    ) -> LabelSelector {
        LabelSelector {
            match_labels: labels.map(map),
            match_expressions: expressions,
        }
    }

    #[test]
    fn nil_selects_nothing_and_empty_everything() {
        let nothing = Selector::from_label_selector(None);
        assert_eq!(nothing, Ok(Selector::nothing()));
        let empty = selector(None, None).to_selector();
        assert_eq!(empty, Ok(Selector::everything()));
        let empty = selector(Some(&[]), Some(vec![])).to_selector();
        assert_eq!(empty, Ok(Selector::everything()));
        assert!(selector(None, None).matches(&map(&[("a", "b")])));
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&selector(None, None))), "<none>");
    }

    // Upstream TestLabelSelectorAsSelector.
    #[test]
    fn converts_to_selector() {
        let cases: Vec<(LabelSelector, Result<&str, &str>)> = vec![
            (
                selector(Some(&[("foo", "bar"), ("baz", "blah")]), None),
                Ok("baz=blah,foo=bar"),
            ),
            (
                selector(
                    Some(&[("foo", "bar"), ("baz", "blah")]),
                    Some(vec![
                        expr("baz", "In", Some(&["qux", "norf"])),
                        expr("quux", "NotIn", Some(&["fred", "thud"])),
                        expr("foo", "Exists", None),
                        expr("qux", "DoesNotExist", Some(&[])),
                    ]),
                ),
                Ok("baz=blah,baz in (norf,qux),foo=bar,foo,quux notin (fred,thud),!qux"),
            ),
            (
                selector(None, Some(vec![expr("foo", "Bogus", Some(&["x"]))])),
                Err("\"Bogus\" is not a valid label selector operator"),
            ),
            (
                selector(None, Some(vec![expr("foo", "In", None)])),
                Err(
                    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't \
                     be empty",
                ),
            ),
            (
                selector(None, Some(vec![expr("foo", "NotIn", Some(&[]))])),
                Err(
                    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't \
                     be empty",
                ),
            ),
            (
                selector(None, Some(vec![expr("foo", "Exists", Some(&["a"]))])),
                Err(
                    "values: Invalid value: []string{\"a\"}: values set must be empty for exists and \
                     does not exist",
                ),
            ),
            (
                selector(Some(&[("foo", "-bar")]), None),
                Err(
                    "values[0][foo]: Invalid value: \"-bar\": a valid label must be an empty \
                     string or consist of alphanumeric characters, '-', '_' or '.', and must \
                     start and end with an alphanumeric character (e.g. 'MyValue',  or \
                     'my_value',  or '12345', regex used for validation is \
                     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ),
            ),
            (
                selector(None, Some(vec![expr("a/b/c", "Exists", None)])),
                Err(
                    "key: Invalid value: \"a/b/c\": a qualified name must consist of \
                     alphanumeric characters, '-', '_' or '.', and must start and end with an \
                     alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex \
                     used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an \
                     optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                ),
            ),
        ];
        for (input, want) in cases {
            let got = input.to_selector();
            match want {
                Ok(want) => assert_eq!(
                    got.as_ref().map(ToString::to_string),
                    Ok(want.to_owned()),
                    "{input:?}"
                ),
                Err(want) => assert_eq!(
                    got.err().map(|e| e.to_string()),
                    Some(want.to_owned()),
                    "{input:?}"
                ),
            }
        }
        assert_eq!(
            format_label_selector(Some(&selector(
                None,
                Some(vec![expr("foo", "Bogus", None)])
            ))),
            "<error>"
        );
    }

    #[test]
    fn matches_labels() {
        let s = selector(
            Some(&[("app", "web")]),
            Some(vec![
                expr("tier", "In", Some(&["front", "back"])),
                expr("legacy", "DoesNotExist", None),
            ]),
        );
        assert!(s.matches(&map(&[("app", "web"), ("tier", "front")])));
        assert!(!s.matches(&map(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&map(&[("app", "web"), ("tier", "front"), ("legacy", "")])));
        let invalid = selector(None, Some(vec![expr("tier", "Near", Some(&["x"]))]));
        assert!(!invalid.matches(&map(&[("tier", "x")])));
    }

    // Upstream TestLabelSelectorAsMap.
    #[test]
    fn converts_to_map() {
        let ok = selector(
            Some(&[("foo", "bar")]),
            Some(vec![expr("baz", "In", Some(&["qux"]))]),
        );
        assert_eq!(ok.as_map(), Ok(map(&[("foo", "bar"), ("baz", "qux")])));
        let cases = [
            (
                expr("baz", "In", Some(&["qux", "norf"])),
                "operator \"In\" without a single value cannot be converted into the old label \
                 selector format",
            ),
            (
                expr("baz", "NotIn", Some(&["qux"])),
                "operator \"NotIn\" cannot be converted into the old label selector format",
            ),
            (
                expr("baz", "Exists", None),
                "operator \"Exists\" cannot be converted into the old label selector format",
            ),
            (
                expr("baz", "Bogus", None),
                "\"Bogus\" is not a valid selector operator",
            ),
        ];
        for (expression, want) in cases {
            let s = selector(None, Some(vec![expression]));
            assert_eq!(
                s.as_map().err().map(|e| e.to_string()).as_deref(),
                Some(want)
            );
        }
    }

    // Upstream TestParseToLabelSelector.
    #[test]
    fn parses_to_label_selector() {
        let got = LabelSelector::parse(
            "app=myapp,release=stable,release!=canary-x,env in (prod,dev),tier notin (front,back)",
        );
        assert_eq!(
            got.err().map(|e| e.to_string()).as_deref(),
            Some("\"!=\" is not a valid label selector operator")
        );
        let got = LabelSelector::parse(
            "app=myapp,release=stable,env in (dev,prod, dev),tier notin (front,back),partition,!x",
        );
        let want = selector(
            Some(&[("app", "myapp"), ("release", "stable")]),
            Some(vec![
                expr("env", "In", Some(&["dev", "prod"])),
                expr("partition", "Exists", None),
                expr("tier", "NotIn", Some(&["back", "front"])),
                expr("x", "DoesNotExist", None),
            ]),
        );
        assert_eq!(got, Ok(want.clone()));
        assert_eq!(LabelSelector::parse(""), Ok(selector(None, None)));
        assert_eq!(
            LabelSelector::parse("x>1")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("\"gt\" isn't supported in label selectors")
        );
        assert_eq!(
            LabelSelector::parse("x in (")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some(
                "couldn't parse the selector string \"x in (\": unable to parse requirement: \
                 found '', expected: ',', ')' or identifier"
            )
        );
        // Back to a selector: the same requirements, `=` for `==`.
        assert_eq!(
            want.to_selector().map(|s| s.to_string()),
            Ok(
                "app=myapp,env in (dev,prod),partition,release=stable,tier notin (back,front),!x"
                    .to_owned()
            )
        );
    }

    #[test]
    fn from_set() {
        let s = LabelSelector::from_set(&map(&[("a", "1")]));
        assert_eq!(s.match_labels, Some(map(&[("a", "1")])));
        assert_eq!(s.match_expressions, None);
        assert_eq!(s.as_map(), Ok(map(&[("a", "1")])));
    }
}
