//! The batch group: Job and CronJob, as upstream's `pkg/apis/batch/validation` (generated
//! selectors, restart policy `OnFailure`/`Never`, completion modes, pod failure and success
//! policies, schedules, the 52-character CronJob name limit).

use crate::SortedMap;
use std::collections::BTreeSet;

use super::Validate;
use super::cron;
use super::field::{BadValue, ErrorList, FieldError, Path};
use super::gofmt;
use super::meta::{self, SelectorOpts, items, s};
use super::names;
use super::pod::{self, PodOpts};
use crate::batch::v1::{
    CronJob, Job, JobSpec, JobTemplateSpec, PodFailurePolicyRule, SuccessPolicyRule,
};
use crate::meta::ObjectMeta;

const MAX_PARALLELISM_FOR_INDEXED_JOB: i32 = 100_000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB: i32 = 100_000;
const COMPLETIONS_SOFT_LIMIT: i32 = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS: i32 = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS: i32 = 10_000;
const MAX_POD_FAILURE_POLICY_RULES: usize = 20;
const MAX_ON_EXIT_CODES_VALUES: usize = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS: usize = 20;
const MAX_MANAGED_BY_LENGTH: usize = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH: usize = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES: usize = 20;

const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";

/// The uid the API server would have assigned, for a Job validated before it has one.
const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000000";

const FAILURE_ACTIONS: [&str; 4] = ["Count", "FailIndex", "FailJob", "Ignore"];
const EXIT_CODE_OPERATORS: [&str; 2] = ["In", "NotIn"];
const CONDITION_STATUSES: [&str; 3] = ["False", "True", "Unknown"];
const REPLACEMENT_POLICIES: [&str; 2] = ["Failed", "TerminatingOrFailed"];

/// Go's `%q` of a string list: `["a" "b"]`.
fn go_quoted_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| super::field::go_quote(v)).collect();
    format!("[{}]", quoted.join(" "))
}

fn validate_pod_failure_policy(spec: &JobSpec, path: &Path) -> ErrorList {
    let Some(policy) = &spec.pod_failure_policy else {
        return Vec::new();
    };
    let mut errs = ErrorList::new();
    let rules_path = path.child("rules");
    if policy.rules.len() > MAX_POD_FAILURE_POLICY_RULES {
        errs.push(FieldError::too_many(
            &rules_path,
            policy.rules.len(),
            MAX_POD_FAILURE_POLICY_RULES,
        ));
    }
    let containers: BTreeSet<&str> = spec
        .template
        .spec
        .iter()
        .flat_map(|ps| ps.containers.iter().chain(items(&ps.init_containers)))
        .map(|c| c.name.as_str())
        .collect();
    for (i, rule) in policy.rules.iter().enumerate() {
        errs.extend(validate_pod_failure_policy_rule(
            spec,
            rule,
            &rules_path.index(i),
            &containers,
        ));
    }
    errs
}

fn validate_pod_failure_policy_rule(
    spec: &JobSpec,
    rule: &PodFailurePolicyRule,
    path: &Path,
    containers: &BTreeSet<&str>,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let action_path = path.child("action");
    if rule.action.is_empty() {
        errs.push(FieldError::required(
            &action_path,
            format!("valid values: {}", go_quoted_list(&FAILURE_ACTIONS)),
        ));
    } else if rule.action == "FailIndex" {
        if spec.backoff_limit_per_index.is_none() {
            errs.push(FieldError::invalid(
                &action_path,
                rule.action.as_str(),
                "requires the backoffLimitPerIndex to be set",
            ));
        }
    } else if !FAILURE_ACTIONS.contains(&rule.action.as_str()) {
        errs.push(FieldError::not_supported(
            &action_path,
            rule.action.as_str(),
            &FAILURE_ACTIONS,
        ));
    }
    if let Some(oe) = &rule.on_exit_codes {
        let p = path.child("onExitCodes");
        let op_path = p.child("operator");
        if oe.operator.is_empty() {
            errs.push(FieldError::required(
                &op_path,
                format!("valid values: {}", go_quoted_list(&EXIT_CODE_OPERATORS)),
            ));
        } else if !EXIT_CODE_OPERATORS.contains(&oe.operator.as_str()) {
            errs.push(FieldError::not_supported(
                &op_path,
                oe.operator.as_str(),
                &EXIT_CODE_OPERATORS,
            ));
        }
        if let Some(c) = &oe.container_name
            && !containers.contains(c.as_str())
        {
            errs.push(FieldError::invalid(
                &p.child("containerName"),
                c.as_str(),
                "must be one of the container or initContainer names in the pod template",
            ));
        }
        let values_path = p.child("values");
        let values_value = || {
            gofmt::raw(gofmt::typed_slice("int32", Some(&oe.values), |v| {
                v.to_string()
            }))
        };
        if oe.values.is_empty() {
            errs.push(FieldError::invalid(
                &values_path,
                values_value(),
                "at least one value is required",
            ));
        } else if oe.values.len() > MAX_ON_EXIT_CODES_VALUES {
            errs.push(FieldError::too_many(
                &values_path,
                oe.values.len(),
                MAX_ON_EXIT_CODES_VALUES,
            ));
        }
        let mut ordered = true;
        let mut seen = BTreeSet::new();
        for (j, v) in oe.values.iter().enumerate() {
            if oe.operator == "In" && *v == 0 {
                errs.push(FieldError::invalid(
                    &values_path.index(j),
                    *v,
                    "must not be 0 for the In operator",
                ));
            }
            if !seen.insert(*v) {
                errs.push(FieldError::duplicate(&values_path.index(j), *v));
            }
            if j > 0 && oe.values[j - 1] > *v {
                ordered = false;
            }
        }
        if !ordered {
            errs.push(FieldError::invalid(
                &values_path,
                values_value(),
                "must be ordered",
            ));
        }
    }
    let conditions = items(&rule.on_pod_conditions);
    if !conditions.is_empty() {
        let p = path.child("onPodConditions");
        if conditions.len() > MAX_ON_POD_CONDITIONS_PATTERNS {
            errs.push(FieldError::too_many(
                &p,
                conditions.len(),
                MAX_ON_POD_CONDITIONS_PATTERNS,
            ));
        }
        for (j, pattern) in conditions.iter().enumerate() {
            let pp = p.index(j);
            errs.extend(meta::validate_qualified_name(
                &pattern.type_,
                &pp.child("type"),
            ));
            if pattern.status.is_empty() {
                errs.push(FieldError::required(
                    &pp.child("status"),
                    format!("valid values: {}", go_quoted_list(&CONDITION_STATUSES)),
                ));
            } else if !CONDITION_STATUSES.contains(&pattern.status.as_str()) {
                errs.push(FieldError::not_supported(
                    &pp.child("status"),
                    pattern.status.as_str(),
                    &CONDITION_STATUSES,
                ));
            }
        }
    }
    if rule.on_exit_codes.is_some() && !conditions.is_empty() {
        errs.push(FieldError::invalid(
            path,
            BadValue::Omitted,
            "specifying both OnExitCodes and OnPodConditions is not supported",
        ));
    }
    if rule.on_exit_codes.is_none() && conditions.is_empty() {
        errs.push(FieldError::invalid(
            path,
            BadValue::Omitted,
            "specifying one of OnExitCodes and OnPodConditions is required",
        ));
    }
    errs
}

/// Upstream's `parseIndexInterval`.
fn parse_index_interval(interval: &str, completions: i32) -> Result<(i64, i64), String> {
    let limits: Vec<&str> = interval.split('-').collect();
    if limits.len() > 2 {
        return Err(format!(
            "the fragment {} violates the requirement that an index interval can have at most two parts separated by '-'",
            super::field::go_quote(interval)
        ));
    }
    let parse = |s: &str| -> Result<i64, String> {
        let digits = s.strip_prefix('+').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "cannot convert string to integer for index: {}",
                super::field::go_quote(s)
            ));
        }
        let v = digits.parse::<i64>().map_err(|_| {
            format!(
                "cannot convert string to integer for index: {}",
                super::field::go_quote(s)
            )
        })?;
        if v >= i64::from(completions) {
            return Err(format!("too large index: {}", super::field::go_quote(s)));
        }
        Ok(v)
    };
    let x = parse(limits[0])?;
    if limits.len() == 2 {
        let y = parse(limits[1])?;
        if x >= y {
            return Err(format!("non-increasing order, previous: {x}, current: {y}"));
        }
        return Ok((x, y));
    }
    Ok((x, x))
}

/// Upstream's `validateIndexesFormat`: the number of indexes, or the parse error.
fn validate_indexes_format(indexes: &str, completions: i32) -> Result<i64, String> {
    if indexes.is_empty() {
        return Ok(0);
    }
    let mut last: Option<i64> = None;
    let mut total = 0i64;
    for interval in indexes.split(',') {
        let (x, y) = parse_index_interval(interval, completions)?;
        if let Some(l) = last
            && l >= x
        {
            return Err(format!("non-increasing order, previous: {l}, current: {x}"));
        }
        total += y - x + 1;
        last = Some(y);
    }
    Ok(total)
}

fn validate_success_policy_rule(
    completions: Option<i32>,
    rule: &SuccessPolicyRule,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if rule.succeeded_count.is_none() && rule.succeeded_indexes.is_none() {
        errs.push(FieldError::required(
            path,
            "at least one of succeededCount or succeededIndexes must be specified",
        ));
    }
    // Indexed Jobs without `completions` are already reported; upstream cannot go on without it.
    let Some(completions) = completions else {
        return errs;
    };
    let mut total = 0;
    if let Some(indexes) = &rule.succeeded_indexes {
        let p = path.child("succeededIndexes");
        if indexes.len() > MAX_SUCCEEDED_INDEXES_LENGTH {
            errs.push(FieldError::too_long(&p, MAX_SUCCEEDED_INDEXES_LENGTH));
        }
        match validate_indexes_format(indexes, completions) {
            Ok(t) => total = t,
            Err(e) => errs.push(FieldError::invalid(
                &p,
                indexes.as_str(),
                format!("error parsing succeededIndexes: {e}"),
            )),
        }
    }
    if let Some(count) = rule.succeeded_count {
        let p = path.child("succeededCount");
        errs.extend(meta::validate_nonnegative(i64::from(count), &p));
        if count > completions {
            errs.push(FieldError::invalid(&p, count, format!("must be less than or equal to {completions} (the number of specified completions)")));
        }
        if rule.succeeded_indexes.is_some() && i64::from(count) > total {
            errs.push(FieldError::invalid(
                &p,
                count,
                format!("must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)"),
            ));
        }
    }
    errs
}

/// Upstream's `validateJobSpec`: the parts a Job and a CronJob's job template share.
fn validate_job_spec_common(spec: &JobSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (field, value) in [
        ("parallelism", spec.parallelism.map(i64::from)),
        ("completions", spec.completions.map(i64::from)),
        ("activeDeadlineSeconds", spec.active_deadline_seconds),
        ("backoffLimit", spec.backoff_limit.map(i64::from)),
        (
            "ttlSecondsAfterFinished",
            spec.ttl_seconds_after_finished.map(i64::from),
        ),
        (
            "backoffLimitPerIndex",
            spec.backoff_limit_per_index.map(i64::from),
        ),
    ] {
        if let Some(v) = value {
            errs.extend(meta::validate_nonnegative(v, &path.child(field)));
        }
    }
    if let Some(mfi) = spec.max_failed_indexes {
        errs.extend(meta::validate_nonnegative(
            i64::from(mfi),
            &path.child("maxFailedIndexes"),
        ));
        if spec.backoff_limit_per_index.is_none() {
            errs.push(FieldError::required(
                &path.child("backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            ));
        }
    }
    if let Some(mb) = &spec.managed_by {
        errs.extend(names::is_domain_prefixed_path(&path.child("managedBy"), mb));
        if mb.len() > MAX_MANAGED_BY_LENGTH {
            errs.push(FieldError::too_long(
                &path.child("managedBy"),
                MAX_MANAGED_BY_LENGTH,
            ));
        }
    }
    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    if let Some(mode) = &spec.completion_mode {
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.push(FieldError::not_supported(
                &path.child("completionMode"),
                mode.as_str(),
                &["NonIndexed", "Indexed"],
            ));
        }
        if indexed {
            if spec.completions.is_none() {
                errs.push(FieldError::required(
                    &path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) = spec.parallelism
                && p > MAX_PARALLELISM_FOR_INDEXED_JOB
            {
                errs.push(FieldError::invalid(
                    &path.child("parallelism"),
                    p,
                    format!("must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed"),
                ));
            }
            if let (Some(c), Some(m)) = (spec.completions, spec.max_failed_indexes)
                && m > c
            {
                errs.push(FieldError::invalid(
                    &path.child("maxFailedIndexes"),
                    m,
                    "must be less than or equal to completions",
                ));
            }
            if let Some(m) = spec.max_failed_indexes
                && m > MAX_FAILED_INDEXES_FOR_INDEXED_JOB
            {
                errs.push(FieldError::invalid(
                    &path.child("maxFailedIndexes"),
                    m,
                    format!("must be less than or equal to {MAX_FAILED_INDEXES_FOR_INDEXED_JOB}"),
                ));
            }
            if spec.completions.is_some_and(|c| c > COMPLETIONS_SOFT_LIMIT)
                && spec.backoff_limit_per_index.is_some()
            {
                match spec.max_failed_indexes {
                    None => errs.push(FieldError::required(
                        &path.child("maxFailedIndexes"),
                        format!("must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"),
                    )),
                    Some(m) if m > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS => errs.push(FieldError::invalid(
                        &path.child("maxFailedIndexes"),
                        m,
                        format!(
                            "must be less than or equal to {MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
                        ),
                    )),
                    Some(_) => {}
                }
                if let Some(p) = spec.parallelism
                    && p > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS
                {
                    errs.push(FieldError::invalid(
                        &path.child("parallelism"),
                        p,
                        format!(
                            "must be less than or equal to {PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
                        ),
                    ));
                }
            }
        }
    }
    if !indexed
        && spec
            .completion_mode
            .as_deref()
            .is_none_or(|m| m == "NonIndexed")
    {
        if let Some(b) = spec.backoff_limit_per_index {
            errs.push(FieldError::invalid(
                &path.child("backoffLimitPerIndex"),
                b,
                "requires indexed completion mode",
            ));
        }
        if let Some(m) = spec.max_failed_indexes {
            errs.push(FieldError::invalid(
                &path.child("maxFailedIndexes"),
                m,
                "requires indexed completion mode",
            ));
        }
    }
    errs.extend(validate_pod_failure_policy(
        spec,
        &path.child("podFailurePolicy"),
    ));
    if let Some(sp) = &spec.success_policy {
        let p = path.child("successPolicy");
        if !indexed {
            let rendered = format!(
                "batch.SuccessPolicy{{Rules:{}}}",
                gofmt::typed_slice("batch.SuccessPolicyRule", Some(&sp.rules), |r| format!(
                    "batch.SuccessPolicyRule{{SucceededIndexes:{}, SucceededCount:{}}}",
                    gofmt::pointer("string", r.succeeded_indexes.as_ref()),
                    gofmt::pointer("int32", r.succeeded_count.as_ref())
                ))
            );
            errs.push(FieldError::invalid(
                &p,
                gofmt::raw(rendered),
                "requires indexed completion mode",
            ));
        } else {
            let rules_path = p.child("rules");
            if sp.rules.is_empty() {
                errs.push(FieldError::required(
                    &rules_path,
                    "at least one rules must be specified when the successPolicy is specified",
                ));
            }
            if sp.rules.len() > MAX_SUCCESS_POLICY_RULES {
                errs.push(FieldError::too_many(
                    &rules_path,
                    sp.rules.len(),
                    MAX_SUCCESS_POLICY_RULES,
                ));
            }
            for (i, rule) in sp.rules.iter().enumerate() {
                errs.extend(validate_success_policy_rule(
                    spec.completions,
                    rule,
                    &rules_path.index(i),
                ));
            }
        }
    }
    if let Some(rp) = &spec.pod_replacement_policy {
        let p = path.child("podReplacementPolicy");
        if spec.pod_failure_policy.is_some() {
            if rp != "Failed" {
                errs.push(FieldError::not_supported(&p, rp.as_str(), &["Failed"]));
            }
        } else if !REPLACEMENT_POLICIES.contains(&rp.as_str()) {
            errs.push(FieldError::not_supported(
                &p,
                rp.as_str(),
                &REPLACEMENT_POLICIES,
            ));
        }
    }
    let tp = path.child("template");
    errs.extend(pod::validate_pod_template_spec(
        &spec.template,
        &tp,
        PodOpts::default(),
    ));
    let restart = spec
        .template
        .spec
        .as_ref()
        .map_or("", |ps| s(&ps.restart_policy));
    let rp_path = tp.child("spec").child("restartPolicy");
    if restart == "Always" || restart.is_empty() {
        errs.push(FieldError::required(
            &rp_path,
            "valid values: \"OnFailure\", \"Never\"",
        ));
    } else if restart != "OnFailure" && restart != "Never" {
        errs.push(FieldError::not_supported(
            &rp_path,
            restart,
            &["OnFailure", "Never"],
        ));
    } else if spec.pod_failure_policy.is_some() && restart != "Never" {
        errs.push(FieldError::invalid(
            &rp_path,
            restart,
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
    errs
}

/// Upstream's `ValidateHasLabel`.
fn validate_has_label(m: &ObjectMeta, path: &Path, key: &str, expected: &str) -> ErrorList {
    let p = path.child("labels").key(key);
    match m.labels().get(key) {
        None => vec![FieldError::required(&p, format!("must be '{expected}'"))],
        Some(actual) if actual != expected => {
            vec![FieldError::invalid(
                &p,
                gofmt::raw(gofmt::string_map(m.labels.as_ref())),
                format!("must be '{expected}'"),
            )]
        }
        Some(_) => Vec::new(),
    }
}

/// The Job as the API server validates it: with the selector and pod labels it generates
/// (upstream's `generateSelector`) unless `manualSelector` is set, and with a name and uid.
fn with_generated_selector(job: &Job) -> Job {
    let mut job = job.clone();
    let spec = job.spec.get_or_insert_with(JobSpec::default);
    if spec.manual_selector == Some(true) {
        return job;
    }
    let name = job
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| job.metadata.generate_name.clone())
        .unwrap_or_default();
    let uid = job
        .metadata
        .uid
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| PLACEHOLDER_UID.to_owned());
    let labels = spec
        .template
        .metadata
        .labels
        .get_or_insert_with(SortedMap::new);
    for key in [LEGACY_JOB_NAME, JOB_NAME] {
        labels.entry(key.to_owned()).or_insert_with(|| name.clone());
    }
    for key in [LEGACY_CONTROLLER_UID, CONTROLLER_UID] {
        labels.entry(key.to_owned()).or_insert_with(|| uid.clone());
    }
    let selector = spec.selector.get_or_insert_with(Default::default);
    selector
        .match_labels
        .get_or_insert_with(SortedMap::new)
        .entry(CONTROLLER_UID.to_owned())
        .or_insert(uid);
    job.metadata
        .uid
        .get_or_insert_with(|| PLACEHOLDER_UID.to_owned());
    job
}

impl Validate for Job {
    /// Upstream's `ValidateJob` on the object as the Job strategy prepares it (see
    /// `with_generated_selector`; a Job without a uid is validated with a placeholder uid,
    /// as the API server assigns one before it validates).
    fn validate(&self) -> ErrorList {
        let job = with_generated_selector(self);
        let md = Path::new("metadata");
        let mut errs =
            meta::validate_object_meta(&self.metadata, true, names::name_is_dns_subdomain, &md);
        let spec = job.spec.clone().unwrap_or_default();
        let uid = s(&job.metadata.uid);
        let name = job
            .metadata
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| job.metadata.generate_name.clone())
            .unwrap_or_default();
        if spec.manual_selector != Some(true)
            && let Some(sel) = &spec.selector
        {
            if uid.is_empty() {
                errs.push(FieldError::required(&md.child("uid"), ""));
            }
            let tmd = Path::new("spec").child("template").child("metadata");
            errs.extend(validate_has_label(
                &spec.template.metadata,
                &tmd,
                LEGACY_CONTROLLER_UID,
                uid,
            ));
            errs.extend(validate_has_label(
                &spec.template.metadata,
                &tmd,
                LEGACY_JOB_NAME,
                &name,
            ));
            errs.extend(validate_has_label(
                &spec.template.metadata,
                &tmd,
                CONTROLLER_UID,
                uid,
            ));
            errs.extend(validate_has_label(
                &spec.template.metadata,
                &tmd,
                JOB_NAME,
                &name,
            ));
            let expected = SortedMap::from([
                (CONTROLLER_UID.to_owned(), uid.to_owned()),
                (JOB_NAME.to_owned(), name.clone()),
                (LEGACY_CONTROLLER_UID.to_owned(), uid.to_owned()),
                (LEGACY_JOB_NAME.to_owned(), name.clone()),
            ]);
            if let Ok(selector) = meta::selector_from(Some(sel))
                && !meta::selector_matches(&selector, Some(&expected))
            {
                errs.push(FieldError::invalid(
                    &Path::new("spec").child("selector"),
                    gofmt::raw(gofmt::label_selector(sel)),
                    "`selector` not auto-generated",
                ));
            }
        }
        let sp = Path::new("spec");
        errs.extend(validate_job_spec_common(&spec, &sp));
        match &spec.selector {
            None => errs.push(FieldError::required(&sp.child("selector"), "")),
            Some(sel) => errs.extend(meta::validate_label_selector(
                Some(sel),
                SelectorOpts::default(),
                &sp.child("selector"),
            )),
        }
        if let Ok(selector) = meta::selector_from(spec.selector.as_deref())
            && !meta::selector_matches(&selector, spec.template.metadata.labels.as_ref())
        {
            errs.push(FieldError::invalid(
                &sp.child("template").child("metadata").child("labels"),
                gofmt::raw(gofmt::string_map(spec.template.metadata.labels.as_ref())),
                "`selector` does not match template `labels`",
            ));
        }
        if spec.completion_mode.as_deref() == Some("Indexed")
            && let Some(c) = spec.completions
            && c > 0
        {
            let job_name = s(&self.metadata.name);
            let hostname = format!("{job_name}-{}", c - 1);
            if !names::is_dns1123_label(&hostname).is_empty() {
                errs.push(FieldError::invalid(
                    &md.child("name"),
                    job_name,
                    format!("will not able to create pod with invalid DNS label: {hostname}"),
                ));
            }
        }
        errs
    }
}

/// Upstream's `ValidateJobTemplateSpec` (a CronJob's `jobTemplate`).
fn validate_job_template_spec(t: &JobTemplateSpec, path: &Path) -> ErrorList {
    let spec = t.spec.clone().unwrap_or_default();
    let sp = path.child("spec");
    let mut errs = validate_job_spec_common(&spec, &sp);
    if let Some(sel) = &spec.selector {
        errs.push(FieldError::invalid(
            &sp.child("selector"),
            gofmt::raw(gofmt::label_selector(sel)),
            "`selector` will be auto-generated",
        ));
    }
    if spec.manual_selector == Some(true) {
        errs.push(FieldError::not_supported(
            &sp.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    errs
}

/// Upstream's `validateTimeZone`, without the final lookup in a time-zone database (which
/// depends on the machine's `tzdata`).
fn validate_time_zone(tz: Option<&String>, path: &Path) -> ErrorList {
    let Some(tz) = tz else { return Vec::new() };
    if tz.is_empty() {
        return vec![FieldError::invalid(
            path,
            "",
            "timeZone must be nil or non-empty string",
        )];
    }
    for part in tz.split('/') {
        let chars_ok = !part.is_empty()
            && part.len() <= 14
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
        if part == "." || part == ".." || part.starts_with('-') || !chars_ok {
            return vec![FieldError::invalid(
                path,
                tz.as_str(),
                format!("unknown time zone {tz}"),
            )];
        }
    }
    if tz.eq_ignore_ascii_case("Local") {
        return vec![FieldError::invalid(
            path,
            tz.as_str(),
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        )];
    }
    Vec::new()
}

impl Validate for CronJob {
    fn validate(&self) -> ErrorList {
        let md = Path::new("metadata");
        let mut errs =
            meta::validate_object_meta(&self.metadata, true, names::name_is_dns_subdomain, &md);
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        if spec.schedule.is_empty() {
            errs.push(FieldError::required(&p.child("schedule"), ""));
        } else {
            if let Err(e) = cron::parse_standard(&spec.schedule) {
                errs.push(FieldError::invalid(
                    &p.child("schedule"),
                    spec.schedule.as_str(),
                    e,
                ));
            }
            if spec.schedule.contains("TZ") {
                errs.push(FieldError::invalid(
                    &p.child("schedule"),
                    spec.schedule.as_str(),
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            }
        }
        if let Some(sds) = spec.starting_deadline_seconds {
            errs.extend(meta::validate_nonnegative(
                sds,
                &p.child("startingDeadlineSeconds"),
            ));
        }
        errs.extend(validate_time_zone(
            spec.time_zone.as_ref(),
            &p.child("timeZone"),
        ));
        match s(&spec.concurrency_policy) {
            "Allow" | "Forbid" | "Replace" => {}
            "" => errs.push(FieldError::required(&p.child("concurrencyPolicy"), "")),
            other => errs.push(FieldError::not_supported(
                &p.child("concurrencyPolicy"),
                other,
                &["Allow", "Forbid", "Replace"],
            )),
        }
        errs.extend(validate_job_template_spec(
            &spec.job_template,
            &p.child("jobTemplate"),
        ));
        for (field, value) in [
            (
                "successfulJobsHistoryLimit",
                spec.successful_jobs_history_limit,
            ),
            ("failedJobsHistoryLimit", spec.failed_jobs_history_limit),
        ] {
            if let Some(v) = value {
                errs.extend(meta::validate_nonnegative(i64::from(v), &p.child(field)));
            }
        }
        // The controller appends an 11-character suffix to name the Jobs (at most 63 long).
        let name = s(&self.metadata.name);
        let max = 63 - 11;
        if name.len() > max {
            errs.push(FieldError::invalid(
                &md.child("name"),
                name,
                names::max_len_error(max),
            ));
        }
        errs
    }
}
