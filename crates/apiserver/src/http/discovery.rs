//! Discovery: `/version`, the legacy documents (`/api`, `/apis`, `/apis/<g>`, `/api/v1`,
//! `/apis/<g>/<v>`) and aggregated discovery v2 (chosen by `Accept`, answered with the exact
//! `Content-Type` clients key on).

use serde_json::{Value, json};

use crate::resources::{ResourceSpec, Resources};

/// The media type of aggregated discovery v2.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// The media type of aggregated discovery v2beta1.
pub const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// The Kubernetes version the server reports: kubectl's dispatcher picks its binary from the
/// minor version, so it must be 32.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.4+kubernaut",
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A served subresource: its name, the kind it answers with, and its verbs.
struct Subresource {
    name: &'static str,
    group: String,
    version: String,
    kind: String,
    verbs: &'static [&'static str],
}

fn subresources(spec: &ResourceSpec) -> Vec<Subresource> {
    let own = |name: &'static str, verbs: &'static [&'static str]| Subresource {
        name,
        group: spec.api.group.clone(),
        version: spec.api.version.clone(),
        kind: spec.api.kind.clone(),
        verbs,
    };
    let mut out = Vec::new();
    let core = spec.api.group.is_empty();
    if core && spec.api.kind == "Pod" {
        out.push(Subresource {
            name: "binding",
            group: String::new(),
            version: "v1".into(),
            kind: "Binding".into(),
            verbs: &["create"],
        });
        out.push(Subresource {
            name: "eviction",
            group: "policy".into(),
            version: "v1".into(),
            kind: "Eviction".into(),
            verbs: &["create"],
        });
    }
    if core && spec.api.kind == "Namespace" {
        out.push(own("finalize", &["update"]));
    }
    if spec.scale.is_some() {
        out.push(Subresource {
            name: "scale",
            group: "autoscaling".into(),
            version: "v1".into(),
            kind: "Scale".into(),
            verbs: &["get", "patch", "update"],
        });
    }
    if spec.status_subresource {
        out.push(own("status", &["get", "patch", "update"]));
    }
    out
}

/// The subresource names of a resource, as discovery lists them.
pub fn subresource_names(spec: &ResourceSpec) -> Vec<String> {
    subresources(spec)
        .into_iter()
        .map(|s| s.name.to_owned())
        .collect()
}

/// `/api`: the core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn groups(resources: &Resources) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (group, version) in resources.group_versions() {
        match out.iter_mut().find(|(g, _)| *g == group) {
            Some((_, versions)) => {
                if !versions.contains(&version) {
                    versions.push(version);
                }
            }
            None => out.push((group, vec![version])),
        }
    }
    out
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv).unwrap_or(Value::Null),
    })
}

/// `/apis`: every named group.
pub fn api_group_list(resources: &Resources) -> Value {
    let groups: Vec<Value> = groups(resources)
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`, when the group is served.
pub fn api_group(resources: &Resources, group: &str) -> Option<Value> {
    groups(resources)
        .iter()
        .find(|(g, _)| g == group && !g.is_empty())
        .map(|(g, v)| {
            let mut doc = group_json(g, v);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            doc
        })
}

/// `/api/v1` or `/apis/<group>/<version>`, when served.
pub fn api_resource_list(resources: &Resources, group: &str, version: &str) -> Option<Value> {
    let specs: Vec<&ResourceSpec> = resources
        .iter()
        .filter(|s| s.api.group == group && s.api.version == version)
        .map(|s| &**s)
        .collect();
    if specs.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for s in specs {
        let mut entry = json!({
            "name": s.api.plural,
            "singularName": s.api.singular,
            "namespaced": s.namespaced(),
            "kind": s.api.kind,
            "verbs": s.verbs,
        });
        if !s.api.short_names.is_empty() {
            entry["shortNames"] = json!(s.api.short_names);
        }
        if !s.api.categories.is_empty() {
            entry["categories"] = json!(s.api.categories);
        }
        list.push(entry);
        for sub in subresources(s) {
            let mut e = json!({
                "name": format!("{}/{}", s.api.plural, sub.name),
                "singularName": "",
                "namespaced": s.namespaced(),
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if sub.group != s.api.group || sub.version != s.api.version {
                e["group"] = json!(sub.group);
                e["version"] = json!(sub.version);
            }
            list.push(e);
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": list,
    }))
}

/// Aggregated discovery (`APIGroupDiscoveryList`) of the core group (`/api`) or of the named
/// groups (`/apis`), in version `v2` or `v2beta1`.
pub fn aggregated(resources: &Resources, core: bool, version: &str) -> Value {
    let items: Vec<Value> = groups(resources)
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = resources
                        .iter()
                        .filter(|s| s.api.group == *group && s.api.version == *v)
                        .map(|s| {
                            let subs: Vec<Value> = subresources(s)
                                .into_iter()
                                .map(|sub| {
                                    json!({
                                        "subresource": sub.name,
                                        "responseKind": {"group": sub.group, "version": sub.version, "kind": sub.kind},
                                        "verbs": sub.verbs,
                                    })
                                })
                                .collect();
                            let mut r = json!({
                                "resource": s.api.plural,
                                "responseKind": {"group": s.api.group, "version": s.api.version, "kind": s.api.kind},
                                "scope": if s.namespaced() { "Namespaced" } else { "Cluster" },
                                "singularResource": s.api.singular,
                                "verbs": s.verbs,
                            });
                            if !s.api.short_names.is_empty() {
                                r["shortNames"] = json!(s.api.short_names);
                            }
                            if !s.api.categories.is_empty() {
                                r["categories"] = json!(s.api.categories);
                            }
                            if !subs.is_empty() {
                                r["subresources"] = json!(subs);
                            }
                            r
                        })
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubernaut_api_types::scheme::Scheme;

    #[test]
    fn legacy_discovery_lists_resources_with_subresources_and_categories() {
        let r = Resources::from_scheme(&Scheme::builtin());
        let apps = api_resource_list(&r, "apps", "v1").unwrap();
        let entries = apps["resources"].as_array().unwrap();
        let deploy = entries.iter().find(|e| e["name"] == "deployments").unwrap();
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
        assert_eq!(deploy["categories"], json!(["all"]));
        let scale = entries
            .iter()
            .find(|e| e["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(
            (&scale["group"], &scale["version"], &scale["kind"]),
            (&json!("autoscaling"), &json!("v1"), &json!("Scale"))
        );
        assert!(api_resource_list(&r, "apps", "v2").is_none());
        let core = api_resource_list(&r, "", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let groups = api_group_list(&r);
        assert!(
            groups["groups"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g["name"] != "")
        );
    }

    #[test]
    fn aggregated_discovery_puts_the_core_group_under_the_empty_name() {
        let r = Resources::from_scheme(&Scheme::builtin());
        let core = aggregated(&r, true, "v2");
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        let pods = core["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["resource"] == "pods")
            .unwrap()
            .clone();
        assert_eq!(pods["scope"], "Namespaced");
        assert!(
            pods["subresources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["subresource"] == "status")
        );
        let named = aggregated(&r, false, "v2");
        assert!(
            named["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["metadata"]["name"] == "apps")
        );
    }
}
