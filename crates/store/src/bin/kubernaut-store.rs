//! `kubernaut-store`: backup, restore and inspection of an embedded store's data directory.
//!
//! ```text
//! kubernaut-store backup  --data-dir DIR --out FILE   # consistent snapshot of a stopped store
//! kubernaut-store restore FILE --data-dir DIR         # into an empty (or absent) directory
//! kubernaut-store inspect FILE                        # revision and key count of a backup
//! kubernaut-store inspect --data-dir DIR              # revision, compaction point, key count
//! ```
//!
//! A running store is backed up by its process (`EmbeddedStore::backup`); this command opens
//! the directory itself and so refuses one that a running store holds.

use std::path::PathBuf;
use std::process::ExitCode;

use kubernaut_store::embedded::{Config, EmbeddedStore, inspect_backup, restore};
use kubernaut_store::{Backend, ListOptions};

const USAGE: &str = "usage:
  kubernaut-store backup  --data-dir DIR --out FILE
  kubernaut-store restore FILE --data-dir DIR
  kubernaut-store inspect FILE
  kubernaut-store inspect --data-dir DIR";

struct Args {
    command: String,
    file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("no command given")?;
    let mut parsed = Args {
        command,
        file: None,
        data_dir: None,
        out: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data-dir" => {
                parsed.data_dir = Some(args.next().ok_or("--data-dir needs a value")?.into())
            }
            "--out" => parsed.out = Some(args.next().ok_or("--out needs a value")?.into()),
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other if parsed.file.is_none() => parsed.file = Some(other.into()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    Ok(parsed)
}

fn run(args: Args) -> Result<String, String> {
    let err = |e: kubernaut_store::StoreError| e.to_string();
    match (args.command.as_str(), args.file, args.data_dir, args.out) {
        ("backup", None, Some(dir), Some(out)) => {
            let store = EmbeddedStore::open(Config::durable(&dir)).map_err(err)?;
            let rev = store.backup(&out).map_err(err)?;
            Ok(format!(
                "backed up {} at revision {rev} to {}",
                dir.display(),
                out.display()
            ))
        }
        ("restore", Some(file), Some(dir), None) => {
            let rev = restore(&file, &dir).map_err(err)?;
            Ok(format!(
                "restored {} into {} at revision {rev}",
                file.display(),
                dir.display()
            ))
        }
        ("inspect", Some(file), None, None) => {
            let (rev, keys) = inspect_backup(&file).map_err(err)?;
            Ok(format!(
                "backup {}: revision {rev}, {keys} keys",
                file.display()
            ))
        }
        ("inspect", None, Some(dir), None) => {
            let store = EmbeddedStore::open(Config::durable(&dir)).map_err(err)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| e.to_string())?;
            let (rev, compacted, keys) = runtime
                .block_on(async {
                    let (rev, compacted) = store.revisions().await?;
                    let list = store
                        .list(
                            "",
                            ListOptions {
                                limit: Some(1),
                                ..Default::default()
                            },
                        )
                        .await?;
                    Ok::<_, kubernaut_store::StoreError>((rev, compacted, list.count))
                })
                .map_err(err)?;
            Ok(format!(
                "{}: revision {rev}, compacted {compacted}, {keys} keys",
                dir.display()
            ))
        }
        _ => Err(String::new()),
    }
}

fn main() -> ExitCode {
    let outcome = parse(std::env::args().skip(1)).and_then(run);
    match outcome {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("kubernaut-store: {msg}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
