//! Go's `%#v` rendering of the structured values upstream puts into error messages (maps,
//! string lists, `intstr.IntOrString`, `metav1.LabelSelector`, ...), so that messages such as
//! `Invalid value: map[string]string{"app":"web"}: ...` read exactly as upstream's.
//!
//! Go prints pointers inside structs as addresses (`(*int32)(0xc000012345)`); those cannot be
//! reproduced, and are rendered with the address `0xc000000000`.

use crate::SortedMap;

use super::field::{BadValue, go_quote};
use crate::IntOrString;
use crate::meta::{LabelSelector, LabelSelectorRequirement};

/// `map[string]string{"a":"b", "c":"d"}`, or `map[string]string(nil)`.
pub(crate) fn string_map(m: Option<&SortedMap<String, String>>) -> String {
    match m {
        None => "map[string]string(nil)".to_owned(),
        Some(m) => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", entries.join(", "))
        }
    }
}

/// `[]string{"a", "b"}`, or `[]string(nil)`.
pub(crate) fn string_slice(v: Option<&[String]>) -> String {
    typed_slice("string", v, |s| go_quote(s))
}

/// `[]T{a, b}` or `[]T(nil)`, with `item` rendering each element.
pub(crate) fn typed_slice<T>(ty: &str, v: Option<&[T]>, item: impl Fn(&T) -> String) -> String {
    match v {
        None => format!("[]{ty}(nil)"),
        Some(v) => {
            let items: Vec<String> = v.iter().map(item).collect();
            format!("[]{ty}{{{}}}", items.join(", "))
        }
    }
}

/// `intstr.IntOrString{Type:0, IntVal:5, StrVal:""}`.
pub(crate) fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => format!("intstr.IntOrString{{Type:0, IntVal:{i}, StrVal:\"\"}}"),
        IntOrString::String(s) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            go_quote(s)
        ),
    }
}

/// `v1.LabelSelectorRequirement{Key:"k", Operator:"In", Values:[]string{"a"}}`.
pub(crate) fn label_selector_requirement(r: &LabelSelectorRequirement) -> String {
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
        go_quote(&r.key),
        go_quote(&r.operator),
        string_slice(r.values.as_deref())
    )
}

/// `v1.LabelSelector{MatchLabels:map[string]string{...}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
pub(crate) fn label_selector(s: &LabelSelector) -> String {
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        string_map(s.match_labels.as_ref()),
        typed_slice(
            "v1.LabelSelectorRequirement",
            s.match_expressions.as_deref(),
            label_selector_requirement
        )
    )
}

/// A pointer field inside a struct: `(*T)(nil)` or an address placeholder.
pub(crate) fn pointer<T>(ty: &str, v: Option<&T>) -> String {
    match v {
        None => format!("(*{ty})(nil)"),
        Some(_) => format!("(*{ty})(0xc000000000)"),
    }
}

/// A [`BadValue::Raw`] holding a `%#v` rendering.
pub(crate) fn raw(s: String) -> BadValue {
    BadValue::Raw(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go() {
        let m = SortedMap::from([
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "1".to_owned()),
        ]);
        assert_eq!(
            string_map(Some(&m)),
            r#"map[string]string{"a":"1", "b":"2"}"#
        );
        assert_eq!(string_map(None), "map[string]string(nil)");
        assert_eq!(string_slice(Some(&["x".to_owned()])), r#"[]string{"x"}"#);
        assert_eq!(
            int_or_string(&IntOrString::Int(0)),
            r#"intstr.IntOrString{Type:0, IntVal:0, StrVal:""}"#
        );
        assert_eq!(
            label_selector(&LabelSelector {
                match_labels: Some(SortedMap::new()),
                match_expressions: None
            }),
            "v1.LabelSelector{MatchLabels:map[string]string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
    }
}
