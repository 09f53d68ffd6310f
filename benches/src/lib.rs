//! Shared fixtures of the kubernaut benchmarks.
