//! batch/v1: Job and CronJob.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

#[test]
fn job_rules() {
    let j = |patch: serde_json::Value| merge(&job(), &patch);
    run(vec![
        case(
            "restartPolicy is OnFailure or Never",
            j(json!({"spec": {"template": {"spec": {"restartPolicy": "Always"}}}})),
            vec![e(
                Required,
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            )],
        ),
        case(
            "an omitted restartPolicy defaults to Always",
            j(json!({"spec": {"template": {"spec": {"restartPolicy": null}}}})),
            vec![e(
                Required,
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            )],
        ),
        case(
            "parallelism is not negative",
            j(json!({"spec": {"parallelism": -1}})),
            vec![e(
                Invalid,
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "completions are not negative",
            j(json!({"spec": {"completions": -1}})),
            vec![e(
                Invalid,
                "spec.completions: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "activeDeadlineSeconds is not negative",
            j(json!({"spec": {"activeDeadlineSeconds": -1}})),
            vec![e(
                Invalid,
                "spec.activeDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "backoffLimit is not negative",
            j(json!({"spec": {"backoffLimit": -1}})),
            vec![e(
                Invalid,
                "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "ttlSecondsAfterFinished is not negative",
            j(json!({"spec": {"ttlSecondsAfterFinished": -1}})),
            vec![e(
                Invalid,
                "spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "a manual selector is required",
            j(json!({"spec": {"manualSelector": true}})),
            vec![
                e(Required, "spec.selector: Required value"),
                e(
                    Invalid,
                    "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`",
                ),
            ],
        ),
        case(
            "a manual selector matches the template",
            j(json!({"spec": {"manualSelector": true,
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"metadata": {"labels": {"app": "y"}}}}})),
            vec![e(
                Invalid,
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"y\"}: `selector` does not match template `labels`",
            )],
        ),
        case(
            "a manual selector that matches is fine",
            j(json!({"spec": {"manualSelector": true,
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"metadata": {"labels": {"app": "x"}}}}})),
            vec![],
        ),
        case(
            "a user selector without manualSelector still must match",
            j(json!({"spec": {"selector": {"matchLabels": {"app": "x"}}}})),
            vec![
                e(
                    Invalid,
                    "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"batch.kubernetes.io/controller-uid\":…}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated",
                ),
                e(
                    Invalid,
                    "spec.template.metadata.labels: Invalid value: map[string]string{\"batch.kubernetes.io/controller-uid\":…, \"batch.kubernetes.io/job-name\":\"pi\", \"controller-uid\":…, \"job-name\":\"pi\"}: `selector` does not match template `labels`",
                ),
            ],
        ),
        case(
            "completionMode enum",
            j(json!({"spec": {"completionMode": "Sometimes"}})),
            vec![e(
                NotSupported,
                "spec.completionMode: Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"",
            )],
        ),
        case(
            "Indexed jobs need completions",
            j(json!({"spec": {"completionMode": "Indexed", "parallelism": 2}})),
            vec![e(
                Required,
                "spec.completions: Required value: when completion mode is Indexed",
            )],
        ),
        case(
            "template pod spec is validated",
            j(
                json!({"spec": {"template": {"spec": {"containers": [{"name": "C", "image": "x"}]}}}}),
            ),
            vec![e(
                Invalid,
                format!(
                    "spec.template.spec.containers[0].name: Invalid value: \"C\": {DNS_LABEL_MSG}"
                ),
            )],
        ),
    ]);
}

#[test]
fn cron_job_rules() {
    let c = |patch: serde_json::Value| merge(&cron_job(), &patch);
    let long = "a".repeat(53);
    run(vec![
        case(
            "schedule is required",
            c(json!({"spec": {"schedule": ""}})),
            vec![e(Required, "spec.schedule: Required value")],
        ),
        case(
            "schedule has five fields",
            c(json!({"spec": {"schedule": "bad"}})),
            vec![e(
                Invalid,
                "spec.schedule: Invalid value: \"bad\": expected exactly 5 fields, found 1: [bad]",
            )],
        ),
        case(
            "schedule has no seconds field",
            c(json!({"spec": {"schedule": "0 0 * * * *"}})),
            vec![e(
                Invalid,
                "spec.schedule: Invalid value: \"0 0 * * * *\": expected exactly 5 fields, found 6: [0 0 * * * *]",
            )],
        ),
        case(
            "schedule ranges",
            c(json!({"spec": {"schedule": "61 * * * *"}})),
            vec![e(
                Invalid,
                "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
            )],
        ),
        case(
            "schedule descriptors",
            c(json!({"spec": {"schedule": "@sometimes"}})),
            vec![e(
                Invalid,
                "spec.schedule: Invalid value: \"@sometimes\": unrecognized descriptor: @sometimes",
            )],
        ),
        case(
            "schedule names",
            c(json!({"spec": {"schedule": "0 0 * * MON-FRI"}})),
            vec![],
        ),
        case(
            "no TZ in the schedule",
            c(json!({"spec": {"schedule": "TZ=UTC 0 * * * *"}})),
            vec![e(
                Invalid,
                "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            )],
        ),
        case(
            "name is at most 52 characters",
            c(json!({"metadata": {"name": long}})),
            vec![e(
                Invalid,
                format!(
                    "metadata.name: Invalid value: \"{long}\": must be no more than 52 characters"
                ),
            )],
        ),
        case(
            "concurrencyPolicy enum",
            c(json!({"spec": {"concurrencyPolicy": "Sometimes"}})),
            vec![e(
                NotSupported,
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
            )],
        ),
        case(
            "startingDeadlineSeconds is not negative",
            c(json!({"spec": {"startingDeadlineSeconds": -1}})),
            vec![e(
                Invalid,
                "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "history limits are not negative",
            c(json!({"spec": {"successfulJobsHistoryLimit": -1}})),
            vec![e(
                Invalid,
                "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "timeZone is not empty",
            c(json!({"spec": {"timeZone": ""}})),
            vec![e(
                Invalid,
                "spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string",
            )],
        ),
        case(
            "timeZone is explicit",
            c(json!({"spec": {"timeZone": "Local"}})),
            vec![e(
                Invalid,
                "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            )],
        ),
        case(
            "timeZone syntax",
            c(json!({"spec": {"timeZone": "Europe/../Paris"}})),
            vec![e(
                Invalid,
                "spec.timeZone: Invalid value: \"Europe/../Paris\": unknown time zone Europe/../Paris",
            )],
        ),
        case(
            "job template restartPolicy",
            c(
                json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Always"}}}}}}),
            ),
            vec![e(
                Required,
                "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            )],
        ),
    ]);
}
