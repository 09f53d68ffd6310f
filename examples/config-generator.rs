//! The example operator: keeps a ConfigMap `<deployment>-generated` for every Deployment
//! annotated `kubernaut.dev/generate-config: "key=value,..."` (see
//! `kubernaut_examples::config_generator`).
//!
//! ```text
//! cargo run --release --example config-generator       # uses $KUBECONFIG or ~/.kube/config
//! ```
//!
//! Against the example API server: start `cargo run --release --example apiserver`, then run
//! this with `KUBECONFIG=kubernaut-data/kubeconfig`, and annotate a Deployment:
//! `kubectl annotate deploy web kubernaut.dev/generate-config=mode=fast`.

use std::process::ExitCode;

fn main() -> ExitCode {
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
    runtime.block_on(async {
        let client = match kubernaut_client::Client::try_default() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("config-generator: {e}");
                return ExitCode::FAILURE;
            }
        };
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return,
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        println!("config-generator running; Ctrl-C to stop");
        kubernaut_examples::config_generator::run(client, shutdown).await;
        ExitCode::SUCCESS
    })
}
