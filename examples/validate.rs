//! Validates Kubernetes manifests offline, like `kubectl apply --dry-run` without a cluster.
//!
//! ```text
//! cargo run --release --example validate -- deploy.yaml service.yaml
//! ```
//!
//! Prints one line per document — `OK <file>#<n> <Kind>/<name>`, `SKIP ...` for kinds kubernaut
//! does not model, or one `INVALID <file>#<n> <Kind>/<name>: <field path>: <message>` line per
//! problem — and exits 0 only when no document is invalid. `-` reads standard input. Documents
//! are numbered from 1 among the non-empty ones; the items of a list document (`kind: List`, as
//! `kubectl get -o yaml` writes several objects) are checked one by one as `<n>.<item>`.

use std::io::Read;
use std::process::ExitCode;

use kubernaut_api_types::scheme::Scheme;
use kubernaut_examples::validate::validate_text;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() || files.iter().any(|f| f == "-h" || f == "--help") {
        eprintln!("usage: validate FILE... (\"-\" for standard input)");
        return ExitCode::from(2);
    }
    let scheme = Scheme::builtin();
    let mut all_passed = true;
    for file in &files {
        let text = if file == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        } else {
            std::fs::read_to_string(file)
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                println!("INVALID {file}#0 <none>/<none>: <file>: {e}");
                all_passed = false;
                continue;
            }
        };
        for outcome in validate_text(&scheme, file, &text) {
            all_passed &= outcome.passed();
            println!("{outcome}");
        }
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
