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

/// Resident memory of process `pid` (`"self"` for this one) in bytes, from `/proc/<pid>/status`
/// (`VmRSS`), or `None` where the file is missing (not Linux, process gone).
pub fn rss_bytes(pid: &str) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:").map(|kib| kib * 1024)
}

/// Peak resident memory of process `pid` in bytes (`VmHWM`), or `None`.
pub fn peak_rss_bytes(pid: &str) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:").map(|kib| kib * 1024)
}

fn proc_status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Latency percentiles of a set of samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latencies {
    /// How many samples.
    pub count: usize,
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Largest, in milliseconds.
    pub max_ms: f64,
}

impl Latencies {
    /// Percentiles of `samples` given in nanoseconds (sorted in place).
    pub fn from_nanos(samples: &mut [u64]) -> Self {
        if samples.is_empty() {
            return Latencies::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i] as f64 / 1e6
        };
        Latencies {
            count: samples.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: samples[samples.len() - 1] as f64 / 1e6,
        }
    }
}

impl std::fmt::Display for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// A loopback TCP port that was free a moment ago.
///
/// # Errors
/// When no socket can be bound on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        let l = Latencies::from_nanos(&mut samples);
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(Latencies::from_nanos(&mut []), Latencies::default());
    }

    #[test]
    fn own_rss_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            // The current size first: the peak read after it can only be as large or larger,
            // even while another test thread grows the process in between.
            let rss = rss_bytes("self");
            assert!(rss.is_some_and(|b| b > 0));
            assert!(peak_rss_bytes("self") >= rss);
        }
    }
}
