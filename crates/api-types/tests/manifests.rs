//! The corpus of real manifests from the Kubernetes documentation (`shared/manifests`, listed in
//! its `INDEX.tsv`): every document of a modelled kind decodes with no unknown field, validates
//! clean after defaulting, re-encodes to JSON semantically equal to the input (defaulting off),
//! and validates against the kind's generated JSON Schema.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kubernaut_api_types::Quantity;
use kubernaut_api_types::core::v1::Pod;
use kubernaut_api_types::manifest;
use kubernaut_api_types::scheme::{AnyObject, Decoded, Scheme};
use serde_json::Value;

/// Documents upstream itself rejects: `(file, document number (1-based), every error, reason)`.
/// The errors must be exactly these — if they change, or the document becomes valid, the test
/// fails and this list must be revisited. Rejected documents are not round-tripped.
const UPSTREAM_REJECTS: &[(&str, usize, &[&str], &str)] = &[
    (
        "website/application/job/cronjob.yaml",
        1,
        &[r#"no matches for kind "CronJob" in version "batch/v1beta1""#],
        "batch/v1beta1 was removed in Kubernetes 1.25; the docs page still shows it",
    ),
    (
        "website/deployments/deployment-with-capacity-reservation.yaml",
        1,
        &[
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].labelSelector: unknown field",
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].topologyKey: unknown field",
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100",
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Required value: can not be empty",
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Invalid value: \"\": name part must be non-empty",
            "spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ],
        "the preferred anti-affinity term lacks its podAffinityTerm/weight wrapper: strict \
         decoding rejects the two fields, and the empty term fails validation",
    ),
    (
        "website/secret/tls-auth-secret.yaml",
        1,
        &["data.tls.crt: illegal base64 data at input byte 7"],
        "a template: REPLACE_WITH_BASE64_CERT is a placeholder, not base64",
    ),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/manifests")
}

fn corpus_files() -> Vec<String> {
    let index = std::fs::read_to_string(corpus_dir().join("INDEX.tsv"))
        .expect("shared/manifests/INDEX.tsv beside the checkout");
    index
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Semantic JSON equality as upstream would judge a re-encoding:
/// - a member that is `null` equals an absent one (Go writes absent values as `null` in places);
/// - an absent member equals an empty object (Go always writes struct-valued fields, such as a
///   pod template's `metadata`);
/// - a quantity equals any spelling of the same amount (upstream re-encodes quantities
///   canonically: `0.5` → `500m`);
/// - an embedded object of a top-level kind (a StatefulSet's `volumeClaimTemplates`) gains its
///   `apiVersion` and `kind`: kubernaut writes them for every typed object, a documented
///   difference from Go, which echoes whatever the input had.
fn compare(input: &Value, output: &Value, at: &str, diffs: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                );
                let embedded_type = !at.is_empty()
                    && (key == "apiVersion" || key == "kind")
                    && x.is_null()
                    && y.is_string()
                    && b.contains_key("metadata");
                if !embedded_type {
                    compare(x, y, &format!("{at}.{key}"), diffs);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(x, y, &format!("{at}[{i}]"), diffs);
            }
        }
        (a, b) if a == b => {}
        (Value::Null, Value::Object(b)) if b.is_empty() => {}
        (a @ (Value::String(_) | Value::Number(_)), Value::String(b)) if same_quantity(a, b) => {}
        (a, b) => diffs.push(format!("{at}: input {a}, re-encoded {b}")),
    }
}

fn same_quantity(input: &Value, output: &str) -> bool {
    let text = match input {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    match (text.parse::<Quantity>(), output.parse::<Quantity>()) {
        (Ok(a), Ok(b)) => a == b && b.to_string() == output,
        _ => false,
    }
}

/// What the API server's ServiceAccount admission plugin does before validation: a pod without
/// a service account runs as `default`.
fn service_account_admission(object: &mut dyn AnyObject) {
    if let Some(pod) = object.downcast_mut::<Pod>()
        && let Some(spec) = pod.spec.as_mut()
        && spec
            .service_account_name
            .as_deref()
            .unwrap_or("")
            .is_empty()
    {
        spec.service_account_name = Some("default".to_owned());
    }
}

#[test]
fn every_corpus_document_decodes_validates_and_round_trips() {
    let scheme = Scheme::builtin();
    let mut validators: HashMap<(String, String), jsonschema::Validator> = HashMap::new();
    let mut failures = Vec::new();
    let mut rejected_seen = Vec::new();
    let (mut documents, mut files) = (0, 0);
    for file in corpus_files() {
        files += 1;
        let text = std::fs::read_to_string(corpus_dir().join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let docs = match manifest::parse_documents(&text) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        for doc in docs {
            documents += 1;
            let n = doc.index + 1;
            let at = format!("{file}#{n}");
            // Every error upstream would report, in the validator's words.
            let mut errors: Vec<String> = Vec::new();
            let decoded = match scheme.decode(&doc.value) {
                Ok(Decoded::Known(d)) => Some(d),
                Ok(Decoded::Unknown(o)) => {
                    let t = o.types.unwrap_or_default();
                    errors.push(format!(
                        "no matches for kind {:?} in version {:?}",
                        t.kind, t.api_version
                    ));
                    None
                }
                Err(e) => {
                    errors.push(e.to_string());
                    None
                }
            };
            if let Some(d) = &decoded {
                errors.extend(
                    d.unknown_fields
                        .iter()
                        .map(|f| format!("{f}: unknown field")),
                );
                let mut object = d.object.clone();
                object.set_defaults();
                service_account_admission(object.as_mut());
                errors.extend(object.validate().iter().map(ToString::to_string));
            }
            if let Some((_, _, expected, _)) = UPSTREAM_REJECTS
                .iter()
                .find(|(f, d, _, _)| *f == file && *d == n)
            {
                rejected_seen.push(at.clone());
                if errors != *expected {
                    failures.push(format!(
                        "{at}: expected upstream's rejection {expected:#?}, got {errors:#?}"
                    ));
                }
                continue;
            }
            failures.extend(errors.into_iter().map(|e| format!("{at}: {e}")));
            let Some(decoded) = decoded else { continue };

            let mut diffs = Vec::new();
            compare(&doc.value, &decoded.object.to_json(), "", &mut diffs);
            failures.extend(diffs.into_iter().map(|d| format!("{at}: round trip: {d}")));

            let api = decoded.object.api_resource();
            let key = (api.api_version.clone(), api.kind.clone());
            if !validators.contains_key(&key) {
                let schema = scheme
                    .schema(&key.0, &key.1)
                    .expect("registered kinds have schemas");
                let schema = serde_json::to_value(&schema).expect("schema is JSON");
                let v =
                    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{key:?}: {e}"));
                validators.insert(key.clone(), v);
            }
            for e in validators[&key].iter_errors(&doc.value) {
                failures.push(format!("{at}: schema: {} at {}", e, e.instance_path()));
            }
        }
    }
    for (f, d, _, reason) in UPSTREAM_REJECTS {
        assert!(
            rejected_seen.contains(&format!("{f}#{d}")),
            "{f}#{d} ({reason}) was not seen"
        );
    }
    assert!(
        files > 150 && documents > 180,
        "corpus too small: {files} files, {documents} documents"
    );
    assert!(
        failures.is_empty(),
        "{} problems in {documents} documents:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
