//! The official Python `kubernetes` client (from PyPI) against the API server: the pytest
//! suite in `tests/python`, run with the interpreter named by `KUBERNAUT_PYTHON` (a venv with
//! `kubernetes` and `pytest`; `.ci/run` makes one). Without it the test says so loudly, and
//! in CI (`CI` set) it fails.

use kubernaut_examples::local::{LocalApiServer, LocalOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_suite_passes() {
    let Some(python) = std::env::var_os("KUBERNAUT_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the Python client suite: set KUBERNAUT_PYTHON"
        );
        eprintln!(
            "\n*** NOT RUN: the Python client suite needs KUBERNAUT_PYTHON=<python with the \
             kubernetes and pytest packages> ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = LocalOptions::new(dir.path().join("data"));
    options.listen = "127.0.0.1:0".parse().expect("address");
    // A small window, so that the 410 test can outrun it.
    options.watch_window = 50;
    let local = LocalApiServer::start(options).await.expect("server starts");
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python");
    let mut pytest = std::process::Command::new(&python);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", suite])
        .env("KUBERNAUT_KUBECONFIG", &local.kubeconfig)
        .env("HOME", dir.path())
        .env("TMPDIR", dir.path());
    let out = tokio::task::spawn_blocking(move || pytest.output().expect("pytest runs"))
        .await
        .expect("pytest finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    local.stop().await.expect("clean stop");
    assert!(out.status.success(), "pytest failed:\n{stdout}\n{stderr}");
}
