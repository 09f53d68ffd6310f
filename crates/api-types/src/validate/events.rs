//! Events of both APIs: the core `v1` Event gets upstream's lenient legacy validation only,
//! the `events.k8s.io/v1` Event the legacy rules plus the strict ones (upstream's
//! `ValidateEventCreate`). Both are checked on upstream's internal representation, so errors
//! name the internal fields (`involvedObject`, `reportingController`, `message`, `count`).

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta::{self, s};
use super::names;
use crate::meta::ObjectMeta;

const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
const ACTION_LENGTH_LIMIT: usize = 128;
const REASON_LENGTH_LIMIT: usize = 128;
const NOTE_LENGTH_LIMIT: usize = 1024;

/// The fields of upstream's internal `core.Event` that validation reads.
struct EventView<'a> {
    metadata: &'a ObjectMeta,
    involved_namespace: &'a str,
    event_time_set: bool,
    /// How the request's version names the reporting controller: the core `v1` API calls it
    /// `reportingComponent`, upstream's error paths follow that.
    reporting_field: &'static str,
    reporting_controller: &'a str,
    reporting_instance: &'a str,
    action: &'a str,
    reason: &'a str,
    message: &'a str,
    type_: &'a str,
    first_timestamp_set: bool,
    last_timestamp_set: bool,
    count: i32,
    source_set: bool,
    /// `(count, lastObservedTime set)` of the series, if any.
    series: Option<(i32, bool)>,
}

fn legacy_validate(e: &EventView<'_>) -> ErrorList {
    let mut errs = ErrorList::new();
    let namespace = s(&e.metadata.namespace);
    let involved_path = Path::new("involvedObject").child("namespace");
    const MISMATCH: &str = "does not match event.namespace";
    if !e.event_time_set {
        if e.involved_namespace.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                errs.push(FieldError::invalid(
                    &involved_path,
                    e.involved_namespace,
                    MISMATCH,
                ));
            }
        } else if namespace != e.involved_namespace {
            errs.push(FieldError::invalid(
                &involved_path,
                e.involved_namespace,
                MISMATCH,
            ));
        }
    } else {
        if e.involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(FieldError::invalid(
                &involved_path,
                e.involved_namespace,
                MISMATCH,
            ));
        }
        let reporting_path = Path::new(e.reporting_field);
        if e.reporting_controller.is_empty() {
            errs.push(FieldError::required(&reporting_path, ""));
        }
        errs.extend(meta::validate_qualified_name(
            e.reporting_controller,
            &reporting_path,
        ));
        for (field, value, limit, required) in [
            (
                "reportingInstance",
                e.reporting_instance,
                REPORTING_INSTANCE_LENGTH_LIMIT,
                true,
            ),
            ("action", e.action, ACTION_LENGTH_LIMIT, true),
            ("reason", e.reason, REASON_LENGTH_LIMIT, true),
            ("message", e.message, NOTE_LENGTH_LIMIT, false),
        ] {
            if required && value.is_empty() {
                errs.push(FieldError::required(&Path::new(field), ""));
            }
            if value.len() > limit {
                errs.push(FieldError::invalid(
                    &Path::new(field),
                    "",
                    format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    // An Event without a namespace gets the request's namespace before validation (see the
    // module docs of `validate`); only a namespace the object carries is checked here.
    if !namespace.is_empty() {
        for msg in names::is_dns1123_subdomain(namespace) {
            errs.push(FieldError::invalid(&Path::new("namespace"), namespace, msg));
        }
    }
    errs
}

impl Validate for crate::core::v1::Event {
    /// Upstream validates core `v1` Events with the legacy rules only (not even their metadata).
    fn validate(&self) -> ErrorList {
        let view = EventView {
            metadata: &self.metadata,
            involved_namespace: s(&self.involved_object.namespace),
            event_time_set: self.event_time.as_ref().is_some_and(|t| !t.is_zero()),
            reporting_field: "reportingComponent",
            reporting_controller: s(&self.reporting_component),
            reporting_instance: s(&self.reporting_instance),
            action: s(&self.action),
            reason: s(&self.reason),
            message: s(&self.message),
            type_: s(&self.type_),
            first_timestamp_set: self.first_timestamp.as_ref().is_some_and(|t| !t.is_zero()),
            last_timestamp_set: self.last_timestamp.as_ref().is_some_and(|t| !t.is_zero()),
            count: self.count.unwrap_or(0),
            source_set: self
                .source
                .as_ref()
                .is_some_and(|src| !s(&src.component).is_empty() || !s(&src.host).is_empty()),
            series: self.series.as_ref().map(|sr| {
                (
                    sr.count.unwrap_or(0),
                    sr.last_observed_time.as_ref().is_some_and(|t| !t.is_zero()),
                )
            }),
        };
        legacy_validate(&view)
    }
}

impl Validate for crate::events::v1::Event {
    fn validate(&self) -> ErrorList {
        let view = EventView {
            metadata: &self.metadata,
            involved_namespace: self.regarding.as_ref().map_or("", |r| s(&r.namespace)),
            event_time_set: !self.event_time.is_zero(),
            reporting_field: "reportingController",
            reporting_controller: s(&self.reporting_controller),
            reporting_instance: s(&self.reporting_instance),
            action: s(&self.action),
            reason: s(&self.reason),
            message: s(&self.note),
            type_: s(&self.type_),
            first_timestamp_set: self
                .deprecated_first_timestamp
                .as_ref()
                .is_some_and(|t| !t.is_zero()),
            last_timestamp_set: self
                .deprecated_last_timestamp
                .as_ref()
                .is_some_and(|t| !t.is_zero()),
            count: self.deprecated_count.unwrap_or(0),
            source_set: self
                .deprecated_source
                .as_ref()
                .is_some_and(|src| !s(&src.component).is_empty() || !s(&src.host).is_empty()),
            series: self
                .series
                .as_ref()
                .map(|sr| (sr.count, !sr.last_observed_time.is_zero())),
        };
        let mut errs = legacy_validate(&view);
        errs.extend(meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        ));
        if let Some((count, observed)) = view.series {
            if count < 2 {
                errs.push(FieldError::invalid(
                    &Path::new("series.count"),
                    "",
                    "should be at least 2",
                ));
            }
            if !observed {
                errs.push(FieldError::required(
                    &Path::new("series.lastObservedTime"),
                    "",
                ));
            }
        }
        if !view.event_time_set {
            errs.push(FieldError::required(&Path::new("eventTime"), ""));
        }
        if view.type_ != "Normal" && view.type_ != "Warning" {
            errs.push(FieldError::invalid(
                &Path::new("type"),
                "",
                format!("has invalid value: {}", view.type_),
            ));
        }
        if view.first_timestamp_set {
            errs.push(FieldError::invalid(
                &Path::new("firstTimestamp"),
                "",
                "needs to be unset",
            ));
        }
        if view.last_timestamp_set {
            errs.push(FieldError::invalid(
                &Path::new("lastTimestamp"),
                "",
                "needs to be unset",
            ));
        }
        if view.count != 0 {
            errs.push(FieldError::invalid(
                &Path::new("count"),
                "",
                "needs to be unset",
            ));
        }
        if view.source_set {
            errs.push(FieldError::invalid(
                &Path::new("source"),
                "",
                "needs to be unset",
            ));
        }
        errs
    }
}
