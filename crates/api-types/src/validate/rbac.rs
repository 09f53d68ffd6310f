//! The rbac group: Role, ClusterRole, RoleBinding and ClusterRoleBinding, as upstream's
//! `pkg/apis/rbac/validation` (rules, role references, subjects; names only need to be valid
//! path segments).

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::gofmt;
use super::meta::{self, SelectorOpts, items, s};
use super::names;
use crate::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

const GROUP_NAME: &str = "rbac.authorization.k8s.io";

/// Upstream's `ValidatePolicyRule`.
fn validate_policy_rule(rule: &PolicyRule, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = items(&rule.non_resource_urls);
    let (groups, resources, names) = (
        items(&rule.api_groups),
        items(&rule.resources),
        items(&rule.resource_names),
    );
    if !urls.is_empty() {
        let value = || gofmt::raw(gofmt::string_slice(rule.non_resource_urls.as_deref()));
        if namespaced {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !groups.is_empty() || !resources.is_empty() || !names.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if groups.is_empty() {
        errs.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if resources.is_empty() {
        errs.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    if !names.is_empty() && resources.len() > 1 {
        errs.push(FieldError::required(
            &path.child("resourceNames"),
            "resource names cannot apply to multiple resources",
        ));
    }
    errs
}

fn validate_rules(rules: &[PolicyRule], namespaced: bool) -> ErrorList {
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| validate_policy_rule(r, namespaced, &Path::new("rules").index(i)))
        .collect()
}

impl Validate for Role {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_path_segment,
            &Path::new("metadata"),
        );
        errs.extend(validate_rules(items(&self.rules), true));
        errs
    }
}

impl Validate for ClusterRole {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_path_segment,
            &Path::new("metadata"),
        );
        errs.extend(validate_rules(items(&self.rules), false));
        if let Some(rule) = &self.aggregation_rule {
            let p = Path::new("aggregationRule").child("clusterRoleSelectors");
            let selectors = items(&rule.cluster_role_selectors);
            if selectors.is_empty() {
                errs.push(FieldError::required(
                    &p,
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                ));
            }
            for (i, sel) in selectors.iter().enumerate() {
                errs.extend(meta::validate_label_selector(
                    Some(sel),
                    SelectorOpts::default(),
                    &p.index(i),
                ));
                if meta::selector_from(Some(sel)).is_err() {
                    errs.push(FieldError::invalid(
                        &p.index(i),
                        gofmt::raw(gofmt::label_selector(sel)),
                        "invalid label selector.",
                    ));
                }
            }
        }
        errs
    }
}

fn validate_role_ref(r: &RoleRef, kinds: &[&str]) -> ErrorList {
    let mut errs = ErrorList::new();
    let p = Path::new("roleRef");
    if r.api_group != GROUP_NAME {
        errs.push(FieldError::not_supported(
            &p.child("apiGroup"),
            r.api_group.as_str(),
            &[GROUP_NAME],
        ));
    }
    if !kinds.contains(&r.kind.as_str()) {
        errs.push(FieldError::not_supported(
            &p.child("kind"),
            r.kind.as_str(),
            kinds,
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::required(&p.child("name"), ""));
    } else {
        errs.extend(meta::validate_name(
            names::name_is_path_segment,
            &r.name,
            &p.child("name"),
        ));
    }
    errs
}

fn validate_subject(subject: &Subject, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if subject.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    let group = s(&subject.api_group);
    match subject.kind.as_str() {
        "ServiceAccount" => {
            if !subject.name.is_empty() {
                errs.extend(meta::validate_name(
                    names::name_is_dns_subdomain,
                    &subject.name,
                    &path.child("name"),
                ));
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    group,
                    &[""],
                ));
            }
            if !namespaced && s(&subject.namespace).is_empty() {
                errs.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if subject.name.is_empty() {
                let what = if subject.kind == "User" {
                    "user"
                } else {
                    "group"
                };
                errs.push(FieldError::invalid(
                    &path.child("name"),
                    "",
                    format!("{what} name cannot be empty"),
                ));
            }
            if group != GROUP_NAME {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    group,
                    &[GROUP_NAME],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errs
}

fn validate_subjects(subjects: &[Subject], namespaced: bool) -> ErrorList {
    subjects
        .iter()
        .enumerate()
        .flat_map(|(i, sub)| validate_subject(sub, namespaced, &Path::new("subjects").index(i)))
        .collect()
}

impl Validate for RoleBinding {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_path_segment,
            &Path::new("metadata"),
        );
        errs.extend(validate_role_ref(&self.role_ref, &["Role", "ClusterRole"]));
        errs.extend(validate_subjects(items(&self.subjects), true));
        errs
    }
}

impl Validate for ClusterRoleBinding {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_path_segment,
            &Path::new("metadata"),
        );
        errs.extend(validate_role_ref(&self.role_ref, &["ClusterRole"]));
        errs.extend(validate_subjects(items(&self.subjects), false));
        errs
    }
}
