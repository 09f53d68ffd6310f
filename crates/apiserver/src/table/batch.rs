//! Printers of the `batch` group: jobs and cron jobs.

use kubernaut_api_types::Time;
use kubernaut_api_types::batch::v1::{CronJob, Job, JobCondition};
use kubernaut_api_types::selector::format_label_selector;

use super::descriptions::*;
use super::duration::go_sub;
use super::{
    AGE, CONTAINERS, Column, IMAGES, KindPrinter, NAME, age, containers_and_images, decode,
    human_duration, int, name, since, text,
};

/// Upstream's `hasJobCondition`: the first condition of the type decides.
fn has_condition(conditions: &[JobCondition], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

/// `kubectl get jobs`: `NAME STATUS COMPLETIONS DURATION AGE` (wide: `CONTAINERS IMAGES
/// SELECTOR`).
pub(super) static JOB: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Status", "string", "Status of the job."),
        Column::new("Completions", "string", JOB_STATUS_SUCCEEDED),
        Column::new("Duration", "string", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", JOB_SPEC_SELECTOR).wide(),
    ],
    |object, now| Some(print_job(&decode(object)?, now)),
);

/// Upstream's `printJob`.
fn print_job(job: &Job, now: Time) -> Vec<serde_json::Value> {
    let spec = job.spec.clone().unwrap_or_default();
    let status = job.status.clone().unwrap_or_default();
    let succeeded = status.succeeded.unwrap_or(0);
    let completions = match spec.completions {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match spec.parallelism.unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (status.start_time, status.completion_time) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(go_sub(now.0, start.0)),
        (Some(start), Some(end)) => human_duration(go_sub(end.0, start.0)),
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let state = if has_condition(conditions, "Complete") {
        "Complete"
    } else if has_condition(conditions, "Failed") {
        "Failed"
    } else if job.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let [names, images] = containers_and_images(
        spec.template
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or_default(),
    );
    vec![
        text(name(&job.metadata)),
        text(state),
        text(completions),
        text(duration),
        age(&job.metadata, now),
        names,
        images,
        text(format_label_selector(spec.selector.as_deref())),
    ]
}

/// `kubectl get cronjobs`: `NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE` (wide:
/// `CONTAINERS IMAGES SELECTOR`).
pub(super) static CRON_JOB: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Schedule", "string", CRON_JOB_SPEC_SCHEDULE),
        Column::new("Timezone", "string", CRON_JOB_SPEC_TIME_ZONE),
        Column::new("Suspend", "boolean", CRON_JOB_SPEC_SUSPEND),
        Column::new("Active", "integer", CRON_JOB_STATUS_ACTIVE),
        Column::new(
            "Last Schedule",
            "string",
            CRON_JOB_STATUS_LAST_SCHEDULE_TIME,
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", JOB_SPEC_SELECTOR).wide(),
    ],
    |object, now| {
        let cron_job: CronJob = decode(object)?;
        let spec = cron_job.spec.clone().unwrap_or_default();
        let status = cron_job.status.clone().unwrap_or_default();
        let last_schedule = match &status.last_schedule_time {
            Some(t) => since(Some(t), now),
            None => "<none>".to_owned(),
        };
        // Upstream's `printBoolPtr`: a string, even though the column says boolean.
        let suspend = match spec.suspend {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        };
        let job_spec = spec.job_template.spec.as_ref();
        let [names, images] = containers_and_images(
            job_spec
                .and_then(|s| s.template.spec.as_ref())
                .map(|s| s.containers.as_slice())
                .unwrap_or_default(),
        );
        Some(vec![
            text(name(&cron_job.metadata)),
            text(spec.schedule.clone()),
            text(
                spec.time_zone
                    .clone()
                    .unwrap_or_else(|| "<none>".to_owned()),
            ),
            text(suspend),
            int(status.active.as_ref().map_or(0, Vec::len) as i64),
            text(last_schedule),
            age(&cron_job.metadata, now),
            names,
            images,
            text(format_label_selector(
                job_spec.and_then(|s| s.selector.as_deref()),
            )),
        ])
    },
);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::tests::{ago, cells, headers, manifest, merge};

    #[test]
    fn job_from_a_manifest_running_then_complete() {
        assert_eq!(
            headers("batch", "Job"),
            [
                "Name",
                "Status",
                "Completions",
                "Duration",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        let running = merge(
            manifest("website/controllers/job.yaml", 0),
            json!({"metadata": {"creationTimestamp": ago(190)},
                   "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "8f1c"}}},
                   "status": {"startTime": ago(185), "active": 1, "ready": 0}}),
        );
        assert_eq!(
            cells("batch", "Job", &running),
            [
                "pi",
                "Running",
                "0/1",
                "3m5s",
                "3m10s",
                "pi",
                "perl",
                "batch.kubernetes.io/controller-uid=8f1c"
            ]
        );
        let complete = merge(
            running,
            json!({"status": {"active": null, "succeeded": 1, "completionTime": ago(10),
                              "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                                             {"type": "Complete", "status": "True"}]}}),
        );
        assert_eq!(
            cells("batch", "Job", &complete)[1..4],
            ["Complete", "1/1", "2m55s"]
        );
    }

    #[test]
    fn job_completions_and_states() {
        let job = |spec: Value, status: Value| {
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
                   "spec": merge(json!({"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}), spec),
                   "status": status})
        };
        let indexed = job(
            json!({"completions": 5, "parallelism": 3}),
            json!({"succeeded": 2}),
        );
        assert_eq!(
            cells("batch", "Job", &indexed)[1..4],
            ["Running", "2/5", ""]
        );
        let work_queue = job(
            json!({"parallelism": 4, "completions": null}),
            json!({"succeeded": 1}),
        );
        assert_eq!(cells("batch", "Job", &work_queue)[2], "1/1 of 4");
        let state = |conditions: Value, deleting: bool| {
            let mut j = job(json!({"completions": 1}), json!({"conditions": conditions}));
            if deleting {
                j["metadata"]["deletionTimestamp"] = json!(ago(1));
            }
            cells("batch", "Job", &j)[1].as_str().unwrap().to_owned()
        };
        assert_eq!(
            state(
                json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]),
                false
            ),
            "Failed"
        );
        assert_eq!(
            state(json!([{"type": "Failed", "status": "True"}]), true),
            "Failed"
        );
        assert_eq!(state(json!([]), true), "Terminating");
        assert_eq!(
            state(json!([{"type": "Suspended", "status": "True"}]), false),
            "Suspended"
        );
        assert_eq!(
            state(json!([{"type": "FailureTarget", "status": "True"}]), false),
            "FailureTarget"
        );
        // The first condition of a type decides.
        assert_eq!(
            state(
                json!([{"type": "Complete", "status": "False"}, {"type": "Complete", "status": "True"}]),
                false
            ),
            "Running"
        );
    }

    #[test]
    fn cron_job_from_a_manifest() {
        assert_eq!(
            headers("batch", "CronJob"),
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        // The documentation's manifest is batch/v1beta1; a v1.32 cluster serves it as batch/v1.
        let cron_job = merge(
            manifest("website/application/job/cronjob.yaml", 0),
            json!({"apiVersion": "batch/v1", "metadata": {"creationTimestamp": ago(11 * 60)},
                   "status": {"lastScheduleTime": ago(42),
                              "active": [{"kind": "Job", "name": "hello-28573920", "namespace": "default"}]}}),
        );
        assert_eq!(
            Value::from(cells("batch", "CronJob", &cron_job)),
            json!([
                "hello",
                "* * * * *",
                "<none>",
                "False",
                1,
                "42s",
                "11m",
                "hello",
                "busybox",
                "<none>"
            ])
        );
        let suspended = merge(
            cron_job,
            json!({"spec": {"suspend": true, "timeZone": "Etc/UTC"}, "status": null}),
        );
        assert_eq!(
            Value::from(cells("batch", "CronJob", &suspended)[2..6].to_vec()),
            json!(["Etc/UTC", "True", 0, "<none>"])
        );
    }
}
