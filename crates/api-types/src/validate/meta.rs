//! Object metadata, labels, annotations, owner references, finalizers and label selectors:
//! upstream's `ValidateObjectMeta` (apimachinery `pkg/api/validation`, plus the finalizer rule
//! of `pkg/apis/core/validation`) and `pkg/apis/meta/v1/validation`.

use crate::SortedMap;

use super::field::{ErrorList, FieldError, Path};
use super::gofmt;
use super::names::{self, NameValidator};
use crate::meta::{LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference};
use crate::selector::Selector;

/// Upstream's `IsNegativeErrorMsg`.
pub(crate) const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";
/// The most bytes all annotations of an object may hold together (keys and values).
pub(crate) const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `value` of an optional string, empty when unset (Go's zero value).
pub(crate) fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// Items of an optional list, empty when unset.
pub(crate) fn items<T>(v: &Option<Vec<T>>) -> &[T] {
    v.as_deref().unwrap_or(&[])
}

/// Upstream's `ValidateNonnegativeField`.
pub(crate) fn validate_nonnegative(value: i64, path: &Path) -> ErrorList {
    if value < 0 {
        vec![FieldError::invalid(path, value, IS_NEGATIVE_ERROR_MSG)]
    } else {
        Vec::new()
    }
}

/// Upstream's `ValidateDNS1123Label` (`Invalid` for each message).
pub(crate) fn validate_dns1123_label(value: &str, path: &Path) -> ErrorList {
    names::is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `ValidateDNS1123Subdomain` (`Invalid` for each message).
pub(crate) fn validate_dns1123_subdomain(value: &str, path: &Path) -> ErrorList {
    names::is_dns1123_subdomain(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `ValidateQualifiedName` (`Invalid` for each message).
pub(crate) fn validate_qualified_name(value: &str, path: &Path) -> ErrorList {
    names::is_qualified_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// `Invalid` errors for every message of a name rule.
pub(crate) fn validate_name(name_fn: NameValidator, value: &str, path: &Path) -> ErrorList {
    name_fn(value, false)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `ValidateLabelName`: a qualified name.
pub(crate) fn validate_label_name(name: &str, path: &Path) -> ErrorList {
    validate_qualified_name(name, path)
}

/// Upstream's `ValidateLabels`: keys are qualified names, values valid label values. The
/// errors carry the path of the whole map, as upstream's do.
pub(crate) fn validate_labels(
    labels: Option<&SortedMap<String, String>>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (k, v) in labels.into_iter().flatten() {
        errs.extend(validate_label_name(k, path));
        for msg in names::is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v.as_str(), msg));
        }
    }
    errs
}

/// Upstream's `ValidateAnnotations`: keys are qualified names (case-insensitively) and all
/// annotations together hold at most 256 KiB.
pub(crate) fn validate_annotations(
    annotations: Option<&SortedMap<String, String>>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut total = 0usize;
    for (k, v) in annotations.into_iter().flatten() {
        for msg in names::is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

/// `v1.OwnerReference{...}` as Go's `%#v` prints it.
fn go_owner_reference(r: &OwnerReference) -> String {
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        super::field::go_quote(&r.api_version),
        super::field::go_quote(&r.kind),
        super::field::go_quote(&r.name),
        super::field::go_quote(&r.uid),
        gofmt::pointer("bool", r.controller.as_ref()),
        gofmt::pointer("bool", r.block_owner_deletion.as_ref()),
    )
}

/// `(group, version)` of an apiVersion as upstream's `ParseGroupVersion` reads it; `None` when
/// it has more than one slash (upstream then keeps only the kind).
fn parse_group_version(api_version: &str) -> Option<(&str, &str)> {
    if api_version.is_empty() {
        return Some(("", ""));
    }
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [version] => Some(("", version)),
        [group, version] => Some((group, version)),
        _ => None,
    }
}

fn validate_owner_reference(r: &OwnerReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (group, version) = parse_group_version(&r.api_version).unwrap_or(("", ""));
    if version.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("apiVersion"),
            r.api_version.as_str(),
            "version must not be empty",
        ));
    }
    if r.kind.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("kind"),
            r.kind.as_str(),
            "must not be empty",
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("name"),
            r.name.as_str(),
            "must not be empty",
        ));
    }
    if r.uid.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("uid"),
            r.uid.as_str(),
            "must not be empty",
        ));
    }
    // Core v1 Events may not own other objects.
    if group.is_empty() && version == "v1" && r.kind == "Event" {
        errs.push(FieldError::invalid(
            path,
            gofmt::raw(go_owner_reference(r)),
            format!(
                "{group}/{version}, Kind={} is disallowed from being an owner",
                r.kind
            ),
        ));
    }
    errs
}

/// Upstream's `ValidateOwnerReferences`: every reference complete, at most one controller.
pub(crate) fn validate_owner_references(refs: &[OwnerReference], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        errs.extend(validate_owner_reference(r, path));
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => {
                    let rendered =
                        gofmt::typed_slice("v1.OwnerReference", Some(refs), go_owner_reference);
                    errs.push(FieldError::invalid(
                        path,
                        gofmt::raw(rendered),
                        format!(
                            "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                        ),
                    ));
                }
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

/// The finalizer names Kubernetes defines without a domain prefix.
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

/// Upstream's `validateKubeFinalizerName`: an unqualified finalizer must be a standard one.
pub(crate) fn validate_kube_finalizer_name(name: &str, path: &Path) -> ErrorList {
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        return vec![FieldError::invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        )];
    }
    Vec::new()
}

/// Upstream's `ValidateFinalizers` (apimachinery): qualified names, and `orphan` and
/// `foregroundDeletion` not both. The syntax errors carry the path of the whole list.
fn validate_finalizers(finalizers: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for f in finalizers {
        errs.extend(validate_qualified_name(f, path));
    }
    if finalizers.iter().any(|f| f == "orphan")
        && finalizers.iter().any(|f| f == "foregroundDeletion")
    {
        errs.push(FieldError::invalid(
            path,
            gofmt::raw(gofmt::string_slice(Some(finalizers))),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// Upstream's `ValidateFieldManager`: at most 128 characters, all printable.
fn validate_field_manager(manager: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if manager.len() > 128 {
        errs.push(FieldError::too_long(path, 128));
    }
    let mut pos = 0usize;
    for c in manager.chars() {
        if c.is_control() {
            errs.push(FieldError::invalid(
                path,
                manager,
                format!("invalid character U+{:04X} (at position {pos})", c as u32),
            ));
        }
        pos += c.len_utf8();
    }
    errs
}

fn validate_managed_fields(meta: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, entry) in items(&meta.managed_fields).iter().enumerate() {
        let p = path.index(i);
        let op = s(&entry.operation);
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                &p.child("operation"),
                op,
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = s(&entry.fields_type);
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            errs.push(FieldError::invalid(
                &p.child("fieldsType"),
                fields_type,
                "must be `FieldsV1`",
            ));
        }
        errs.extend(validate_field_manager(
            s(&entry.manager),
            &p.child("manager"),
        ));
        if s(&entry.subresource).len() > 256 {
            errs.push(FieldError::too_long(&p.child("subresource"), 256));
        }
    }
    errs
}

/// Upstream's `ValidateObjectMeta` for a new object, as `pkg/apis/core/validation` wraps it
/// (adding the Kubernetes finalizer-name rule).
///
/// The API server names an object from its `generateName` before validating it; an object that
/// has a `generateName` but no `name` yet is therefore not reported for the missing name (the
/// `generateName` itself is validated as upstream does).
pub(crate) fn validate_object_meta(
    meta: &ObjectMeta,
    requires_namespace: bool,
    name_fn: NameValidator,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let generate_name = s(&meta.generate_name);
    if !generate_name.is_empty() {
        for msg in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = s(&meta.name);
    if name.is_empty() {
        if generate_name.is_empty() {
            errs.push(FieldError::required(
                &path.child("name"),
                "name or generateName is required",
            ));
        }
    } else {
        errs.extend(validate_name(name_fn, name, &path.child("name")));
    }
    // The API server sets the namespace from the request before validating: a namespaced
    // object without one gets the request's, a cluster-scoped object's is cleared. So upstream's
    // "metadata.namespace: Required value" and "Forbidden: not allowed on this type" cannot
    // reach a client, and are not reported here; a namespace that is set is checked.
    let namespace = s(&meta.namespace);
    if requires_namespace && !namespace.is_empty() {
        errs.extend(validate_name(
            names::name_is_dns_label,
            namespace,
            &path.child("namespace"),
        ));
    }
    errs.extend(validate_nonnegative(
        meta.generation.unwrap_or(0),
        &path.child("generation"),
    ));
    errs.extend(validate_labels(meta.labels.as_ref(), &path.child("labels")));
    errs.extend(validate_annotations(
        meta.annotations.as_ref(),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        items(&meta.owner_references),
        &path.child("ownerReferences"),
    ));
    let finalizers = items(&meta.finalizers);
    errs.extend(validate_finalizers(finalizers, &path.child("finalizers")));
    errs.extend(validate_managed_fields(meta, &path.child("managedFields")));
    for (i, f) in finalizers.iter().enumerate() {
        errs.extend(validate_kube_finalizer_name(
            f,
            &path.child("finalizers").index(i),
        ));
    }
    errs
}

/// Upstream's `ValidateTemplateObjectMeta` (PVC templates of ephemeral volumes): labels and
/// annotations only, every other metadata field must stay unset.
pub(crate) fn validate_template_object_meta(meta: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = validate_annotations(meta.annotations.as_ref(), &path.child("annotations"));
    errs.extend(validate_labels(meta.labels.as_ref(), &path.child("labels")));
    let set = [
        ("name", meta.name.as_deref().is_some_and(|v| !v.is_empty())),
        (
            "generateName",
            meta.generate_name.as_deref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "namespace",
            meta.namespace.as_deref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "selfLink",
            meta.self_link.as_deref().is_some_and(|v| !v.is_empty()),
        ),
        ("uID", meta.uid.as_deref().is_some_and(|v| !v.is_empty())),
        (
            "resourceVersion",
            meta.resource_version
                .as_deref()
                .is_some_and(|v| !v.is_empty()),
        ),
        ("generation", meta.generation.is_some_and(|g| g != 0)),
        (
            "creationTimestamp",
            meta.creation_timestamp
                .as_ref()
                .is_some_and(|t| !t.is_zero()),
        ),
        ("deletionTimestamp", meta.deletion_timestamp.is_some()),
        (
            "deletionGracePeriodSeconds",
            meta.deletion_grace_period_seconds.is_some(),
        ),
        (
            "ownerReferences",
            meta.owner_references
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
        ),
        (
            "finalizers",
            meta.finalizers.as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "managedFields",
            meta.managed_fields.as_ref().is_some_and(|v| !v.is_empty()),
        ),
    ];
    for (field, is_set) in set {
        if is_set {
            errs.push(FieldError::forbidden(&path.child(field), "cannot be set"));
        }
    }
    errs
}

/// Upstream's `LabelSelectorValidationOptions`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SelectorOpts {
    /// Skip the label-value syntax of `In`/`NotIn` values.
    pub allow_invalid_label_value: bool,
}

/// Upstream's `ValidateLabelSelectorRequirement`.
pub(crate) fn validate_label_selector_requirement(
    r: &LabelSelectorRequirement,
    opts: SelectorOpts,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = items(&r.values);
    match r.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errs.extend(validate_label_name(&r.key, &path.child("key")));
    if !opts.allow_invalid_label_value {
        for (i, v) in values.iter().enumerate() {
            for msg in names::is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    &path.child("values").index(i),
                    v.as_str(),
                    msg,
                ));
            }
        }
    }
    errs
}

/// Upstream's `ValidateLabelSelector` (a `None` selector is valid).
pub(crate) fn validate_label_selector(
    sel: Option<&LabelSelector>,
    opts: SelectorOpts,
    path: &Path,
) -> ErrorList {
    let Some(sel) = sel else { return Vec::new() };
    let mut errs = validate_labels(sel.match_labels.as_ref(), &path.child("matchLabels"));
    for (i, r) in items(&sel.match_expressions).iter().enumerate() {
        errs.extend(validate_label_selector_requirement(
            r,
            opts,
            &path.child("matchExpressions").index(i),
        ));
    }
    errs
}

/// Whether a selector has no requirement at all (matches everything).
pub(crate) fn selector_is_empty(sel: &LabelSelector) -> bool {
    items(&sel.match_expressions).is_empty()
        && sel.match_labels.as_ref().is_none_or(SortedMap::is_empty)
}

/// A label selector as upstream's `LabelSelectorAsSelector` builds it (`None` selects
/// nothing); `Err` when the selector grammar rejects a key, value or operator.
pub(crate) fn selector_from(sel: Option<&LabelSelector>) -> Result<Selector, ()> {
    Selector::from_label_selector(sel).map_err(|_| ())
}

/// Whether `labels` (absent: none) satisfy `selector`.
pub(crate) fn selector_matches(
    selector: &Selector,
    labels: Option<&SortedMap<String, String>>,
) -> bool {
    selector.matches_with(|k| labels.and_then(|l| l.get(k)).map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::ErrorType;

    fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: ns.map(str::to_owned),
            ..ObjectMeta::default()
        }
    }

    fn render(errs: &ErrorList) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    /// Object meta, whether its kind is namespaced, and the expected errors.
    type MetaCase<'a> = (ObjectMeta, bool, Vec<(&'a str, ErrorType)>);

    #[test]
    fn object_meta_table() {
        let md = Path::new("metadata");
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        let cases: Vec<MetaCase<'_>> = vec![
            (meta("ok", Some("default")), true, vec![]),
            (
                ObjectMeta::default(),
                false,
                vec![(
                    "metadata.name: Required value: name or generateName is required",
                    ErrorType::Required,
                )],
            ),
            // The server fills or clears the namespace before validating.
            (meta("ok", None), true, vec![]),
            (meta("ok", Some("ns")), false, vec![]),
            (
                meta("ok", Some("Bad_NS")),
                true,
                vec![(
                    "metadata.namespace: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                    ErrorType::Invalid,
                )],
            ),
            (
                ObjectMeta {
                    labels: Some(SortedMap::from([("app".into(), "-bad".into())])),
                    ..meta("ok", None)
                },
                false,
                vec![(
                    "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                    ErrorType::Invalid,
                )],
            ),
            (
                ObjectMeta {
                    annotations: Some(SortedMap::from([("a".into(), big)])),
                    ..meta("ok", None)
                },
                false,
                vec![(
                    "metadata.annotations: Too long: may not be more than 262144 bytes",
                    ErrorType::TooLong,
                )],
            ),
            (
                ObjectMeta {
                    finalizers: Some(vec!["custom".into()]),
                    ..meta("ok", None)
                },
                false,
                vec![(
                    "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
                    ErrorType::Invalid,
                )],
            ),
            (
                ObjectMeta {
                    finalizers: Some(vec!["orphan".into(), "foregroundDeletion".into()]),
                    ..meta("ok", None)
                },
                false,
                vec![(
                    "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set",
                    ErrorType::Invalid,
                )],
            ),
            (
                ObjectMeta {
                    generation: Some(-1),
                    ..meta("ok", None)
                },
                false,
                vec![(
                    "metadata.generation: Invalid value: -1: must be greater than or equal to 0",
                    ErrorType::Invalid,
                )],
            ),
            (
                ObjectMeta {
                    owner_references: Some(vec![OwnerReference {
                        api_version: "".into(),
                        kind: "".into(),
                        name: "".into(),
                        uid: "".into(),
                        ..OwnerReference::default()
                    }]),
                    ..meta("ok", None)
                },
                false,
                vec![
                    (
                        "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty",
                        ErrorType::Invalid,
                    ),
                    (
                        "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty",
                        ErrorType::Invalid,
                    ),
                    (
                        "metadata.ownerReferences.name: Invalid value: \"\": must not be empty",
                        ErrorType::Invalid,
                    ),
                    (
                        "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty",
                        ErrorType::Invalid,
                    ),
                ],
            ),
            (
                ObjectMeta {
                    name: None,
                    generate_name: Some("web-".into()),
                    ..ObjectMeta::default()
                },
                false,
                vec![],
            ),
        ];
        for (m, ns, want) in cases {
            let errs = validate_object_meta(&m, ns, names::name_is_dns_subdomain, &md);
            let got: Vec<(String, ErrorType)> =
                errs.iter().map(|e| (e.to_string(), e.error_type)).collect();
            let want: Vec<(String, ErrorType)> =
                want.into_iter().map(|(s, t)| (s.to_owned(), t)).collect();
            assert_eq!(got, want, "meta {m:?}");
        }
    }

    #[test]
    fn label_selector_table() {
        let p = Path::new("spec").child("selector");
        let req = |k: &str, op: &str, vs: &[&str]| LabelSelectorRequirement {
            key: k.to_owned(),
            operator: op.to_owned(),
            values: if vs.is_empty() {
                None
            } else {
                Some(vs.iter().map(|v| (*v).to_owned()).collect())
            },
        };
        let sel = |r: LabelSelectorRequirement| LabelSelector {
            match_expressions: Some(vec![r]),
            match_labels: None,
        };
        let cases = [
            (
                sel(req("a", "In", &[])),
                vec![
                    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ],
            ),
            (
                sel(req("a", "Exists", &["x"])),
                vec![
                    "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ],
            ),
            (
                sel(req("a", "Equals", &[])),
                vec![
                    "spec.selector.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator",
                ],
            ),
            (sel(req("a", "In", &["b"])), vec![]),
        ];
        for (s, want) in cases {
            assert_eq!(
                render(&validate_label_selector(
                    Some(&s),
                    SelectorOpts::default(),
                    &p
                )),
                want
            );
        }
    }

    #[test]
    fn selector_matching() {
        let labels = SortedMap::from([
            ("app".to_owned(), "web".to_owned()),
            ("tier".to_owned(), "front".to_owned()),
        ]);
        let s = LabelSelector {
            match_labels: Some(SortedMap::from([("app".into(), "web".into())])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["front".into()]),
                },
                LabelSelectorRequirement {
                    key: "legacy".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert!(selector_matches(
            &selector_from(Some(&s)).unwrap(),
            Some(&labels)
        ));
        assert!(!selector_matches(
            &selector_from(None).unwrap(),
            Some(&labels)
        ));
        assert!(
            selector_from(Some(&LabelSelector::default()))
                .unwrap()
                .is_empty()
        );
        let bad = LabelSelector {
            match_labels: Some(SortedMap::from([("a b".into(), "x".into())])),
            match_expressions: None,
        };
        assert!(selector_from(Some(&bad)).is_err());
    }
}
