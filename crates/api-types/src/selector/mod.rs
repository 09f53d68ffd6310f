//! Label and field selectors: parsing, printing and matching.
//!
//! Both grammars follow upstream (`k8s.io/apimachinery` `pkg/labels` and `pkg/fields`) to the
//! letter: the same accepted inputs, the same normalised output, the same matching rules and the
//! same error messages, so that a client sees exactly what a Kubernetes API server would answer.
//!
//! * [`label`]: `app=web,tier in (front,back),!legacy,replicas>2`, plus the conversions from and
//!   to [`crate::meta::LabelSelector`] (`matchLabels` / `matchExpressions`).
//! * [`field`]: `metadata.name=web,status.phase!=Running`, with backslash escaping in values.
//!
//! ```
//! use std::collections::BTreeMap;
//! use kubernaut_api_types::selector::{FieldSelector, Selector};
//!
//! let selector: Selector = "tier in (front,back),!legacy".parse().unwrap();
//! let labels = BTreeMap::from([("tier".to_owned(), "front".to_owned())]);
//! assert!(selector.matches(&labels));
//! assert_eq!(selector.to_string(), "!legacy,tier in (back,front)");
//!
//! let fields = FieldSelector::parse("metadata.name=web,spec.nodeName!=").unwrap();
//! assert_eq!(fields.to_string(), "metadata.name=web,spec.nodeName!=");
//! assert!(fields.check_supported(&["metadata.name", "spec.nodeName"]).is_ok());
//! ```

pub mod field;
pub mod label;
mod label_selector;

pub use field::{
    Operator as FieldOperator, ParseError as FieldParseError, Requirement as FieldRequirement,
    Selector as FieldSelector, UnsupportedFieldError,
};
pub use label::{Expected, Labels, Operator, ParseError, Requirement, RequirementError, Selector};
pub use label_selector::{LabelSelectorError, format_label_selector};

/// Quotes `s` as Go's `%q` verb does (`strconv.Quote`): printable characters as they are,
/// `"` and `\` escaped, control characters as `\n`, `\x1f`, `\u200b` and the like.
///
/// Go decides printability from the Unicode tables; this keeps the common cases exact (ASCII,
/// controls, separators, the usual format characters) and treats other non-ASCII as printable.
pub(crate) fn go_quote(s: &str) -> String {
    use std::fmt::Write as _;

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
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if go_printable(c) => out.push(c),
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

/// Whether Go's `unicode.IsPrint` holds for a non-ASCII character, for the characters that
/// matter in practice: controls, separators, format characters, private use, non-characters.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let format_or_private = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xD800..=0xF8FF
            | 0xFDD0..=0xFDEF
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF0000..
    );
    !format_or_private && (u & 0xFFFE) != 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn quotes_like_go() {
        let cases = [
            ("abc", r#""abc""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\n\t\r\u{7}\u{0}\u{7f}", r#""\n\t\r\a\x00\x7f""#),
            ("héllo☺", "\"héllo☺\""),
            ("\u{a0}\u{200b}\u{feff}", r#""\u00a0\u200b\ufeff""#),
            ("\u{e0001}", r#""\U000e0001""#),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "quoting {input:?}");
        }
    }
}
