//! Shared fixtures and reporting helpers of the kubernaut benchmarks.
//!
//! The fixtures are realistic objects as a cluster returns them (`kubectl get -o json` of a
//! running Pod and its Deployment: managed fields, probes, projected volumes, status).

use std::path::PathBuf;

/// A running Pod as the API returns it, as JSON.
pub const POD_JSON: &str = include_str!("../fixtures/pod.json");

/// A Deployment as the API returns it, as JSON.
pub const DEPLOYMENT_JSON: &str = include_str!("../fixtures/deployment.json");

/// Where criterion writes its results: `$CARGO_TARGET_DIR/criterion`, or `target/criterion` at
/// the workspace root.
pub fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("criterion")
}

/// The mean time in nanoseconds criterion measured for `group/function` in this run, if any.
pub fn criterion_mean_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("mean")?.get("point_estimate")?.as_f64()
}

/// Removes `null` members from JSON objects, recursively: Go writes some absent values as
/// `null` (`creationTimestamp: null`), which decode to "absent" and are not written back.
pub fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
