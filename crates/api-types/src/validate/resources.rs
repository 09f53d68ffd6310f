//! Resource names and quantities: upstream's `validateResourceName` family, the resource-name
//! sets of `pkg/apis/core/helper`, `ValidateResourceQuantityValue` and
//! `ValidateResourceRequirements` (requests at most limits, non-negative, standard names).

use crate::SortedMap;

use super::field::{ErrorList, FieldError, Path};
use super::meta::IS_NEGATIVE_ERROR_MSG;
use super::names;
use crate::Quantity;
use crate::core::v1::ResourceRequirements;

const HUGE_PAGES_PREFIX: &str = "hugepages-";
const REQUESTS_HUGE_PAGES_PREFIX: &str = "requests.hugepages-";
const DEFAULT_NAMESPACE_PREFIX: &str = "kubernetes.io/";
const REQUESTS_PREFIX: &str = "requests.";

const STANDARD_CONTAINER_RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

const STANDARD_RESOURCES: [&str; 20] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const STANDARD_QUOTA_RESOURCES: [&str; 19] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: [&str; 9] = [
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// Upstream's `isInvalidQuotaResource` message.
pub(crate) const IS_INVALID_QUOTA_RESOURCE: &str = "must be a standard resource for quota";

/// `hugepages-<size>`.
pub(crate) fn is_huge_page_resource_name(name: &str) -> bool {
    name.starts_with(HUGE_PAGES_PREFIX)
}

fn is_quota_huge_page_resource_name(name: &str) -> bool {
    name.starts_with(HUGE_PAGES_PREFIX) || name.starts_with(REQUESTS_HUGE_PAGES_PREFIX)
}

/// Unprefixed names and names in the `kubernetes.io/` domain.
pub(crate) fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains(DEFAULT_NAMESPACE_PREFIX)
}

/// Upstream's `IsExtendedResourceName` (`example.com/gpu`).
pub(crate) fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with(REQUESTS_PREFIX) {
        return false;
    }
    names::is_qualified_name(&format!("{REQUESTS_PREFIX}{name}")).is_empty()
}

/// Native resources other than huge pages may be overcommitted (requests below limits).
pub(crate) fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_huge_page_resource_name(name)
}

fn is_standard_resource_name(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name) || is_quota_huge_page_resource_name(name)
}

fn is_standard_container_resource_name(name: &str) -> bool {
    STANDARD_CONTAINER_RESOURCES.contains(&name) || is_huge_page_resource_name(name)
}

/// Whether the quota system tracks `name`.
pub(crate) fn is_standard_quota_resource_name(name: &str) -> bool {
    STANDARD_QUOTA_RESOURCES.contains(&name) || is_quota_huge_page_resource_name(name)
}

fn is_integer_resource_name(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource_name(name)
}

/// Upstream's `validateResourceName`: a qualified name, and a standard one when unprefixed.
pub(crate) fn validate_resource_name(value: &str, path: &Path) -> ErrorList {
    let errs: ErrorList = names::is_qualified_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    if !value.contains('/') && !is_standard_resource_name(value) {
        return vec![FieldError::invalid(
            path,
            value,
            "must be a standard resource type or fully qualified",
        )];
    }
    errs
}

/// Upstream's `validateContainerResourceName`.
pub(crate) fn validate_container_resource_name(value: &str, path: &Path) -> ErrorList {
    let mut errs = validate_resource_name(value, path);
    if !value.contains('/') {
        if !is_standard_container_resource_name(value) {
            errs.push(FieldError::invalid(
                path,
                value,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(value) && !is_extended_resource_name(value) {
        errs.push(FieldError::invalid(
            path,
            value,
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

/// Upstream's `ValidateResourceQuotaResourceName`.
pub(crate) fn validate_resource_quota_resource_name(value: &str, path: &Path) -> ErrorList {
    let mut errs = validate_resource_name(value, path);
    if !value.contains('/') && !is_standard_quota_resource_name(value) {
        errs.push(FieldError::invalid(path, value, IS_INVALID_QUOTA_RESOURCE));
    }
    errs
}

/// Upstream's `ValidateNonnegativeQuantity`.
pub(crate) fn validate_nonnegative_quantity(q: &Quantity, path: &Path) -> ErrorList {
    if q.sign() < 0 {
        vec![FieldError::invalid(
            path,
            q.to_string(),
            IS_NEGATIVE_ERROR_MSG,
        )]
    } else {
        Vec::new()
    }
}

/// Upstream's `ValidatePositiveQuantityValue`.
pub(crate) fn validate_positive_quantity(q: &Quantity, path: &Path) -> ErrorList {
    if q.sign() <= 0 {
        vec![FieldError::invalid(
            path,
            q.to_string(),
            "must be greater than zero",
        )]
    } else {
        Vec::new()
    }
}

/// Upstream's `ValidateResourceQuantityValue`: non-negative, and whole for countable resources.
///
/// Upstream prints the quantity of the "must be an integer" error with Go's `%#v` of its
/// internal representation; here it is printed as its canonical string.
pub(crate) fn validate_resource_quantity_value(
    resource: &str,
    q: &Quantity,
    path: &Path,
) -> ErrorList {
    let mut errs = validate_nonnegative_quantity(q, path);
    if is_integer_resource_name(resource) && q.milli_value() % 1000 != 0 {
        errs.push(FieldError::invalid(
            path,
            q.to_string(),
            "must be an integer",
        ));
    }
    errs
}

/// Upstream's `validateBasicResource`.
pub(crate) fn validate_basic_resource(q: &Quantity, path: &Path) -> ErrorList {
    if q.value() < 0 {
        vec![FieldError::invalid(
            path,
            q.value(),
            "must be a valid resource quantity",
        )]
    } else {
        Vec::new()
    }
}

/// Upstream's `IsHugePageResourceValueDivisible`.
fn is_huge_page_value_divisible(name: &str, q: &Quantity) -> bool {
    let Some(size) = name.strip_prefix(HUGE_PAGES_PREFIX) else {
        return false;
    };
    let Ok(page) = size.parse::<Quantity>() else {
        return false;
    };
    if page.sign() <= 0 || page.milli_value() % 1000 != 0 {
        return false;
    }
    let page_value = page.value();
    page_value != 0 && q.value() % page_value == 0
}

fn huge_page_errors(name: &str, q: &Quantity, path: &Path) -> ErrorList {
    if is_huge_page_resource_name(name) && !is_huge_page_value_divisible(name, q) {
        return vec![FieldError::invalid(
            path,
            q.to_string(),
            format!("{q} is not positive integer multiple of {name}"),
        )];
    }
    Vec::new()
}

/// Upstream's `ValidateContainerResourceRequirements` (container resources and pod overhead).
///
/// `resources.claims` belongs to dynamic resource allocation, a beta feature off by default in
/// v1.32; the API server drops it, so it is not validated here.
pub(crate) fn validate_container_resource_requirements(
    reqs: &ResourceRequirements,
    path: &Path,
) -> ErrorList {
    validate_resource_lists(reqs.limits.as_ref(), reqs.requests.as_ref(), path)
}

/// The limits/requests part of `validateResourceRequirements`.
pub(crate) fn validate_resource_lists(
    limits: Option<&SortedMap<String, Quantity>>,
    requests: Option<&SortedMap<String, Quantity>>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let (mut lim_cpu_mem, mut req_cpu_mem, mut lim_huge, mut req_huge) =
        (false, false, false, false);
    for (name, q) in limits.into_iter().flatten() {
        let p = lim_path.key(name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_resource_quantity_value(name, q, &p));
        if is_huge_page_resource_name(name) {
            lim_huge = true;
            errs.extend(huge_page_errors(name, q, &p));
        }
        lim_cpu_mem |= name == "cpu" || name == "memory";
    }
    for (name, q) in requests.into_iter().flatten() {
        let p = req_path.key(name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_resource_quantity_value(name, q, &p));
        match limits.and_then(|l| l.get(name)) {
            Some(limit) => {
                if q != limit && !is_overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.to_string(),
                        format!("must be equal to {name} limit of {limit}"),
                    ));
                } else if q > limit {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.to_string(),
                        format!("must be less than or equal to {name} limit of {limit}"),
                    ));
                }
            }
            None => {
                if !is_overcommit_allowed(name) {
                    errs.push(FieldError::required(
                        &lim_path,
                        "Limit must be set for non overcommitable resources",
                    ));
                }
            }
        }
        if is_huge_page_resource_name(name) {
            req_huge = true;
            errs.extend(huge_page_errors(name, q, &p));
        }
        req_cpu_mem |= name == "cpu" || name == "memory";
    }
    if !lim_cpu_mem && !req_cpu_mem && (req_huge || lim_huge) {
        errs.push(FieldError::forbidden(
            path,
            "HugePages require cpu or memory",
        ));
    }
    errs
}
