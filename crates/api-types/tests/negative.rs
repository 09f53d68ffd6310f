//! A table of invalid manifests, each yielding exactly upstream's field paths and causes: YAML
//! in, through the scheme (strict decode), defaulting and validation, as an API server would.

use kubernaut_api_types::manifest::{self, DecodeError};
use kubernaut_api_types::scheme::{Decoded, Scheme};

/// What one manifest must produce: `(cause, field path)` for every problem, in order. Decode
/// failures (wrong JSON type, unparsable quantity) use the cause `DecodeError`; unknown fields
/// `UnknownField`.
struct Case {
    name: &'static str,
    yaml: &'static str,
    expected: &'static [(&'static str, &'static str)],
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\n";

fn problems(yaml: &str) -> Vec<(String, String, String)> {
    let scheme = Scheme::builtin();
    let docs = manifest::parse_documents(yaml).expect("test manifests are YAML");
    assert_eq!(docs.len(), 1);
    match scheme.decode(&docs[0].value) {
        Err(DecodeError::Invalid { path, message }) => vec![("DecodeError".into(), path, message)],
        Err(e) => vec![("DecodeError".into(), String::new(), e.to_string())],
        Ok(Decoded::Unknown(_)) => vec![("UnknownKind".into(), String::new(), String::new())],
        Ok(Decoded::Known(d)) => {
            let mut out: Vec<(String, String, String)> = d
                .unknown_fields
                .iter()
                .map(|f| ("UnknownField".into(), f.clone(), String::new()))
                .collect();
            let mut object = d.object;
            object.set_defaults();
            out.extend(object.validate().into_iter().map(|e| {
                (
                    e.error_type.cause_type().to_owned(),
                    e.field.to_string(),
                    e.to_string(),
                )
            }));
            out
        }
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "pod name with an underscore and capitals",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\nspec: {containers: [{name: a, image: nginx}]}\n",
            expected: &[("FieldValueInvalid", "metadata.name")],
        },
        Case {
            name: "duplicate container names",
            yaml: "spec: {containers: [{name: a, image: nginx}, {name: a, image: redis}]}",
            expected: &[("FieldValueDuplicate", "spec.containers[1].name")],
        },
        Case {
            name: "container without image",
            yaml: "spec: {containers: [{name: a}]}",
            expected: &[("FieldValueRequired", "spec.containers[0].image")],
        },
        Case {
            name: "container port out of range",
            yaml: "spec: {containers: [{name: a, image: nginx, ports: [{containerPort: 70000}]}]}",
            expected: &[(
                "FieldValueInvalid",
                "spec.containers[0].ports[0].containerPort",
            )],
        },
        Case {
            name: "container name that is not a DNS label",
            yaml: "spec: {containers: [{name: Web.Server, image: nginx}]}",
            expected: &[("FieldValueInvalid", "spec.containers[0].name")],
        },
        Case {
            name: "unsupported restart policy",
            yaml: "spec: {restartPolicy: Sometimes, containers: [{name: a, image: nginx}]}",
            expected: &[("FieldValueNotSupported", "spec.restartPolicy")],
        },
        Case {
            name: "volume mount of a volume that does not exist",
            yaml: "spec: {containers: [{name: a, image: nginx, volumeMounts: [{name: data, mountPath: /data}]}]}",
            expected: &[(
                "FieldValueNotFound",
                "spec.containers[0].volumeMounts[0].name",
            )],
        },
        Case {
            name: "requests above limits",
            yaml: "spec: {containers: [{name: a, image: nginx, resources: {requests: {cpu: '2'}, limits: {cpu: 500m}}}]}",
            expected: &[("FieldValueInvalid", "spec.containers[0].resources.requests")],
        },
        Case {
            name: "quantity that does not parse",
            yaml: "spec: {containers: [{name: a, image: nginx, resources: {limits: {memory: lots}}}]}",
            expected: &[("DecodeError", "spec.containers[0].resources.limits.memory")],
        },
        Case {
            name: "wrong JSON type",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: three}\n",
            expected: &[("DecodeError", "spec.replicas")],
        },
        Case {
            name: "unknown field",
            yaml: "spec: {containers: [{name: a, image: nginx, imagePolicy: Always}]}",
            expected: &[("UnknownField", "spec.containers[0].imagePolicy")],
        },
        Case {
            name: "bad label key and too long label value",
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {'-bad': x, ok: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
            expected: &[
                ("FieldValueInvalid", "metadata.labels"),
                ("FieldValueInvalid", "metadata.labels"),
            ],
        },
        Case {
            name: "selector that does not match the template labels",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: a, image: nginx}]}\n",
            expected: &[("FieldValueInvalid", "spec.template.metadata.labels")],
        },
        Case {
            name: "deployment without selector",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: nginx}]}\n",
            // Upstream also reports the template: a nil selector converts to "nothing", which
            // no labels match.
            expected: &[
                ("FieldValueRequired", "spec.selector"),
                ("FieldValueInvalid", "spec.template.metadata.labels"),
            ],
        },
        Case {
            name: "negative replicas",
            yaml: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: nginx}]}\n",
            expected: &[("FieldValueInvalid", "spec.replicas")],
        },
        Case {
            name: "service port zero and target port out of range",
            yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {app: web}, ports: [{port: 0, targetPort: 70000}]}\n",
            expected: &[
                ("FieldValueInvalid", "spec.ports[0].port"),
                ("FieldValueInvalid", "spec.ports[0].targetPort"),
            ],
        },
        Case {
            name: "namespace with capitals",
            yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {name: Prod}\n",
            expected: &[("FieldValueInvalid", "metadata.name")],
        },
        Case {
            name: "config map key with a space",
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {'bad key': v}\n",
            expected: &[("FieldValueInvalid", "data[bad key]")],
        },
        Case {
            name: "cron job with a bad schedule",
            yaml: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: every minute\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: OnFailure, containers: [{name: a, image: busybox}]}\n",
            expected: &[("FieldValueInvalid", "spec.schedule")],
        },
        Case {
            name: "ingress path without pathType",
            yaml: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {service: {name: web, port: {number: 80}}}\n",
            expected: &[("FieldValueRequired", "spec.rules[0].http.paths[0].pathType")],
        },
    ]
}

#[test]
fn every_invalid_manifest_yields_upstreams_paths_and_causes() {
    let mut failures = Vec::new();
    for case in cases() {
        let yaml = if case.yaml.starts_with("spec:") {
            format!("{POD}{}\n", case.yaml)
        } else {
            case.yaml.to_owned()
        };
        let got = problems(&yaml);
        let got_pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|(c, p, _)| (c.as_str(), p.as_str()))
            .collect();
        if got_pairs != case.expected {
            failures.push(format!(
                "{}: expected {:?}\n  got {:#?}",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn messages_are_upstreams_word_for_word() {
    let msg = |yaml: &str| -> Vec<String> {
        problems(&format!("{POD}{yaml}\n"))
            .into_iter()
            .map(|(_, _, m)| m)
            .collect()
    };
    assert_eq!(
        msg("spec: {containers: [{name: a}]}"),
        ["spec.containers[0].image: Required value"]
    );
    assert_eq!(
        msg("spec: {containers: [{name: a, image: nginx, ports: [{containerPort: 70000}]}]}"),
        [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"
        ]
    );
    assert_eq!(
        msg("spec: {restartPolicy: Sometimes, containers: [{name: a, image: nginx}]}"),
        [
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
        ]
    );
    assert_eq!(
        msg("spec: {containers: [{name: a, image: nginx}, {name: a, image: redis}]}"),
        [r#"spec.containers[1].name: Duplicate value: "a""#]
    );
    assert_eq!(
        msg("spec: {containers: [{name: a, image: nginx, resources: {limits: {memory: lots}}}]}"),
        [
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ]
    );
}
