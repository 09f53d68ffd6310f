//! The networking group: Ingress and IngressClass, as upstream's
//! `pkg/apis/networking/validation` (rules, hosts, paths and path types, backends, TLS).

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::gofmt;
use super::meta::{self, items, s};
use super::names;
use crate::core::v1::TypedLocalObjectReference;
use crate::networking::v1::{
    HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressRule, IngressSpec,
};

const PATH_TYPES: [&str; 3] = ["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];
const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const MAX_LEN_INGRESS_CLASS_CONTROLLER: usize = 250;

/// `[]networking.IngressRule{...}` as Go's `%#v` prints an empty or missing list.
fn go_rules(rules: Option<&[IngressRule]>) -> String {
    match rules {
        None => "[]networking.IngressRule(nil)".to_owned(),
        Some([]) => "[]networking.IngressRule{}".to_owned(),
        Some(_) => "[]networking.IngressRule{...}".to_owned(),
    }
}

/// Upstream's `validateIngressTypedLocalObjectReference`.
fn validate_typed_local_object_reference(r: &TypedLocalObjectReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(group) = &r.api_group {
        for msg in names::is_dns1123_subdomain(group) {
            errs.push(FieldError::invalid(
                &path.child("apiGroup"),
                group.as_str(),
                msg,
            ));
        }
    }
    for (field, value, missing) in [
        ("kind", &r.kind, "kind is required"),
        ("name", &r.name, "name is required"),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(&path.child(field), missing));
        } else {
            for msg in names::is_valid_path_segment_name(value) {
                errs.push(FieldError::invalid(&path.child(field), value.as_str(), msg));
            }
        }
    }
    errs
}

/// Upstream's `validateIngressBackend`.
fn validate_backend(b: &IngressBackend, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    match (&b.resource, &b.service) {
        (Some(_), Some(_)) => {
            return vec![FieldError::invalid(
                path,
                "",
                "cannot set both resource and service backends",
            )];
        }
        (Some(r), None) => errs.extend(validate_typed_local_object_reference(
            r,
            &path.child("resource"),
        )),
        (None, Some(svc)) => {
            let name_path = path.child("service").child("name");
            if svc.name.is_empty() {
                errs.push(FieldError::required(&name_path, ""));
            } else {
                // Upstream's `ValidateServiceName`: a DNS-1035 label.
                errs.extend(meta::validate_name(
                    names::name_is_dns1035_label,
                    &svc.name,
                    &name_path,
                ));
            }
            let port_name = svc.port.as_ref().map_or("", |p| s(&p.name));
            let port_number = svc.port.as_ref().and_then(|p| p.number).unwrap_or(0);
            let port_path = path.child("service").child("port");
            match (!port_name.is_empty(), port_number != 0) {
                (true, true) => errs.push(FieldError::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                )),
                (true, false) => {
                    for msg in names::is_valid_port_name(port_name) {
                        errs.push(FieldError::invalid(
                            &port_path.child("name"),
                            port_name,
                            msg,
                        ));
                    }
                }
                (false, true) => {
                    for msg in names::is_valid_port_num(i64::from(port_number)) {
                        errs.push(FieldError::invalid(
                            &port_path.child("number"),
                            port_number,
                            msg,
                        ));
                    }
                }
                (false, false) => errs.push(FieldError::required(
                    path,
                    "port name or number is required",
                )),
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
    errs
}

fn validate_http_path(p: &HTTPIngressPath, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let value = s(&p.path);
    match p.path_type.as_deref() {
        None => {
            return vec![FieldError::required(
                &path.child("pathType"),
                "pathType must be specified",
            )];
        }
        Some("Exact" | "Prefix") => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &path.child("path"),
                    value,
                    "must be an absolute path",
                ));
            }
            if !value.is_empty() {
                for seq in INVALID_PATH_SEQUENCES {
                    if value.contains(seq) {
                        errs.push(FieldError::invalid(
                            &path.child("path"),
                            value,
                            format!("must not contain '{seq}'"),
                        ));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if value.ends_with(suffix) {
                        errs.push(FieldError::invalid(
                            &path.child("path"),
                            value,
                            format!("cannot end with '{suffix}'"),
                        ));
                    }
                }
            }
        }
        Some("ImplementationSpecific") => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &path.child("path"),
                    value,
                    "must be an absolute path",
                ));
            }
        }
        Some(other) => errs.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            &PATH_TYPES,
        )),
    }
    errs.extend(validate_backend(&p.backend, &path.child("backend")));
    errs
}

fn validate_rules(rules: &[IngressRule], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, rule) in rules.iter().enumerate() {
        let host = s(&rule.host);
        let host_path = path.index(i).child("host");
        if !host.is_empty() {
            if names::is_ip(host) {
                errs.push(FieldError::invalid(
                    &host_path,
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            let msgs = if host.contains('*') {
                names::is_wildcard_dns1123_subdomain(host)
            } else {
                names::is_dns1123_subdomain(host)
            };
            for msg in msgs {
                errs.push(FieldError::invalid(&host_path, host, msg));
            }
        }
        if let Some(http) = &rule.http {
            let hp = path.index(i).child("http");
            if http.paths.is_empty() {
                errs.push(FieldError::required(&hp.child("paths"), ""));
            }
            for (j, p) in http.paths.iter().enumerate() {
                errs.extend(validate_http_path(p, &hp.child("paths").index(j)));
            }
        }
    }
    errs
}

fn validate_ingress_spec(spec: &IngressSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let rules = items(&spec.rules);
    if rules.is_empty() && spec.default_backend.is_none() {
        errs.push(FieldError::invalid(
            path,
            gofmt::raw(go_rules(spec.rules.as_deref())),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = &spec.default_backend {
        errs.extend(validate_backend(b, &path.child("defaultBackend")));
    }
    if !rules.is_empty() {
        errs.extend(validate_rules(rules, &path.child("rules")));
    }
    for (i, tls) in items(&spec.tls).iter().enumerate() {
        let tp = path.child("tls").index(i);
        for (j, host) in items(&tls.hosts).iter().enumerate() {
            let msgs = if host.contains('*') {
                names::is_wildcard_dns1123_subdomain(host)
            } else {
                names::is_dns1123_subdomain(host)
            };
            for msg in msgs {
                errs.push(FieldError::invalid(
                    &tp.child("hosts").index(j),
                    host.as_str(),
                    msg,
                ));
            }
        }
        let secret = s(&tls.secret_name);
        if !secret.is_empty() {
            errs.extend(meta::validate_name(
                names::name_is_dns_subdomain,
                secret,
                &tp.child("secretName"),
            ));
        }
    }
    if let Some(class) = &spec.ingress_class_name {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            class,
            &path.child("ingressClassName"),
        ));
    }
    errs
}

impl Validate for Ingress {
    /// Upstream's `ValidateIngressCreate`.
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        errs.extend(validate_ingress_spec(&spec, &Path::new("spec")));
        if let (Some(annotation), Some(class)) = (
            self.metadata.annotations().get(INGRESS_CLASS_ANNOTATION),
            &spec.ingress_class_name,
        ) && annotation != class
        {
            // Upstream's path for this error has no `metadata.` and a `.` before the key.
            errs.push(FieldError::invalid(
                &Path::new("annotations").child(INGRESS_CLASS_ANNOTATION),
                annotation.as_str(),
                "must match `ingressClassName` when both are specified",
            ));
        }
        errs
    }
}

impl Validate for IngressClass {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        let controller = s(&spec.controller);
        if controller.len() > MAX_LEN_INGRESS_CLASS_CONTROLLER {
            errs.push(FieldError::too_long(
                &p.child("controller"),
                MAX_LEN_INGRESS_CLASS_CONTROLLER,
            ));
        }
        errs.extend(names::is_domain_prefixed_path(
            &p.child("controller"),
            controller,
        ));
        if let Some(params) = &spec.parameters {
            let pp = p.child("parameters");
            let r = TypedLocalObjectReference {
                api_group: params.api_group.clone(),
                kind: params.kind.clone(),
                name: params.name.clone(),
            };
            errs.extend(validate_typed_local_object_reference(&r, &pp));
            match params.scope.as_deref() {
                None => errs.push(FieldError::required(&pp.child("scope"), "")),
                Some(scope @ ("Namespace" | "Cluster")) => {
                    if scope == "Namespace" {
                        match &params.namespace {
                            None => errs.push(FieldError::required(
                                &pp.child("namespace"),
                                "`parameters.scope` is set to 'Namespace'",
                            )),
                            Some(ns) => errs.extend(meta::validate_name(
                                names::name_is_dns_label,
                                ns,
                                &pp.child("namespace"),
                            )),
                        }
                    }
                    if scope == "Cluster" && params.namespace.is_some() {
                        errs.push(FieldError::forbidden(
                            &pp.child("namespace"),
                            "`parameters.scope` is set to 'Cluster'",
                        ));
                    }
                }
                Some(other) => errs.push(FieldError::not_supported(
                    &pp.child("scope"),
                    other,
                    &["Cluster", "Namespace"],
                )),
            }
        }
        errs
    }
}
