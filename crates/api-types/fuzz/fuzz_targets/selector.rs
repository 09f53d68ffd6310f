//! Fuzzes the label and field selector parsers: no input may panic, and whatever parses must
//! print to a string that parses back to the same selector.

#![no_main]

use std::collections::BTreeMap;

use kubernaut_api_types::meta::LabelSelector;
use kubernaut_api_types::selector::{FieldSelector, Selector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    check_labels(input);
    check_fields(input);
});

fn check_labels(input: &str) {
    let Ok(selector) = Selector::parse(input) else {
        return;
    };
    let printed = selector.to_string();
    let reparsed = Selector::parse(&printed)
        .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(reparsed, selector, "{input:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed);

    let labels: BTreeMap<String, String> = selector
        .requirements()
        .iter()
        .flat_map(|r| r.values().first().map(|v| (r.key().to_owned(), v.clone())))
        .collect();
    let _ = selector.matches(&labels);

    // The same string as a LabelSelector: when it converts, the result must be valid.
    if let Ok(label_selector) = LabelSelector::parse(input) {
        let back = label_selector.to_selector();
        assert!(back.is_ok(), "{input:?} -> {label_selector:?} -> {back:?}");
        let _ = label_selector.as_map();
    }
}

fn check_fields(input: &str) {
    let Ok(selector) = FieldSelector::parse(input) else {
        return;
    };
    // The first print may reorder terms (`==` prints as `=`, parsing sorts the terms), so the
    // requirements are compared as sets and the printed form from the second round on.
    let printed = selector.to_string();
    let reparsed = FieldSelector::parse(&printed)
        .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}, which fails: {e}"));
    let mut want = selector.requirements().to_vec();
    let mut got = reparsed.requirements().to_vec();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{input:?} printed as {printed:?}");
    let again = reparsed.to_string();
    let third = FieldSelector::parse(&again).map(|s| s.to_string());
    assert_eq!(
        third.as_deref(),
        Ok(again.as_str()),
        "{input:?} via {printed:?}"
    );

    let fields: BTreeMap<String, String> = selector
        .requirements()
        .iter()
        .map(|r| (r.field.clone(), r.value.clone()))
        .collect();
    let _ = selector.matches(&fields);
}
