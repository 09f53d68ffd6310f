//! Decode + encode of realistic objects: kubernaut-api-types against k8s-openapi, both with
//! serde_json, in the same run. Ends with one line per object giving the time ratio
//! kubernaut / k8s-openapi (below 1.0 means kubernaut is faster).
//!
//! `cargo bench -p kubernaut-benches --bench codec`

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kubernaut_benches::{DEPLOYMENT_JSON, POD_JSON, criterion_dir, criterion_mean_ns, strip_nulls};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(input: &[u8]) -> Vec<u8> {
    let object: T = serde_json::from_slice(input).expect("fixture decodes");
    serde_json::to_vec(&object).expect("object encodes")
}

fn bench_object<Ours, Theirs>(c: &mut Criterion, name: &str, json: &str)
where
    Ours: serde::de::DeserializeOwned + serde::Serialize,
    Theirs: serde::de::DeserializeOwned + serde::Serialize,
{
    let input = json.as_bytes();
    let mut group = c.benchmark_group(format!("{name}-decode-encode"));
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("kubernaut", |b| {
        b.iter(|| round_trip::<Ours>(black_box(input)))
    });
    group.bench_function("k8s-openapi", |b| {
        b.iter(|| round_trip::<Theirs>(black_box(input)))
    });
    group.finish();

    let mut group = c.benchmark_group(format!("{name}-decode"));
    group.bench_function("kubernaut", |b| {
        b.iter(|| serde_json::from_slice::<Ours>(black_box(input)).expect("decodes"))
    });
    group.bench_function("k8s-openapi", |b| {
        b.iter(|| serde_json::from_slice::<Theirs>(black_box(input)).expect("decodes"))
    });
    group.finish();

    let ours: Ours = serde_json::from_slice(input).expect("decodes");
    let theirs: Theirs = serde_json::from_slice(input).expect("decodes");
    let mut group = c.benchmark_group(format!("{name}-encode"));
    group.bench_function("kubernaut", |b| {
        b.iter(|| serde_json::to_vec(black_box(&ours)))
    });
    group.bench_function("k8s-openapi", |b| {
        b.iter(|| serde_json::to_vec(black_box(&theirs)))
    });
    group.finish();
}

fn main() {
    // Both libraries must read the fixtures the same way, or the comparison is meaningless.
    for (name, json) in [("pod", POD_JSON), ("deployment", DEPLOYMENT_JSON)] {
        let mut input: serde_json::Value = serde_json::from_str(json).expect("fixture is JSON");
        strip_nulls(&mut input);
        let ours: serde_json::Value = serde_json::from_slice(&match name {
            "pod" => round_trip::<kubernaut_api_types::core::v1::Pod>(json.as_bytes()),
            _ => round_trip::<kubernaut_api_types::apps::v1::Deployment>(json.as_bytes()),
        })
        .expect("our output is JSON");
        assert_eq!(
            ours, input,
            "kubernaut does not round-trip the {name} fixture exactly"
        );
    }

    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    bench_object::<kubernaut_api_types::core::v1::Pod, k8s_openapi::api::core::v1::Pod>(
        &mut c, "pod", POD_JSON,
    );
    bench_object::<kubernaut_api_types::apps::v1::Deployment, k8s_openapi::api::apps::v1::Deployment>(
        &mut c,
        "deployment",
        DEPLOYMENT_JSON,
    );
    c.final_summary();

    for object in ["pod", "deployment"] {
        for op in ["decode-encode", "decode", "encode"] {
            let group = format!("{object}-{op}");
            match (
                criterion_mean_ns(&group, "kubernaut"),
                criterion_mean_ns(&group, "k8s-openapi"),
            ) {
                (Some(ours), Some(theirs)) => println!(
                    "{group}: kubernaut {:.2} µs, k8s-openapi {:.2} µs, kubernaut/k8s-openapi = {:.3}",
                    ours / 1000.0,
                    theirs / 1000.0,
                    ours / theirs
                ),
                _ => println!("{group}: not measured in this run"),
            }
        }
    }
}
