//! Kubeconfig loading, merging, resolution and writing, with the shapes kubectl, kind and
//! minikube write.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::*;
use crate::test_support::Pki;

/// What `kubectl config set-cluster/set-credentials/set-context/use-context` wrote (kubectl
/// 1.32), relative paths as given on its command line.
const KUBECTL_WRITTEN: &str = "\
apiVersion: v1
clusters:
- cluster:
    certificate-authority: ca.crt
    server: https://10.0.0.1:6443
  name: dev
- cluster:
    insecure-skip-tls-verify: true
    server: https://prod.example.com
    tls-server-name: api.prod
  name: prod
contexts:
- context:
    cluster: dev
    namespace: team-a
    user: bob
  name: dev
current-context: dev
kind: Config
preferences: {}
users:
- name: alice
  user:
    token: sekret
- name: bob
  user:
    client-certificate: certs/bob.crt
    client-key: certs/bob.key
";

/// kind's kubeconfig: everything embedded as `-data`.
fn kind_config(pki: &Pki, client: &(String, String)) -> String {
    format!(
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {}
    server: https://127.0.0.1:38291
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {{}}
users:
- name: kind-kind
  user:
    client-certificate-data: {}
    client-key-data: {}
",
        STANDARD.encode(&pki.ca_pem),
        STANDARD.encode(&client.0),
        STANDARD.encode(&client.1)
    )
}

/// minikube's kubeconfig: absolute paths and extensions.
fn minikube_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority: {d}/.minikube/ca.crt
    extensions:
    - extension:
        last-update: Mon, 06 Jan 2025 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.34.0
      name: cluster_info
    server: https://192.168.49.2:8443
  name: minikube
contexts:
- context:
    cluster: minikube
    extensions:
    - extension:
        last-update: Mon, 06 Jan 2025 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.34.0
      name: context_info
    namespace: default
    user: minikube
  name: minikube
current-context: minikube
kind: Config
preferences: {{}}
users:
- name: minikube
  user:
    client-certificate: {d}/.minikube/profiles/minikube/client.crt
    client-key: {d}/.minikube/profiles/minikube/client.key
"
    )
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(path, text).unwrap();
}

/// The kubectl-written file under `dir/kube/config`, with real PEM files beside it.
fn kubectl_layout(dir: &Path, pki: &Pki) -> std::path::PathBuf {
    let (cert, key) = pki.client("bob");
    write(&dir.join("kube/ca.crt"), &pki.ca_pem);
    write(&dir.join("kube/certs/bob.crt"), &cert);
    write(&dir.join("kube/certs/bob.key"), &key);
    let path = dir.join("kube/config");
    write(&path, KUBECTL_WRITTEN);
    path
}

#[test]
fn relative_paths_resolve_against_the_kubeconfig_directory() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("dev-ca");
    let path = kubectl_layout(dir.path(), &pki);
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let kube = dir.path().join("kube");
    let dev = kubeconfig.cluster("dev").unwrap();
    assert_eq!(
        dev.cluster.certificate_authority.as_deref(),
        Some(kube.join("ca.crt").to_str().unwrap())
    );
    assert_eq!(dev.origin.as_deref(), Some(path.as_path()));
    let bob = &kubeconfig.auth_info("bob").unwrap().user;
    assert_eq!(
        bob.client_certificate.as_deref(),
        Some(kube.join("certs/bob.crt").to_str().unwrap())
    );
    assert_eq!(
        bob.client_key.as_deref(),
        Some(kube.join("certs/bob.key").to_str().unwrap())
    );

    // The current context: its cluster's CA, its user's certificate, its namespace.
    let config = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default()).unwrap();
    assert_eq!(config.cluster_url, "https://10.0.0.1:6443/");
    assert_eq!(config.default_namespace, "team-a");
    assert_eq!(
        config.tls.root_certificates.as_deref(),
        Some(pki.ca_pem.as_bytes())
    );
    let identity = config.tls.identity.clone().unwrap();
    assert!(
        String::from_utf8(identity.certificate_pem)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE")
    );
    assert_eq!(config.auth, Auth::None);
    config
        .tls
        .client_config()
        .expect("real PEM files make a TLS client");

    // kubectl's --cluster and --user over the current context.
    let options = KubeconfigOptions {
        cluster: Some("prod".into()),
        user: Some("alice".into()),
        ..KubeconfigOptions::default()
    };
    let config = Config::from_kubeconfig(&kubeconfig, &options).unwrap();
    assert_eq!(config.cluster_url, "https://prod.example.com/");
    assert!(config.tls.insecure_skip_tls_verify);
    assert_eq!(config.tls.server_name.as_deref(), Some("api.prod"));
    assert_eq!(config.auth, Auth::Bearer("sekret".into()));
    assert_eq!(
        config.default_namespace, "team-a",
        "the namespace stays the context's"
    );
}

#[test]
fn kind_embedded_data_and_minikube_extensions_load() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("kind-ca");
    let client = pki.client("kubernetes-admin");
    let kind = dir.path().join("kind");
    write(&kind, &kind_config(&pki, &client));
    let config =
        Config::from_kubeconfig(&Kubeconfig::read_from(&kind).unwrap(), &Default::default())
            .unwrap();
    assert_eq!(config.cluster_url, "https://127.0.0.1:38291/");
    assert_eq!(config.default_namespace, "default");
    assert_eq!(
        config.tls.root_certificates.as_deref(),
        Some(pki.ca_pem.as_bytes())
    );
    let identity = config.tls.identity.clone().unwrap();
    assert_eq!(identity.certificate_pem, client.0.as_bytes());
    assert_eq!(identity.key_pem, client.1.as_bytes());
    config.tls.client_config().unwrap();

    let minikube = dir.path().join("minikube");
    write(&minikube, &minikube_config(dir.path()));
    let profile = dir.path().join(".minikube/profiles/minikube");
    let (cert, key) = pki.client("minikube-user");
    write(&dir.path().join(".minikube/ca.crt"), &pki.ca_pem);
    write(&profile.join("client.crt"), &cert);
    write(&profile.join("client.key"), &key);
    let kubeconfig = Kubeconfig::read_from(&minikube).unwrap();
    let extensions = kubeconfig
        .cluster("minikube")
        .unwrap()
        .cluster
        .extensions
        .clone()
        .unwrap();
    assert_eq!(
        extensions[0]["extension"]["provider"],
        "minikube.sigs.k8s.io"
    );
    let config = Config::from_kubeconfig(&kubeconfig, &Default::default()).unwrap();
    assert_eq!(config.cluster_url, "https://192.168.49.2:8443/");
    assert_eq!(
        config.tls.identity.unwrap().certificate_pem,
        cert.as_bytes()
    );
}

fn file_with(
    dir: &Path,
    name: &str,
    server: &str,
    current: &str,
    extra_cluster: &str,
) -> std::path::PathBuf {
    let path = dir.join(name);
    write(
        &path,
        &format!(
            "apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {{server: {server}}}
- name: {extra_cluster}
  cluster: {{server: {server}}}
users:
- name: shared
  user: {{token: from-{name}}}
contexts:
- name: shared
  context: {{cluster: shared, user: shared}}
- name: ctx-{name}
  context: {{cluster: {extra_cluster}, user: shared, namespace: ns-{name}}}
current-context: \"{current}\"
"
        ),
    );
    path
}

#[test]
fn merging_follows_client_go_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = file_with(d, "first", "https://one:6443", "", "only-first");
    let second = file_with(d, "second", "https://two:6443", "ctx-second", "only-second");
    let third = file_with(d, "third", "https://three:6443", "ctx-third", "only-third");
    let missing = d.join("missing");

    let merged = Kubeconfig::read_paths([
        first.clone(),
        missing.clone(),
        std::path::PathBuf::new(),
        second.clone(),
        first.clone(),
    ])
    .unwrap();
    // The first file to define a name keeps it, whole.
    let shared = merged.cluster("shared").unwrap();
    assert_eq!(shared.cluster.server.as_deref(), Some("https://one:6443"));
    assert_eq!(shared.origin.as_deref(), Some(first.as_path()));
    assert_eq!(
        merged.auth_info("shared").unwrap().user.token.as_deref(),
        Some("from-first")
    );
    assert!(merged.cluster("only-first").is_some() && merged.cluster("only-second").is_some());
    assert_eq!(merged.clusters.len(), 3);
    assert_eq!(merged.contexts.len(), 3);
    // The first non-empty current-context wins: the first file's is empty.
    assert_eq!(merged.current_context.as_deref(), Some("ctx-second"));
    let config = Config::from_kubeconfig(&merged, &Default::default()).unwrap();
    assert_eq!(config.cluster_url, "https://two:6443/");
    assert_eq!(config.default_namespace, "ns-second");
    assert_eq!(
        config.auth,
        Auth::Bearer("from-first".into()),
        "the user named shared is the first file's"
    );

    let merged = Kubeconfig::read_paths([third.clone(), second.clone()]).unwrap();
    assert_eq!(merged.current_context.as_deref(), Some("ctx-third"));

    // KUBECONFIG as the environment gives it.
    let list = std::env::join_paths([&second, &missing, &third]).unwrap();
    let merged = kubeconfig::read_env(Some(list), None).unwrap();
    assert_eq!(merged.current_context.as_deref(), Some("ctx-second"));
    assert_eq!(
        merged.cluster("shared").unwrap().cluster.server.as_deref(),
        Some("https://two:6443")
    );
    // Only missing files: an empty configuration.
    assert_eq!(
        kubeconfig::read_env(Some(missing.clone().into_os_string()), None).unwrap(),
        Kubeconfig::default()
    );
}

#[test]
fn without_kubeconfig_the_home_directory_is_used() {
    let home = tempfile::tempdir().unwrap();
    let home_os: OsString = home.path().into();
    let err = kubeconfig::read_env(None, Some(home_os.clone())).unwrap_err();
    assert!(
        matches!(&err, KubeconfigError::NotFound(p) if p.ends_with(".kube/config")),
        "{err}"
    );
    write(&home.path().join(".kube/config"), KUBECTL_WRITTEN);
    let found = kubeconfig::read_env(Some(OsString::new()), Some(home_os)).unwrap();
    assert_eq!(found.current_context.as_deref(), Some("dev"));
    assert!(matches!(
        kubeconfig::read_env(None, None),
        Err(KubeconfigError::NoHome)
    ));
}

#[test]
fn contexts_choose_namespaces_and_report_missing_parts() {
    let kubeconfig = Kubeconfig::from_yaml(
        "clusters: [{name: c, cluster: {server: 'https://c:443/prefix/'}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: plain, context: {cluster: c, user: u}}
- {name: empty-ns, context: {cluster: c, user: u, namespace: ''}}
- {name: ns, context: {cluster: c, user: u, namespace: apps}}
- {name: ghost-user, context: {cluster: c, user: ghost}}
- {name: ghost-cluster, context: {cluster: nowhere, user: u}}
",
    )
    .unwrap();
    let config = |context: &str| {
        Config::from_kubeconfig(
            &kubeconfig,
            &KubeconfigOptions {
                context: Some(context.into()),
                ..Default::default()
            },
        )
    };
    assert_eq!(config("plain").unwrap().default_namespace, "default");
    assert_eq!(config("empty-ns").unwrap().default_namespace, "default");
    assert_eq!(config("ns").unwrap().default_namespace, "apps");
    assert_eq!(
        config("plain").unwrap().cluster_url,
        "https://c:443/prefix/"
    );
    // client-go carries on without credentials for a user it cannot find.
    assert_eq!(config("ghost-user").unwrap().auth, Auth::None);
    assert!(
        matches!(config("ghost-cluster"), Err(KubeconfigError::ClusterNotFound(c)) if c == "nowhere")
    );
    assert!(matches!(config("nope"), Err(KubeconfigError::ContextNotFound(c)) if c == "nope"));
    assert!(matches!(
        Config::from_kubeconfig(&kubeconfig, &Default::default()),
        Err(KubeconfigError::NoContext)
    ));
    let err = Config::from_kubeconfig(
        &kubeconfig,
        &KubeconfigOptions {
            context: Some("plain".into()),
            user: Some("ghost".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, KubeconfigError::UserNotFound(u) if u == "ghost"));
}

#[test]
fn token_files_tokens_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("secrets/token"), "tok-from-file\n");
    let path = dir.path().join("config");
    write(
        &path,
        "clusters: [{name: c, cluster: {server: 'https://c'}}]
users:
- {name: file, user: {tokenFile: secrets/token}}
- {name: both, user: {token: inline, tokenFile: secrets/token}}
- {name: gone, user: {tokenFile: secrets/missing}}
- {name: basic, user: {username: admin, password: hunter2}}
- {name: clash, user: {token: t, username: admin}}
- {name: password-only, user: {password: pw}}
- {name: plugin, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}}}
contexts:
- {name: file, context: {cluster: c, user: file}}
- {name: both, context: {cluster: c, user: both}}
- {name: gone, context: {cluster: c, user: gone}}
- {name: basic, context: {cluster: c, user: basic}}
- {name: clash, context: {cluster: c, user: clash}}
- {name: password-only, context: {cluster: c, user: password-only}}
- {name: plugin, context: {cluster: c, user: plugin}}
",
    );
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = |context: &str| {
        Config::from_kubeconfig(
            &kubeconfig,
            &KubeconfigOptions {
                context: Some(context.into()),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        config("file").unwrap().auth,
        Auth::BearerFile(dir.path().join("secrets/token"))
    );
    assert_eq!(config("both").unwrap().auth, Auth::Bearer("inline".into()));
    let err = config("gone").unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            &err,
            KubeconfigError::ReadFile {
                field: "tokenFile",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        text.contains(path.to_str().unwrap()) && text.contains("secrets/missing"),
        "{text}"
    );
    assert!(text.contains("user \"gone\""), "{text}");
    assert_eq!(
        config("basic").unwrap().auth,
        Auth::Basic {
            username: "admin".into(),
            password: "hunter2".into()
        }
    );
    assert!(matches!(config("clash"), Err(KubeconfigError::User { .. })));
    assert_eq!(
        config("password-only").unwrap().auth,
        Auth::Basic {
            username: String::new(),
            password: "pw".into()
        }
    );
    let err = config("plugin").unwrap_err();
    assert!(err.to_string().contains("exec credential plugins"), "{err}");
    // Secrets stay out of debug output.
    let debug = format!("{:?} {:?}", config("basic").unwrap(), kubeconfig);
    assert!(
        !debug.contains("hunter2") && !debug.contains("inline"),
        "{debug}"
    );
}

#[test]
fn errors_name_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let check = |text: &str, want: &str| {
        write(&path, text);
        let err = Kubeconfig::read_from(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("kubeconfig {}: ", path.display())),
            "{message}"
        );
        assert!(message.contains(want), "{message} lacks {want}");
        err
    };
    let err = check(
        "users: [{name: u, user: {client-key-data: 'not base64!'}}]\n",
        "users[0].user.client-key-data: invalid base64",
    );
    assert!(
        matches!(err, KubeconfigError::Field { ref field, .. } if field == "users[0].user.client-key-data")
    );
    check(
        "clusters: [{name: a, cluster: {server: 'https://a'}}, {name: b, cluster: {server: [1]}}]\n",
        "clusters[1].cluster.server: invalid type: sequence",
    );
    check(
        "clusters: [{name: a, cluster: {insecure-skip-tls-verify: 'yes please'}}]\n",
        "clusters[0].cluster.insecure-skip-tls-verify",
    );
    check("contexts: {a: b}\n", "contexts: invalid type: map");
    check(
        "- just\n- a list\n",
        "(document): a kubeconfig must be a mapping",
    );
    let err = check("clusters:\n  - name: a\n   bad: indent\n", "yaml: line 3");
    assert!(matches!(err, KubeconfigError::Yaml { .. }));
    check(
        "contexts: [{name: x, context: {cluster: a}}, {name: x, context: {cluster: b}}]\n",
        "duplicate name \"x\" in contexts",
    );
    // An empty file is an empty configuration, as in client-go.
    write(&path, "");
    assert_eq!(Kubeconfig::read_from(&path).unwrap(), Kubeconfig::default());
    let err = Kubeconfig::read_from(dir.path().join("absent")).unwrap_err();
    assert!(
        err.to_string().starts_with("could not read kubeconfig "),
        "{err}"
    );
}

#[test]
fn unusable_entries_are_refused_with_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let pki = Pki::new("ca");
    let ca = STANDARD.encode(&pki.ca_pem);
    write(
        &path,
        &format!(
            "clusters:
- {{name: both-ca, cluster: {{server: 'https://a', certificate-authority: ca.crt, certificate-authority-data: {ca}}}}}
- {{name: insecure-ca, cluster: {{server: 'https://a', insecure-skip-tls-verify: true, certificate-authority-data: {ca}}}}}
- {{name: no-server, cluster: {{certificate-authority-data: {ca}}}}}
- {{name: bad-server, cluster: {{server: 'ftp://a'}}}}
- {{name: missing-ca, cluster: {{server: 'https://a', certificate-authority: nothere.crt}}}}
- {{name: ok, cluster: {{server: 'https://a'}}}}
users:
- {{name: cert-only, user: {{client-certificate-data: {ca}}}}}
- {{name: key-only, user: {{client-key-data: {ca}}}}}
contexts:
- {{name: both-ca, context: {{cluster: both-ca}}}}
- {{name: insecure-ca, context: {{cluster: insecure-ca}}}}
- {{name: no-server, context: {{cluster: no-server}}}}
- {{name: bad-server, context: {{cluster: bad-server}}}}
- {{name: missing-ca, context: {{cluster: missing-ca}}}}
- {{name: cert-only, context: {{cluster: ok, user: cert-only}}}}
- {{name: key-only, context: {{cluster: ok, user: key-only}}}}
"
        ),
    );
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let message = |context: &str| {
        Config::from_kubeconfig(
            &kubeconfig,
            &KubeconfigOptions {
                context: Some(context.into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    let prefix = format!("kubeconfig {}: ", path.display());
    for (context, want) in [
        (
            "both-ca",
            "cluster \"both-ca\": certificate-authority-data and certificate-authority are both set",
        ),
        (
            "insecure-ca",
            "cluster \"insecure-ca\": a certificate authority cannot be combined with insecure-skip-tls-verify",
        ),
        ("no-server", "cluster \"no-server\": no server is set"),
        (
            "bad-server",
            "cluster \"bad-server\": server \"ftp://a\" must start with https:// or http://",
        ),
        (
            "missing-ca",
            "cluster \"missing-ca\": could not read certificate-authority",
        ),
        (
            "cert-only",
            "user \"cert-only\": client-key-data or client-key must be set",
        ),
    ] {
        let got = message(context);
        assert!(got.starts_with(&prefix), "{got}");
        assert!(got.contains(want), "{got} lacks {want}");
    }
    // A key without a certificate is ignored, as client-go ignores it.
    let key_only = Config::from_kubeconfig(
        &kubeconfig,
        &KubeconfigOptions {
            context: Some("key-only".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(key_only.tls.identity, None);
}

#[test]
fn writing_a_context_keeps_everything_else_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("ca");
    let path = kubectl_layout(dir.path(), &pki);
    // Fields this crate does not model, at every level.
    let mut text = minikube_config(dir.path()).replace("current-context: minikube\n", "");
    text = text.replace(
        "preferences: {}\n",
        "preferences: {colors: true}\nx-vendor: {keep: me}\n",
    );
    write(&path, &text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    }
    let before = Kubeconfig::read_from(&path).unwrap();

    let client = pki.client("kind-admin");
    let mut entry = ContextEntry::new(
        "kind-kind",
        Cluster {
            server: Some("https://127.0.0.1:38291".into()),
            certificate_authority_data: Some(pki.ca_pem.clone().into_bytes()),
            ..Cluster::default()
        },
        AuthInfo {
            client_certificate_data: Some(client.0.clone().into_bytes()),
            client_key_data: Some(client.1.clone().into_bytes()),
            ..AuthInfo::default()
        },
    );
    entry.namespace = Some("apps".into());
    write_context(&path, &entry, true).unwrap();

    let after = Kubeconfig::read_from(&path).unwrap();
    assert_eq!(after.current_context.as_deref(), Some("kind-kind"));
    assert_eq!(
        after.clusters[0], before.clusters[0],
        "minikube's cluster is untouched"
    );
    assert_eq!(after.contexts[0], before.contexts[0]);
    assert_eq!(after.auth_infos[0], before.auth_infos[0]);
    assert_eq!(after.preferences, Some(json!({"colors": true})));
    let raw = kubeconfig::parse_value(&fs::read_to_string(&path).unwrap(), None).unwrap();
    assert_eq!(raw["x-vendor"], json!({"keep": "me"}));
    let config = Config::from_kubeconfig(&after, &Default::default()).unwrap();
    assert_eq!(config.cluster_url, "https://127.0.0.1:38291/");
    assert_eq!(config.default_namespace, "apps");
    assert_eq!(config.tls.identity.unwrap().key_pem, client.1.as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    // Writing the same names again replaces the entries; current-context stays when asked.
    entry.cluster.server = Some("https://127.0.0.1:40000".into());
    entry.name = "kind-other".into();
    write_context(&path, &entry, false).unwrap();
    let again = Kubeconfig::read_from(&path).unwrap();
    assert_eq!(again.clusters.len(), 2);
    assert_eq!(again.contexts.len(), 3);
    assert_eq!(
        again
            .cluster("kind-kind")
            .unwrap()
            .cluster
            .server
            .as_deref(),
        Some("https://127.0.0.1:40000")
    );
    assert_eq!(again.current_context.as_deref(), Some("kind-kind"));
    assert!(
        !dir.path().join("kube/config.lock").exists(),
        "the lock is released"
    );
}

#[test]
fn writing_creates_a_private_file_and_refuses_to_clobber_an_invalid_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/dir/config");
    let entry = ContextEntry::new(
        "local",
        Cluster {
            server: Some("http://127.0.0.1:8080".into()),
            ..Cluster::default()
        },
        AuthInfo {
            token: Some("t0k".into()),
            ..AuthInfo::default()
        },
    );
    write_context(&path, &entry, true).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("apiVersion: v1\n"), "{text}");
    assert!(text.contains("kind: Config\n") && text.contains("current-context: local\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let config =
        Config::from_kubeconfig(&Kubeconfig::read_from(&path).unwrap(), &Default::default())
            .unwrap();
    assert_eq!(config.auth, Auth::Bearer("t0k".into()));

    let broken = dir.path().join("broken");
    write(&broken, "clusters: [unterminated\n");
    let err = write_context(&broken, &entry, true).unwrap_err();
    assert!(matches!(err, KubeconfigError::Yaml { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(&broken).unwrap(),
        "clusters: [unterminated\n"
    );
}

/// kubectl itself reads what `write_context` writes (skipped where kubectl is not installed).
#[test]
fn kubectl_reads_the_written_file() {
    let Some(kubectl) = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        eprintln!("kubectl not installed; skipping");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("ca");
    let path = kubectl_layout(dir.path(), &pki);
    let mut entry = ContextEntry::new(
        "true",
        Cluster {
            server: Some("https://127.0.0.1:6443".into()),
            certificate_authority_data: Some(pki.ca_pem.clone().into_bytes()),
            tls_server_name: Some("kubernetes.default".into()),
            ..Cluster::default()
        },
        AuthInfo {
            token: Some("a: b # not a comment".into()),
            ..AuthInfo::default()
        },
    );
    entry.namespace = Some("0x10".into());
    write_context(&path, &entry, true).unwrap();
    let output = std::process::Command::new(kubectl)
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["current-context"], "true");
    let named = |list: &str, name: &str| {
        view[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing from {list}: {view}"))
    };
    let cluster = named("clusters", "true");
    assert_eq!(cluster["cluster"]["server"], "https://127.0.0.1:6443");
    assert_eq!(cluster["cluster"]["tls-server-name"], "kubernetes.default");
    assert_eq!(
        cluster["cluster"]["certificate-authority-data"],
        STANDARD.encode(&pki.ca_pem)
    );
    assert_eq!(
        named("users", "true")["user"]["token"],
        "a: b # not a comment"
    );
    assert_eq!(named("contexts", "true")["context"]["namespace"], "0x10");
    assert_eq!(named("users", "alice")["user"]["token"], "sekret");
    assert_eq!(named("contexts", "dev")["context"]["namespace"], "team-a");
}

#[test]
fn in_cluster_configuration_reads_the_service_account() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("cluster-ca");
    write(&dir.path().join("token"), "sa-token\n");
    write(&dir.path().join("ca.crt"), &pki.ca_pem);
    write(&dir.path().join("namespace"), "operators\n");
    let config = incluster_from("10.96.0.1", "443", dir.path()).unwrap();
    assert_eq!(config.cluster_url, "https://10.96.0.1:443/");
    assert_eq!(config.default_namespace, "operators");
    assert_eq!(config.auth, Auth::BearerFile(dir.path().join("token")));
    assert_eq!(
        config.tls.root_certificates.as_deref(),
        Some(pki.ca_pem.as_bytes())
    );
    let v6 = incluster_from("fd00::1", "6443", dir.path()).unwrap();
    assert_eq!(v6.cluster_url, "https://[fd00::1]:6443/");
    assert!(matches!(
        incluster_from("", "443", dir.path()),
        Err(KubeconfigError::NotInCluster(_))
    ));
    let empty = tempfile::tempdir().unwrap();
    let err = incluster_from("10.96.0.1", "443", empty.path()).unwrap_err();
    assert!(err.to_string().contains("service account token"), "{err}");
}

#[test]
fn infer_prefers_the_kubeconfig_and_falls_back_to_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("ca");
    let path = kubectl_layout(dir.path(), &pki);
    let in_cluster = || {
        let mut c = Config::new("https://10.96.0.1:443".parse().unwrap());
        c.default_namespace = "from-cluster".into();
        Ok(c)
    };
    let from_file = infer_env(Some(path.clone().into_os_string()), None, || {
        panic!("the kubeconfig is enough")
    })
    .unwrap();
    assert_eq!(from_file.default_namespace, "team-a");
    let missing = dir.path().join("missing").into_os_string();
    assert_eq!(
        infer_env(Some(missing.clone()), None, in_cluster)
            .unwrap()
            .default_namespace,
        "from-cluster"
    );
    assert_eq!(
        infer_env(None, None, in_cluster).unwrap().default_namespace,
        "from-cluster"
    );
    let err = infer_env(Some(missing), None, || {
        Err(KubeconfigError::NotInCluster("no service host".into()))
    })
    .unwrap_err();
    assert!(matches!(err, KubeconfigError::NoConfiguration { .. }));
    assert!(err.to_string().contains("no service host"), "{err}");
    let bad = dir.path().join("bad");
    write(&bad, "clusters: 5\n");
    assert!(matches!(
        infer_env(Some(bad.into_os_string()), None, in_cluster),
        Err(KubeconfigError::Field { .. })
    ));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Text that looks like a kubeconfig often enough to reach the field decoders.
    fn kubeconfig_like() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("clusters"),
            Just("users"),
            Just("contexts"),
            Just("current-context"),
            Just("name"),
            Just("cluster"),
            Just("user"),
            Just("context"),
            Just("server"),
            Just("certificate-authority-data"),
            Just("client-key-data"),
            Just("token"),
            Just("tokenFile"),
            Just("insecure-skip-tls-verify"),
            Just("namespace"),
        ];
        let scalar = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("[]".to_owned()),
            Just("{}".to_owned()),
            "[A-Za-z0-9+/=:. -]{0,12}",
        ];
        prop::collection::vec((key, 0usize..3, scalar), 0..12).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(k, depth, v)| {
                    format!(
                        "{}{}{k}: {v}\n",
                        "  ".repeat(depth),
                        if depth > 0 { "- " } else { "" }
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn kubeconfig_parsing_never_panics(text in kubeconfig_like()) {
            if let Ok(kubeconfig) = Kubeconfig::from_yaml(&text) {
                let _ = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = Kubeconfig::from_yaml(&text);
        }
    }
}
