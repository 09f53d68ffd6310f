//! Legacy discovery (`/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}`): what the server
//! serves, and resolving the names kubectl accepts (`deploy`, `deployments.apps`, `Pod`) to an
//! [`ApiResource`] for [`Api::all_with`](crate::Api::all_with) and friends.

use http::Method;
use kubernaut_api_types::meta::{APIGroupList, APIResource, APIResourceList, APIVersions};
use kubernaut_api_types::{ApiResource, Scope};

use crate::api::build_request;
use crate::client::Client;
use crate::error::Error;

/// One kind the server serves, with its verbs and subresources.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscoveredResource {
    /// The kind, as [`Api`](crate::Api) needs it.
    pub resource: ApiResource,
    /// The verbs (`get`, `list`, `watch`, `create`, ...).
    pub verbs: Vec<String>,
    /// The subresources (`status`, `scale`, ...).
    pub subresources: Vec<String>,
}

impl DiscoveredResource {
    /// Whether the server allows `verb` on this resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// One version of an API group and its resources.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupVersion {
    /// `group/version` (`v1` for the core group).
    pub group_version: String,
    /// The version (`v1`).
    pub version: String,
    /// The resources, subresources folded into their parents.
    pub resources: Vec<DiscoveredResource>,
}

/// An API group and its versions, the preferred one first.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiGroup {
    /// The group's name (empty for the core group).
    pub name: String,
    /// The version the server prefers.
    pub preferred_version: String,
    /// The versions, the preferred one first, then as the server lists them.
    pub versions: Vec<GroupVersion>,
}

/// A snapshot of the server's legacy discovery.
#[derive(Clone, Debug, PartialEq)]
pub struct Discovery {
    groups: Vec<ApiGroup>,
    failed: Vec<(String, String)>,
}

impl Discovery {
    /// Reads discovery: `/api` and `/api/v1` for the core group, `/apis` and every
    /// `/apis/{group}/{version}` (fetched concurrently). A group version that fails (an
    /// aggregated API whose backend is down) is left out and listed by
    /// [`Discovery::failed`], as kubectl carries on without it.
    ///
    /// # Errors
    /// The core group or the group list could not be read.
    pub async fn run(client: &Client) -> Result<Discovery, Error> {
        let versions: APIVersions = client
            .request(build_request(Method::GET, "/api".to_owned(), None)?)
            .await?;
        let group_list: APIGroupList = client
            .request(build_request(Method::GET, "/apis".to_owned(), None)?)
            .await?;

        let mut wanted: Vec<(usize, String)> = Vec::new();
        let mut groups = vec![ApiGroup {
            name: String::new(),
            preferred_version: versions.versions.first().cloned().unwrap_or_default(),
            versions: Vec::new(),
        }];
        for v in &versions.versions {
            wanted.push((0, v.clone()));
        }
        for group in &group_list.groups {
            let preferred = group
                .preferred_version
                .as_ref()
                .map(|p| p.version.clone())
                .or_else(|| group.versions.first().map(|v| v.version.clone()))
                .unwrap_or_default();
            let index = groups.len();
            groups.push(ApiGroup {
                name: group.name.clone(),
                preferred_version: preferred.clone(),
                versions: Vec::new(),
            });
            let mut listed: Vec<&str> = group.versions.iter().map(|v| v.version.as_str()).collect();
            // The preferred version first.
            listed.sort_by_key(|v| *v != preferred);
            for v in listed {
                wanted.push((index, format!("{}/{v}", group.name)));
            }
        }

        let fetches = wanted.iter().map(|(index, gv)| {
            let path = if *index == 0 {
                format!("/api/{gv}")
            } else {
                format!("/apis/{gv}")
            };
            async move {
                let list: Result<APIResourceList, Error> =
                    match build_request(Method::GET, path, None) {
                        Ok(request) => client.request(request).await,
                        Err(e) => Err(e),
                    };
                (*index, gv.clone(), list)
            }
        });
        let results = futures::future::join_all(fetches).await;

        let mut failed = Vec::new();
        for (index, gv, list) in results {
            match list {
                Ok(list) => {
                    let group = &mut groups[index];
                    let version = kubernaut_api_types::split_api_version(&gv).1.to_owned();
                    group.versions.push(GroupVersion {
                        resources: resources_of(&group.name, &version, &list.resources),
                        group_version: gv,
                        version,
                    });
                }
                Err(e) if index == 0 => return Err(e),
                Err(e) => failed.push((gv, e.to_string())),
            }
        }
        Ok(Discovery { groups, failed })
    }

    /// The groups, the core group first, then in the server's order.
    pub fn groups(&self) -> &[ApiGroup] {
        &self.groups
    }

    /// The group versions that could not be read, with the error.
    pub fn failed(&self) -> &[(String, String)] {
        &self.failed
    }

    /// Every resource, in priority order (core first, preferred versions first).
    pub fn resources(&self) -> impl Iterator<Item = &DiscoveredResource> {
        self.groups
            .iter()
            .flat_map(|g| g.versions.iter())
            .flat_map(|v| v.resources.iter())
    }

    /// Resolves a name as kubectl does: `resource.version.group`, then `resource.group`, then
    /// the bare name in every group (core first, preferred versions first). A name matches a
    /// resource's plural, singular or kind (case-insensitively), else one of its short names.
    pub fn resolve(&self, name: &str) -> Option<&DiscoveredResource> {
        let name = name.to_ascii_lowercase();
        let mut dots = name.splitn(3, '.');
        let (first, second, rest) = (dots.next()?, dots.next(), dots.next());
        if let (Some(version), Some(group)) = (second, rest)
            && let Some(found) = self.find(first, Some(group), Some(version))
        {
            return Some(found);
        }
        if let Some((resource, group)) = name.split_once('.')
            && let Some(found) = self.find(resource, Some(group), None)
        {
            return Some(found);
        }
        self.find(&name, None, None)
    }

    fn find(
        &self,
        name: &str,
        group: Option<&str>,
        version: Option<&str>,
    ) -> Option<&DiscoveredResource> {
        let candidates = || {
            self.groups
                .iter()
                .filter(move |g| group.is_none_or(|want| g.name == want))
                .flat_map(|g| g.versions.iter())
                .filter(move |v| version.is_none_or(|want| v.version == want))
                .flat_map(|v| v.resources.iter())
        };
        candidates()
            .find(|r| {
                let r = &r.resource;
                r.plural == name || r.singular == name || r.kind.eq_ignore_ascii_case(name)
            })
            .or_else(|| candidates().find(|r| r.resource.short_names.iter().any(|s| s == name)))
    }
}

/// The resources of one group version, subresources attached to their parents.
fn resources_of(group: &str, version: &str, list: &[APIResource]) -> Vec<DiscoveredResource> {
    let api_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut out: Vec<DiscoveredResource> = list
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| DiscoveredResource {
            resource: ApiResource {
                group: group.to_owned(),
                version: version.to_owned(),
                api_version: api_version.clone(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
                singular: if r.singular_name.is_empty() {
                    r.kind.to_ascii_lowercase()
                } else {
                    r.singular_name.clone()
                },
                short_names: r.short_names.clone().unwrap_or_default(),
                categories: r.categories.clone().unwrap_or_default(),
                scope: if r.namespaced {
                    Scope::Namespaced
                } else {
                    Scope::Cluster
                },
            },
            verbs: r.verbs.clone(),
            subresources: Vec::new(),
        })
        .collect();
    for r in list {
        if let Some((parent, sub)) = r.name.split_once('/')
            && let Some(p) = out.iter_mut().find(|p| p.resource.plural == parent)
        {
            p.subresources.push(sub.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use http::Method;
    use serde_json::{Value, json};

    use super::*;
    use crate::test_support::{Script, expect};

    fn resource(name: &str, kind: &str, namespaced: bool, short: &[&str]) -> Value {
        let singular = if name.contains('/') {
            String::new()
        } else {
            kind.to_ascii_lowercase()
        };
        let mut r = json!({"name": name, "singularName": singular, "namespaced": namespaced, "kind": kind,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]});
        if !short.is_empty() {
            r["shortNames"] = json!(short);
        }
        r
    }

    fn group(name: &str, versions: &[&str], preferred: &str) -> Value {
        json!({"name": name,
               "versions": versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect::<Vec<_>>(),
               "preferredVersion": {"groupVersion": format!("{name}/{preferred}"), "version": preferred}})
    }

    fn resource_list(gv: &str, resources: Vec<Value>) -> Value {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
    }

    fn server() -> (Client, Script) {
        Script::unordered(vec![
            expect(Method::GET, "/api").reply(
                200,
                json!({"kind": "APIVersions", "versions": ["v1"],
                       "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}),
            ),
            expect(Method::GET, "/apis").reply(
                200,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                    group("apps", &["v1"], "v1"),
                    group("events.k8s.io", &["v1"], "v1"),
                    group("example.com", &["v2", "v1"], "v1"),
                    group("metrics.k8s.io", &["v1beta1"], "v1beta1"),
                ]}),
            ),
            expect(Method::GET, "/api/v1").reply(
                200,
                resource_list("v1", vec![
                    resource("pods", "Pod", true, &["po"]),
                    resource("pods/status", "Pod", true, &[]),
                    resource("pods/log", "Pod", true, &[]),
                    resource("events", "Event", true, &["ev"]),
                    resource("nodes", "Node", false, &["no"]),
                ]),
            ),
            expect(Method::GET, "/apis/apps/v1").reply(
                200,
                resource_list("apps/v1", vec![
                    resource("deployments", "Deployment", true, &["deploy"]),
                    resource("deployments/scale", "Scale", true, &[]),
                    resource("deployments/status", "Deployment", true, &[]),
                ]),
            ),
            expect(Method::GET, "/apis/events.k8s.io/v1").reply(
                200,
                resource_list("events.k8s.io/v1", vec![resource("events", "Event", true, &["ev"])]),
            ),
            expect(Method::GET, "/apis/example.com/v1").reply(
                200,
                resource_list("example.com/v1", vec![resource("widgets", "Widget", true, &["wd"])]),
            ),
            expect(Method::GET, "/apis/example.com/v2").reply(
                200,
                resource_list("example.com/v2", vec![resource("widgets", "Widget", true, &["wd"])]),
            ),
            expect(Method::GET, "/apis/metrics.k8s.io/v1beta1").reply(
                503,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": "the server is currently unable to handle the request", "reason": "ServiceUnavailable", "code": 503}),
            ),
        ])
    }

    #[tokio::test]
    async fn discovery_reads_every_group_version_and_tolerates_failed_ones() {
        let (client, script) = server();
        let discovery = Discovery::run(&client).await.unwrap();
        script.done();
        let names: Vec<_> = discovery.groups().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            ["", "apps", "events.k8s.io", "example.com", "metrics.k8s.io"]
        );
        let example = &discovery.groups()[3];
        assert_eq!(example.preferred_version, "v1");
        let versions: Vec<_> = example
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        assert_eq!(versions, ["v1", "v2"], "the preferred version comes first");
        assert_eq!(discovery.failed().len(), 1);
        assert_eq!(discovery.failed()[0].0, "metrics.k8s.io/v1beta1");
        assert!(discovery.failed()[0].1.contains("ServiceUnavailable"));
        let pods = discovery.resolve("pods").unwrap();
        assert_eq!(pods.subresources, ["status", "log"]);
        assert!(pods.supports("watch") && !pods.supports("escalate"));
        let deployments = discovery.resolve("deployments").unwrap();
        assert_eq!(deployments.subresources, ["scale", "status"]);
        assert_eq!(
            deployments.resource,
            ApiResource {
                group: "apps".into(),
                version: "v1".into(),
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                plural: "deployments".into(),
                singular: "deployment".into(),
                short_names: vec!["deploy".into()],
                categories: vec![],
                scope: Scope::Namespaced,
            }
        );
        assert_eq!(
            discovery.resolve("nodes").unwrap().resource.scope,
            Scope::Cluster
        );
    }

    #[tokio::test]
    async fn names_resolve_as_kubectl_resolves_them() {
        let (client, _script) = server();
        let discovery = Discovery::run(&client).await.unwrap();
        let gv = |name: &str| {
            discovery
                .resolve(name)
                .map(|r| format!("{}/{}", r.resource.api_version, r.resource.plural))
        };
        for (name, want) in [
            ("pods", "v1/pods"),
            ("pod", "v1/pods"),
            ("po", "v1/pods"),
            ("Pod", "v1/pods"),
            ("PODS", "v1/pods"),
            ("deploy", "apps/v1/deployments"),
            ("Deployment", "apps/v1/deployments"),
            ("deployments.apps", "apps/v1/deployments"),
            ("deployments.v1.apps", "apps/v1/deployments"),
            // The core group wins a bare name; a group picks the other one.
            ("events", "v1/events"),
            ("ev", "v1/events"),
            ("events.events.k8s.io", "events.k8s.io/v1/events"),
            ("ev.events.k8s.io", "events.k8s.io/v1/events"),
            // The preferred version wins unless a version is named.
            ("widgets", "example.com/v1/widgets"),
            ("widgets.example.com", "example.com/v1/widgets"),
            ("widgets.v2.example.com", "example.com/v2/widgets"),
            ("wd", "example.com/v1/widgets"),
        ] {
            assert_eq!(gv(name).as_deref(), Some(want), "{name}");
        }
        for unknown in [
            "pods/status",
            "nope",
            "deployments.v9.apps",
            "pods.apps",
            "",
        ] {
            assert_eq!(gv(unknown), None, "{unknown}");
        }
    }

    #[tokio::test]
    async fn a_failing_core_group_fails_discovery() {
        let (client, _script) = Script::unordered(vec![
            expect(Method::GET, "/api").reply(200, json!({"kind": "APIVersions", "versions": ["v1"]})),
            expect(Method::GET, "/apis").reply(200, json!({"kind": "APIGroupList", "groups": []})),
            expect(Method::GET, "/api/v1").reply(500, json!({"kind": "Status", "apiVersion": "v1", "code": 500, "reason": "InternalError"})),
        ]);
        let err = Discovery::run(&client).await.unwrap_err();
        assert_eq!(err.code(), Some(500));
    }
}
