//! End to end with the real `kubectl` 1.32 (`/usr/bin/kubectl`, a dispatcher that runs the
//! kubectl matching the server's `/version`): every command of the seed workflow against an API
//! server started in process over TLS, asserting on kubectl's own output.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use kubernaut_examples::local::{LocalApiServer, LocalOptions};

const MANIFESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/manifests");

struct Cluster {
    local: Option<LocalApiServer>,
    cache: PathBuf,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = LocalOptions::new(dir.path().join("data"));
        options.listen = "127.0.0.1:0".parse().expect("address");
        let local = LocalApiServer::start(options).await.expect("server starts");
        Cluster {
            cache: dir.path().join("cache"),
            local: Some(local),
            dir,
        }
    }

    fn local(&self) -> &LocalApiServer {
        self.local.as_ref().expect("running")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("/usr/bin/kubectl");
        c.arg("--kubeconfig")
            .arg(&self.local().kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path());
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.command(args);
        tokio::task::spawn_blocking(move || c.output().expect("kubectl runs"))
            .await
            .expect("kubectl finished")
    }

    /// Runs kubectl, asserting success; returns stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "kubectl {} failed ({}):\n{stdout}\n{stderr}",
            args.join(" "),
            out.status
        );
        stdout
    }

    /// Runs kubectl, asserting failure; returns stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            !out.status.success(),
            "kubectl {} should have failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    async fn stop(mut self) {
        if let Some(local) = self.local.take() {
            local.stop().await.expect("clean stop");
        }
    }
}

/// The header and the rows of kubectl's table output, split on runs of spaces.
fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn row<'t>(t: &'t [Vec<String>], name: &str) -> &'t Vec<String> {
    t.iter()
        .find(|r| r.iter().any(|c| c == name))
        .unwrap_or_else(|| panic!("no row {name} in {t:?}"))
}

fn manifest(path: &str) -> String {
    format!("{MANIFESTS}/{path}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_workflow_works_with_kubectls_own_output() {
    let c = Cluster::start().await;

    let ns = table(&c.ok(&["get", "ns"]).await);
    assert_eq!(ns[0], ["NAME", "STATUS", "AGE"]);
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert_eq!(row(&ns, name)[1], "Active");
    }

    assert_eq!(
        c.ok(&["create", "ns", "kubekart"]).await.trim(),
        "namespace/kubekart created"
    );
    assert_eq!(
        c.ok(&["run", "nginx1", "--image=nginx", "-n", "kubekart"])
            .await
            .trim(),
        "pod/nginx1 created"
    );
    let pods = table(&c.ok(&["get", "pods", "-n", "kubekart"]).await);
    assert_eq!(pods[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(
        &row(&pods, "nginx1")[..4],
        ["nginx1", "0/1", "Pending", "0"]
    );

    let wide = table(&c.ok(&["get", "pods", "-n", "kubekart", "-o", "wide"]).await);
    assert_eq!(
        wide[0],
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    assert_eq!(
        &row(&wide, "nginx1")[5..],
        ["<none>", "<none>", "<none>", "<none>"]
    );

    let yaml = c
        .ok(&["get", "pod", "nginx1", "-n", "kubekart", "-o", "yaml"])
        .await;
    assert!(yaml.contains("image: nginx"), "{yaml}");
    assert!(yaml.contains("phase: Pending"), "{yaml}");
    assert!(yaml.contains("uid: "), "{yaml}");

    let described = c.ok(&["describe", "pod", "nginx1", "-n", "kubekart"]).await;
    assert!(
        described.contains("Namespace:") && described.contains("kubekart"),
        "{described}"
    );
    assert!(
        described.contains("Image:") && described.contains("nginx"),
        "{described}"
    );

    // A namespace that does not exist.
    let missing = c
        .fails(&["run", "x", "--image=nginx", "-n", "nowhere"])
        .await;
    assert!(
        missing.contains("namespaces \"nowhere\" not found"),
        "{missing}"
    );

    c.ok(&[
        "create",
        "-f",
        &manifest("website/application/deployment.yaml"),
    ])
    .await;
    let all = table(&c.ok(&["get", "all", "-A"]).await);
    let flat: Vec<&str> = all.iter().flatten().map(String::as_str).collect();
    assert!(flat.contains(&"pod/nginx1"), "{all:?}");
    assert!(flat.contains(&"service/kubernetes"), "{all:?}");
    assert!(
        flat.contains(&"deployment.apps/nginx-deployment"),
        "{all:?}"
    );
    let svc = row(&all, "service/kubernetes");
    assert_eq!(
        &svc[..6],
        [
            "default",
            "service/kubernetes",
            "ClusterIP",
            "10.96.0.1",
            "<none>",
            "443/TCP"
        ]
    );

    let across = table(&c.ok(&["get", "pods", "--all-namespaces"]).await);
    assert_eq!(across[0][0], "NAMESPACE");
    assert_eq!(row(&across, "nginx1")[0], "kubekart");

    assert_eq!(
        c.ok(&["delete", "pod", "nginx1", "-n", "kubekart"])
            .await
            .trim(),
        "pod \"nginx1\" deleted"
    );
    let gone = c.fails(&["get", "pod", "nginx1", "-n", "kubekart"]).await;
    assert!(gone.contains("pods \"nginx1\" not found"), "{gone}");

    // Deleting a namespace marks it Terminating (its contents go once the namespace
    // controller has emptied it).
    c.ok(&["delete", "ns", "kubekart", "--wait=false"]).await;
    let ns = table(&c.ok(&["get", "ns", "kubekart"]).await);
    assert_eq!(row(&ns, "kubekart")[1], "Terminating");
    let refused = c
        .fails(&["run", "late", "--image=nginx", "-n", "kubekart"])
        .await;
    assert!(
        refused.contains("because it is being terminated"),
        "{refused}"
    );
    let immortal = c.fails(&["delete", "ns", "default"]).await;
    assert!(
        immortal.contains("this namespace may not be deleted"),
        "{immortal}"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patch_label_scale_replace_and_edit() {
    let c = Cluster::start().await;
    let deployment = manifest("website/application/deployment.yaml");
    assert_eq!(
        c.ok(&["apply", "-f", &deployment]).await.trim(),
        "deployment.apps/nginx-deployment created"
    );
    assert_eq!(
        c.ok(&["apply", "-f", &deployment]).await.trim(),
        "deployment.apps/nginx-deployment unchanged"
    );
    let changed = c.dir.path().join("changed.yaml");
    let text = std::fs::read_to_string(&deployment).expect("manifest");
    std::fs::write(&changed, text.replace("nginx:1.15", "nginx:1.16.1")).expect("write");
    let changed = changed.to_string_lossy().into_owned();
    assert_eq!(
        c.ok(&["apply", "-f", &changed]).await.trim(),
        "deployment.apps/nginx-deployment configured"
    );
    let image_and_generation = "{.spec.template.spec.containers[0].image} {.metadata.generation}";
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "nginx-deployment",
            "-o",
            &format!("jsonpath={image_and_generation}")
        ])
        .await,
        "nginx:1.16.1 2"
    );

    c.ok(&["label", "deploy", "nginx-deployment", "tier=web"])
        .await;
    c.ok(&["annotate", "deploy", "nginx-deployment", "owner=team-a"])
        .await;
    assert_eq!(
        c.ok(&["scale", "deploy", "nginx-deployment", "--replicas=3"])
            .await
            .trim(),
        "deployment.apps/nginx-deployment scaled"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "nginx-deployment",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.labels.tier} {.metadata.annotations.owner}"
        ])
        .await,
        "3 web team-a"
    );
    let deploys = table(&c.ok(&["get", "deploy", "-o", "wide"]).await);
    assert_eq!(
        deploys[0],
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(row(&deploys, "nginx-deployment")[1], "0/3");
    assert_eq!(
        &row(&deploys, "nginx-deployment")[5..],
        ["nginx", "nginx:1.16.1", "app=nginx"]
    );

    // The three client patch types.
    c.ok(&[
        "patch",
        "deploy",
        "nginx-deployment",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    ])
    .await;
    c.ok(&[
        "patch",
        "deploy",
        "nginx-deployment",
        "--type=merge",
        "-p",
        r#"{"spec":{"minReadySeconds":5}}"#,
    ])
    .await;
    c.ok(&[
        "patch",
        "deploy",
        "nginx-deployment",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.17"}]}}}}"#,
    ])
    .await;
    assert_eq!(
        c.ok(&["get", "deploy", "nginx-deployment", "-o",
            "jsonpath={.spec.replicas} {.spec.minReadySeconds} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"])
            .await,
        "4 5 nginx:1.17 80"
    );
    let bad = c
        .fails(&[
            "patch",
            "deploy",
            "nginx-deployment",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/nope/x","value":1}]"#,
        ])
        .await;
    assert!(bad.contains("The request is invalid"), "{bad}");

    // replace, then replace again from the same (now stale) file: 409.
    let current = c
        .ok(&["get", "deploy", "nginx-deployment", "-o", "yaml"])
        .await;
    let file = c.dir.path().join("current.yaml");
    std::fs::write(&file, current.replace("replicas: 4", "replicas: 2")).expect("write");
    let file = file.to_string_lossy().into_owned();
    assert_eq!(
        c.ok(&["replace", "-f", &file]).await.trim(),
        "deployment.apps/nginx-deployment replaced"
    );
    let conflict = c.fails(&["replace", "-f", &file]).await;
    assert!(
        conflict.contains("the object has been modified"),
        "{conflict}"
    );

    // edit, with a scripted editor.
    let mut edit = c.command(&["edit", "deploy", "nginx-deployment"]);
    edit.env("EDITOR", "sed -i s/nginx:1.17/nginx:1.18/");
    let out = tokio::task::spawn_blocking(move || edit.output().expect("kubectl edit"))
        .await
        .expect("edit finished");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "nginx-deployment",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ])
        .await,
        "nginx:1.18"
    );

    let explained = c.ok(&["explain", "pods.spec.containers"]).await;
    assert!(explained.contains("KIND:       Pod"), "{explained}");
    assert!(
        explained.contains("FIELD: containers <[]Container>"),
        "{explained}"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_receives_a_change_then_stops() {
    let c = Cluster::start().await;
    c.ok(&[
        "create",
        "configmap",
        "settings",
        "--from-literal=mode=fast",
    ])
    .await;
    let mut watch = c.command(&["get", "configmaps", "-w"]);
    watch.stdout(std::process::Stdio::piped());
    let mut child = watch.spawn().expect("kubectl get -w");
    let stdout = child.stdout.take().expect("stdout");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = std::sync::Arc::clone(&lines);
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                lines.lock().expect("lines").push(line);
            }
        })
    };
    // The initial list, then a change.
    let wait_for = |n: usize| {
        let lines = std::sync::Arc::clone(&lines);
        async move {
            for _ in 0..100 {
                if lines.lock().expect("lines").len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("kubectl get -w printed {:?}", lines.lock().expect("lines"));
        }
    };
    wait_for(2).await;
    c.ok(&["create", "configmap", "late", "--from-literal=a=b"])
        .await;
    wait_for(3).await;
    child.kill().expect("stop kubectl");
    let _ = child.wait();
    let _ = reader.join();
    let printed = lines.lock().expect("lines").clone();
    assert_eq!(table(&printed[0])[0], ["NAME", "DATA", "AGE"]);
    assert!(
        printed.iter().any(|l| l.starts_with("settings")),
        "{printed:?}"
    );
    assert!(printed.iter().any(|l| l.starts_with("late")), "{printed:?}");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_generators_send_protobuf_bodies_the_server_decodes() {
    let c = Cluster::start().await;
    assert_eq!(
        c.ok(&["create", "ns", "shop"]).await.trim(),
        "namespace/shop created"
    );
    assert_eq!(
        c.ok(&[
            "create",
            "configmap",
            "cfg",
            "-n",
            "shop",
            "--from-literal=a=1",
            "--from-literal=b=2"
        ])
        .await
        .trim(),
        "configmap/cfg created"
    );
    assert_eq!(
        c.ok(&[
            "create",
            "secret",
            "generic",
            "creds",
            "-n",
            "shop",
            "--from-literal=password=s3cret"
        ])
        .await
        .trim(),
        "secret/creds created"
    );
    assert_eq!(
        c.ok(&[
            "create",
            "deploy",
            "web",
            "-n",
            "shop",
            "--image=nginx:1.27",
            "--replicas=2",
            "--port=80"
        ])
        .await
        .trim(),
        "deployment.apps/web created"
    );
    assert_eq!(
        c.ok(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "shop",
            "-o",
            "jsonpath={.data.a}{.data.b}"
        ])
        .await,
        "12"
    );
    let secrets = table(&c.ok(&["get", "secrets", "-n", "shop"]).await);
    assert_eq!(secrets[0], ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(&row(&secrets, "creds")[..3], ["creds", "Opaque", "1"]);
    assert_eq!(
        c.ok(&[
            "get",
            "secret",
            "creds",
            "-n",
            "shop",
            "-o",
            "jsonpath={.data.password}"
        ])
        .await,
        "czNjcmV0"
    );
    assert_eq!(
        c.ok(&["get", "deploy", "web", "-n", "shop", "-o",
            "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.selector.matchLabels.app}"])
            .await,
        "2 nginx:1.27 80 web"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_creates_merges_and_reports_conflicts() {
    let c = Cluster::start().await;
    let deployment = manifest("website/application/deployment.yaml");
    assert_eq!(
        c.ok(&["apply", "--server-side", "-f", &deployment])
            .await
            .trim(),
        "deployment.apps/nginx-deployment serverside-applied"
    );
    let managers = c
        .ok(&[
            "get",
            "deploy",
            "nginx-deployment",
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager} {.metadata.managedFields[*].operation}",
        ])
        .await;
    assert_eq!(managers, "kubectl Apply");
    // Another manager takes spec.replicas; re-applying then conflicts unless forced.
    c.ok(&["scale", "deploy", "nginx-deployment", "--replicas=5"])
        .await;
    let text = std::fs::read_to_string(&deployment).expect("manifest");
    let changed = c.dir.path().join("replicas.yaml");
    std::fs::write(&changed, text.replace("replicas: 2", "replicas: 3")).expect("write");
    let changed = changed.to_string_lossy().into_owned();
    let conflict = c.fails(&["apply", "--server-side", "-f", &changed]).await;
    assert!(conflict.contains("conflict with \"kubectl\""), "{conflict}");
    assert!(conflict.contains(".spec.replicas"), "{conflict}");
    c.ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        &changed,
    ])
    .await;
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "nginx-deployment",
            "-o",
            "jsonpath={.spec.replicas}"
        ])
        .await,
        "3"
    );
    c.stop().await;
}
