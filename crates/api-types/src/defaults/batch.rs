//! Defaults of `batch/v1`: Job (completions, parallelism, backoff, completion mode, suspension,
//! pod replacement) and CronJob (concurrency, suspension, history limits), with their pod
//! templates' defaults.
//!
//! A Job's generated selector and `controller-uid` labels are the registry's work, not
//! defaulting, and are not done here; `manualSelector` itself does default to `false`.

use crate::SortedMap;

use super::pod::pod_template_spec;
use super::{SetDefaults, default_ptr, default_str};
use crate::batch::v1::{CronJob, Job, JobSpec};

/// Completions and parallelism 1 when both are unset, `backoffLimit: 6` (`i32::MAX` with a
/// per-index limit), labels copied from the template when the Job has none,
/// `completionMode: NonIndexed`, `suspend: false`, `podReplacementPolicy` (`Failed` with a pod
/// failure policy, else `TerminatingOrFailed`), `manualSelector: false`, and the template's
/// defaults.
impl SetDefaults for Job {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        if spec.completions.is_none() && spec.parallelism.is_none() {
            spec.completions = Some(1);
        }
        default_ptr(&mut spec.parallelism, 1);
        if spec.backoff_limit.is_none() {
            spec.backoff_limit = Some(if spec.backoff_limit_per_index.is_some() {
                i32::MAX
            } else {
                6
            });
        }
        // Upstream copies an empty map too, but an empty map is omitted from its JSON.
        let template_labels = spec.template.metadata.labels.as_ref();
        let job_unlabelled = self
            .metadata
            .labels
            .as_ref()
            .is_none_or(SortedMap::is_empty);
        if let Some(labels) = template_labels.filter(|l| !l.is_empty() && job_unlabelled) {
            self.metadata.labels = Some(labels.clone());
        }
        default_ptr(&mut spec.completion_mode, "NonIndexed".to_owned());
        default_ptr(&mut spec.suspend, false);
        let replacement = if spec.pod_failure_policy.is_some() {
            "Failed"
        } else {
            "TerminatingOrFailed"
        };
        default_ptr(&mut spec.pod_replacement_policy, replacement.to_owned());
        default_ptr(&mut spec.manual_selector, false);
        job_spec_nested(spec);
    }
}

/// `concurrencyPolicy: Allow`, `suspend: false`, history limits 3 (successful) and 1 (failed),
/// and the job template's nested defaults (the Job-level defaults apply only once a Job is
/// created from it).
impl SetDefaults for CronJob {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.concurrency_policy, "Allow");
        default_ptr(&mut spec.suspend, false);
        default_ptr(&mut spec.successful_jobs_history_limit, 3);
        default_ptr(&mut spec.failed_jobs_history_limit, 1);
        job_spec_nested(spec.job_template.spec.get_or_insert_with(Default::default));
    }
}

/// Defaults of the types inside a job spec, which apply wherever a job spec appears: a pod
/// failure policy's condition patterns match `status: "True"` by default, and the pod template
/// gets the pod-spec defaults.
fn job_spec_nested(spec: &mut JobSpec) {
    let rules = spec
        .pod_failure_policy
        .iter_mut()
        .flat_map(|p| &mut p.rules);
    for pattern in rules.flat_map(|r| r.on_pod_conditions.iter_mut().flatten()) {
        if pattern.status.is_empty() {
            pattern.status = "True".to_owned();
        }
    }
    pod_template_spec(&mut spec.template);
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::batch::v1::{CronJob, Job};
    use crate::defaults::tests::{assert_defaults, defaulted};

    /// A one-container template, before and after the pod-spec defaults.
    fn template(defaulted: bool) -> Value {
        let mut t = json!({"metadata": {"labels": {"app": "batch"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}});
        if defaulted {
            t["spec"] = json!({
                "restartPolicy": "Never",
                "containers": [{
                    "name": "work", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            });
        }
        t
    }

    #[test]
    fn job() {
        assert_defaults::<Job>(
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
                "spec": {"template": template(false)}}),
            json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "labels": {"app": "batch"}},
            "spec": {
                "completions": 1,
                "parallelism": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "suspend": false,
                "podReplacementPolicy": "TerminatingOrFailed",
                "manualSelector": false,
                "template": template(true)
            }}),
        );
    }

    #[test]
    fn job_cases() {
        // Upstream's TestSetDefaultJob: parallelism alone leaves completions unset, and the
        // reverse; labels the Job has are kept.
        let out = defaulted::<Job>(
            json!({"metadata": {"labels": {"mine": "x"}}, "spec": {"parallelism": 3}}),
        );
        assert_eq!(out["spec"]["parallelism"], 3);
        assert_eq!(out["spec"].get("completions"), None);
        assert_eq!(out["metadata"]["labels"], json!({"mine": "x"}));
        let out = defaulted::<Job>(json!({"spec": {"completions": 5}}));
        assert_eq!(out["spec"]["completions"], 5);
        assert_eq!(out["spec"]["parallelism"], 1);
        assert_eq!(out["metadata"].get("labels"), None);
        let out = defaulted::<Job>(json!({"spec": {"completions": 4, "backoffLimitPerIndex": 1,
            "completionMode": "Indexed"}}));
        assert_eq!(out["spec"]["backoffLimit"], i32::MAX);
        assert_eq!(out["spec"]["completionMode"], "Indexed");
        let out = defaulted::<Job>(json!({"spec": {"podFailurePolicy": {"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onPodConditions": [{"type": "ConfigIssue", "status": "False"}]}
        ]}}}));
        assert_eq!(out["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            out["spec"]["podFailurePolicy"],
            json!({"rules": [
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                {"action": "FailJob", "onPodConditions": [{"type": "ConfigIssue", "status": "False"}]}
            ]})
        );
    }

    #[test]
    fn cron_job() {
        assert_defaults::<CronJob>(
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {
                "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]},
                "template": template(false)
            }}}}),
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"}, "spec": {
                "schedule": "0 3 * * *",
                "concurrencyPolicy": "Allow",
                "suspend": false,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                // Job-level defaults (parallelism, backoffLimit, ...) wait for the Job itself.
                "jobTemplate": {"metadata": {}, "spec": {
                    "podFailurePolicy": {"rules": [{"action": "Ignore",
                        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
                    "template": template(true)
                }}
            }}),
        );
    }
}
