//! The Kubernetes API server on this machine: a durable store in a data directory, TLS, and a
//! kubeconfig for `kubectl`.
//!
//! ```text
//! cargo run --release --example apiserver -- [--data-dir DIR] [--listen ADDR] [--kubeconfig FILE]
//! ```
//!
//! Defaults: `--data-dir ./kubernaut-data`, `--listen 127.0.0.1:6443`, `--kubeconfig
//! <data-dir>/kubeconfig`. Prints `ready` on its own line once it serves; stops cleanly on
//! SIGTERM or Ctrl-C. A restart on the same data directory brings every object back.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use kubernaut_examples::local::{LocalApiServer, LocalOptions};

fn usage() -> ExitCode {
    eprintln!("usage: apiserver [--data-dir DIR] [--listen ADDR] [--kubeconfig FILE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut options = LocalOptions::new("kubernaut-data");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next().ok_or_else(|| {
                eprintln!("{name} needs a value");
            })
        };
        match arg.as_str() {
            "--data-dir" => match value("--data-dir") {
                Ok(v) => options.data_dir = PathBuf::from(v),
                Err(()) => return usage(),
            },
            "--listen" => match value("--listen").map(|v| v.parse::<SocketAddr>()) {
                Ok(Ok(addr)) => options.listen = addr,
                Ok(Err(e)) => {
                    eprintln!("--listen: {e} (expected host:port, like 127.0.0.1:6443)");
                    return usage();
                }
                Err(()) => return usage(),
            },
            "--kubeconfig" => match value("--kubeconfig") {
                Ok(v) => options.kubeconfig = Some(PathBuf::from(v)),
                Err(()) => return usage(),
            },
            "-h" | "--help" => return usage(),
            other => {
                eprintln!("unknown argument {other:?}");
                return usage();
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apiserver: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: LocalOptions) -> Result<(), kubernaut_examples::local::Error> {
    let local = LocalApiServer::start(options).await?;
    let kubeconfig = local.kubeconfig.display().to_string();
    println!(
        "kubernaut API server listening on https://{}",
        local.address
    );
    println!("kubeconfig written to {kubeconfig} (context \"kubernaut\")");
    println!("try: kubectl --kubeconfig {kubeconfig} get ns");
    println!("ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("shutting down");
    local.stop().await
}
