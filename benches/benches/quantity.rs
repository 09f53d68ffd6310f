//! `Quantity` on the values real objects carry: parsing, formatting (`to_string` and
//! `serde_json`), addition, comparison and `milli_value`, on the seven quantities of the Pod
//! fixture (`1`, `512Mi`, `250m`, `256Mi`, `128Mi`, `50m`, `64Mi`). A plain `String` copy and
//! serialization of the same texts are measured alongside as the floor.
//!
//! `cargo bench -p kubernaut-benches --bench quantity`

use std::hint::black_box;

use criterion::Criterion;
use kubernaut_api_types::Quantity;

/// The quantities of the Pod fixture, as written there.
const POD_QUANTITIES: [&str; 7] = ["1", "512Mi", "250m", "256Mi", "128Mi", "50m", "64Mi"];

fn parse_all(texts: &[&str]) -> Vec<Quantity> {
    texts
        .iter()
        .map(|t| t.parse().expect("a valid quantity"))
        .collect()
}

fn main() {
    let quantities = parse_all(&POD_QUANTITIES);
    let strings: Vec<String> = POD_QUANTITIES.iter().map(|s| s.to_string()).collect();
    // The canonical form of every fixture quantity is its text, so both encode identically.
    assert_eq!(
        serde_json::to_vec(&quantities).expect("encodes"),
        serde_json::to_vec(&strings).expect("encodes")
    );
    let cpu: Vec<Quantity> = parse_all(&["250m", "50m", "1", "100m", "1500m", "2", "10m"]);
    let memory: Vec<Quantity> =
        parse_all(&["512Mi", "256Mi", "128Mi", "64Mi", "1Gi", "2Gi", "100M"]);
    let big: Vec<Quantity> = parse_all(&[
        "123456789012345678901234567890",
        "1e40",
        "0.000000001",
        "99999999999999999999999Ki",
    ]);

    let mut c = Criterion::default()
        .output_directory(&kubernaut_benches::criterion_dir())
        .configure_from_args();

    let mut group = c.benchmark_group("quantity");
    group.bench_function("parse-7", |b| {
        b.iter(|| {
            for text in black_box(&POD_QUANTITIES) {
                black_box(text.parse::<Quantity>().expect("parses"));
            }
        })
    });
    group.bench_function("parse-big", |b| {
        b.iter(|| black_box("123456789012345678901234567890.5Ki").parse::<Quantity>())
    });
    group.bench_function("to_string-7", |b| {
        b.iter(|| {
            for q in black_box(&quantities) {
                black_box(q.to_string());
            }
        })
    });
    group.bench_function("to_string-big", |b| {
        b.iter(|| {
            for q in black_box(&big) {
                black_box(q.to_string());
            }
        })
    });
    group.bench_function("serde_json-7", |b| {
        b.iter(|| serde_json::to_vec(black_box(&quantities)).expect("encodes"))
    });
    group.bench_function("serde_json-7-strings", |b| {
        b.iter(|| serde_json::to_vec(black_box(&strings)).expect("encodes"))
    });
    group.bench_function("clone-7-strings", |b| {
        b.iter(|| black_box(&strings).clone())
    });
    group.bench_function("add-7-cpu", |b| {
        b.iter(|| {
            let mut total = Quantity::default();
            for q in black_box(&cpu) {
                total = total.checked_add(q).expect("adds");
            }
            total
        })
    });
    group.bench_function("add-7-memory", |b| {
        b.iter(|| {
            let mut total = Quantity::default();
            for q in black_box(&memory) {
                total = total.checked_add(q).expect("adds");
            }
            total
        })
    });
    group.bench_function("sub-cpu", |b| {
        b.iter(|| {
            black_box(&cpu[4])
                .checked_sub(black_box(&cpu[0]))
                .expect("subtracts")
        })
    });
    group.bench_function("cmp-7x7", |b| {
        b.iter(|| {
            let mut less = 0u32;
            for x in black_box(&memory) {
                for y in black_box(&cpu) {
                    less += u32::from(x < y);
                }
            }
            less
        })
    });
    group.bench_function("milli_value-7", |b| {
        b.iter(|| {
            black_box(&quantities)
                .iter()
                .map(Quantity::milli_value)
                .fold(0i64, i64::wrapping_add)
        })
    });
    group.finish();
    c.final_summary();

    let names = [
        "parse-7",
        "parse-big",
        "to_string-7",
        "to_string-big",
        "serde_json-7",
        "serde_json-7-strings",
        "clone-7-strings",
        "add-7-cpu",
        "add-7-memory",
        "sub-cpu",
        "cmp-7x7",
        "milli_value-7",
    ];
    for name in names {
        match kubernaut_benches::criterion_mean_ns("quantity", name) {
            Some(ns) => println!("quantity/{name}: {ns:.1} ns"),
            None => println!("quantity/{name}: not measured in this run"),
        }
    }
}
