//! The storage group: StorageClass, as upstream's `pkg/apis/storage/validation` (provisioner,
//! parameters, reclaim policy, binding mode, allowed topologies).

use crate::SortedMap;
use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta::{self, items};
use super::names;
use crate::core::v1::TopologySelectorTerm;
use crate::storage::v1::StorageClass;

const MAX_PROVISIONER_PARAMETER_SIZE: usize = 256 * 1024;
const MAX_PROVISIONER_PARAMETER_LEN: usize = 512;
const RECLAIM_POLICIES: [&str; 2] = ["Delete", "Retain"];
const BINDING_MODES: [&str; 2] = ["Immediate", "WaitForFirstConsumer"];

fn validate_parameters(params: Option<&SortedMap<String, String>>, path: &Path) -> ErrorList {
    let Some(params) = params else {
        return Vec::new();
    };
    if params.len() > MAX_PROVISIONER_PARAMETER_LEN {
        return vec![FieldError::too_long(path, MAX_PROVISIONER_PARAMETER_LEN)];
    }
    let mut errs = ErrorList::new();
    let mut total = 0usize;
    for (k, v) in params {
        if k.is_empty() {
            errs.push(FieldError::invalid(path, "", "field can not be empty."));
        }
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > MAX_PROVISIONER_PARAMETER_SIZE {
        errs.push(FieldError::too_long(path, MAX_PROVISIONER_PARAMETER_SIZE));
    }
    errs
}

/// Upstream's `ValidateTopologySelectorTerm`: the term's keys and their value sets.
fn validate_topology_selector_term(
    term: &TopologySelectorTerm,
    path: &Path,
) -> (SortedMap<String, BTreeSet<String>>, ErrorList) {
    let mut errs = ErrorList::new();
    let mut exprs: SortedMap<String, BTreeSet<String>> = SortedMap::new();
    let ep = path.child("matchLabelExpressions");
    for (i, req) in items(&term.match_label_expressions).iter().enumerate() {
        let p = ep.index(i);
        let vp = p.child("values");
        if req.values.is_empty() {
            errs.push(FieldError::required(&vp, ""));
        }
        let mut values = BTreeSet::new();
        for (j, v) in req.values.iter().enumerate() {
            if !values.insert(v.clone()) {
                errs.push(FieldError::duplicate(&vp.index(j), v.as_str()));
            }
        }
        errs.extend(meta::validate_label_name(&req.key, &p.child("key")));
        if exprs.contains_key(&req.key) {
            errs.push(FieldError::duplicate(&p.child("key"), req.key.as_str()));
        }
        exprs.insert(req.key.clone(), values);
    }
    (exprs, errs)
}

impl Validate for StorageClass {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let pp = Path::new("provisioner");
        if self.provisioner.is_empty() {
            errs.push(FieldError::required(&pp, ""));
        } else {
            errs.extend(meta::validate_qualified_name(
                &self.provisioner.to_lowercase(),
                &pp,
            ));
        }
        errs.extend(validate_parameters(
            self.parameters.as_ref(),
            &Path::new("parameters"),
        ));
        let reclaim = self.reclaim_policy.as_deref().unwrap_or("");
        if !reclaim.is_empty() && !RECLAIM_POLICIES.contains(&reclaim) {
            errs.push(FieldError::not_supported(
                &Path::new("reclaimPolicy"),
                reclaim,
                &RECLAIM_POLICIES,
            ));
        }
        match self.volume_binding_mode.as_deref() {
            None => errs.push(FieldError::required(&Path::new("volumeBindingMode"), "")),
            Some(mode) if !BINDING_MODES.contains(&mode) => {
                errs.push(FieldError::not_supported(
                    &Path::new("volumeBindingMode"),
                    mode,
                    &BINDING_MODES,
                ));
            }
            Some(_) => {}
        }
        let topologies = items(&self.allowed_topologies);
        let tp = Path::new("allowedTopologies");
        let mut seen: Vec<SortedMap<String, BTreeSet<String>>> = Vec::new();
        for (i, term) in topologies.iter().enumerate() {
            let (exprs, term_errs) = validate_topology_selector_term(term, &tp.index(i));
            errs.extend(term_errs);
            if seen.contains(&exprs) {
                errs.push(FieldError::duplicate(
                    &tp.index(i).child("matchLabelExpressions"),
                    "",
                ));
            }
            seen.push(exprs);
        }
        errs
    }
}
