//! The offline validator's verdicts and output lines.

use kubernaut_api_types::scheme::Scheme;
use kubernaut_examples::validate::{Verdict, validate_text};

fn lines(text: &str) -> Vec<String> {
    validate_text(&Scheme::builtin(), "f.yaml", text)
        .iter()
        .flat_map(|o| o.to_string().lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

#[test]
fn valid_documents_print_ok() {
    let text = "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
# only a comment: not a document
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: 'nginx:1.27'}]}
";
    assert_eq!(
        lines(text),
        [
            "OK f.yaml#1 ConfigMap/settings",
            "OK f.yaml#2 Deployment/web"
        ]
    );
}

#[test]
fn every_problem_gets_its_own_line() {
    let text = "
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers:
  - name: a
    ports: [{containerPort: 70000}]
  - name: a
    image: busybox
    colour: red
";
    let out = lines(text);
    assert!(
        out.iter()
            .all(|l| l.starts_with("INVALID f.yaml#1 Pod/Bad_Name: ")),
        "{out:#?}"
    );
    let body: Vec<&str> = out
        .iter()
        .map(|l| &l["INVALID f.yaml#1 Pod/Bad_Name: ".len()..])
        .collect();
    assert!(
        body.contains(&"spec.containers[1].colour: unknown field"),
        "{body:#?}"
    );
    assert!(
        body.iter()
            .any(|l| l.starts_with("metadata.name: Invalid value: \"Bad_Name\"")),
        "{body:#?}"
    );
    assert!(
        body.contains(&"spec.containers[0].image: Required value"),
        "{body:#?}"
    );
    assert!(
        body.contains(&"spec.containers[1].name: Duplicate value: \"a\""),
        "{body:#?}"
    );
    assert!(
        body.iter()
            .any(|l| l
                .starts_with("spec.containers[0].ports[0].containerPort: Invalid value: 70000")),
        "{body:#?}"
    );
}

#[test]
fn unknown_kinds_are_skipped_and_broken_yaml_is_invalid() {
    let out =
        lines("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\nkind: [\n");
    assert_eq!(out[0], "SKIP f.yaml#1 Widget/w");
    assert!(
        out[1].starts_with("INVALID f.yaml#2 <none>/<none>: yaml: line "),
        "{out:?}"
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn type_errors_and_missing_kinds_are_invalid() {
    let out = validate_text(
        &Scheme::builtin(),
        "f.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: three}\n---\nmetadata: {name: x}\n",
    );
    let Verdict::Invalid(p) = &out[0].verdict else {
        panic!("{out:?}")
    };
    assert!(
        p[0].starts_with("spec.replicas: invalid type: string \"three\""),
        "{p:?}"
    );
    assert_eq!(
        out[1].to_string(),
        "INVALID f.yaml#2 <none>/x: apiVersion: Required value"
    );
}

#[test]
fn pods_run_as_the_default_service_account_as_admission_would_set() {
    let text = "
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a, image: busybox}]
  volumes:
  - name: token
    projected: {sources: [{serviceAccountToken: {path: token}}]}
";
    assert_eq!(lines(text), ["OK f.yaml#1 Pod/p"]);
}

#[test]
fn list_documents_are_checked_item_by_item() {
    let text = "
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: B}}
";
    let out = lines(text);
    assert_eq!(out[0], "OK f.yaml#1.1 ConfigMap/a");
    assert!(
        out[1].starts_with("INVALID f.yaml#1.2 ConfigMap/B: metadata.name: Invalid value"),
        "{out:?}"
    );
}

#[test]
fn a_corpus_file_with_several_kinds() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/manifests/website/application/guestbook/redis-leader-deployment.yaml"
    );
    let text = std::fs::read_to_string(path).expect("shared/ beside the checkout");
    let out = validate_text(&Scheme::builtin(), "redis.yaml", &text);
    assert!(
        !out.is_empty() && out.iter().all(|o| o.verdict == Verdict::Ok),
        "{out:#?}"
    );
}
