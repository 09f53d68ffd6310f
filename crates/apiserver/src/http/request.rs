//! What an HTTP request asks for: the resource path (`/apis/apps/v1/namespaces/ns/deployments/
//! web/scale`), the query parameters, and the media types of its body and of the answer it
//! accepts.

use http::HeaderMap;

use crate::error::ApiError;

/// A request on the resource API, parsed from its path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group; empty for the core group (`/api/v1`).
    pub group: String,
    /// API version.
    pub version: String,
    /// The namespace in the path, if any.
    pub namespace: Option<String>,
    /// The resource (`pods`).
    pub resource: String,
    /// The object's name, for item requests.
    pub name: Option<String>,
    /// The subresource (`status`, `scale`).
    pub subresource: Option<String>,
    /// Whether the path used the deprecated `/watch/` prefix.
    pub legacy_watch: bool,
}

/// What a path under `/api` or `/apis` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`.
    GroupVersion(String, String),
    /// A resource, collection or item.
    Resource(ResourcePath),
}

/// Parses a path under `/api` or `/apis`; `None` for anything else.
pub fn parse_path(path: &str) -> Option<ApiPath> {
    let trimmed = path.trim_end_matches('/');
    let mut parts = trimmed.split('/').skip(1).map(percent_decode);
    let root = parts.next()?;
    let rest: Vec<String> = parts.collect();
    if rest.iter().any(String::is_empty) {
        return None;
    }
    let (group, version, rest) = match root.as_str() {
        "api" => match rest.split_first() {
            None => return Some(ApiPath::CoreVersions),
            Some((v, rest)) => (String::new(), v.clone(), rest),
        },
        "apis" => match rest.as_slice() {
            [] => return Some(ApiPath::Groups),
            [g] => return Some(ApiPath::Group(g.clone())),
            [g, v, rest @ ..] => (g.clone(), v.clone(), rest),
        },
        _ => return None,
    };
    if rest.is_empty() {
        return Some(ApiPath::GroupVersion(group, version));
    }
    let (legacy_watch, rest) = match rest.split_first() {
        Some((w, tail)) if w == "watch" && !tail.is_empty() => (true, tail),
        _ => (false, rest),
    };
    let mut p = ResourcePath {
        group,
        version,
        legacy_watch,
        ..ResourcePath::default()
    };
    match rest {
        // `namespaces/{name}/{status|finalize}` is the namespace's subresource.
        [ns, name, sub]
            if ns == "namespaces"
                && p.group.is_empty()
                && (sub == "status" || sub == "finalize") =>
        {
            p.resource = "namespaces".into();
            p.name = Some(name.clone());
            p.subresource = Some(sub.clone());
        }
        [ns, namespace, resource, tail @ ..] if ns == "namespaces" => {
            p.namespace = Some(namespace.clone());
            p.resource = resource.clone();
            match tail {
                [] => {}
                [name] => p.name = Some(name.clone()),
                [name, sub] => {
                    p.name = Some(name.clone());
                    p.subresource = Some(sub.clone());
                }
                _ => return None,
            }
        }
        [resource] => p.resource = resource.clone(),
        [resource, name] => {
            p.resource = resource.clone();
            p.name = Some(name.clone());
        }
        [resource, name, sub] => {
            p.resource = resource.clone();
            p.name = Some(name.clone());
            p.subresource = Some(sub.clone());
        }
        _ => return None,
    }
    Some(ApiPath::Resource(p))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The query parameters of a request.
#[derive(Clone, Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (`a=b&c=d`).
    pub fn parse(raw: Option<&str>) -> Self {
        Query(
            raw.map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean parameter (`true`, `1`; anything else is false), `None` when absent.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| matches!(v, "true" | "1" | "True"))
    }

    /// A non-negative integer parameter.
    ///
    /// # Errors
    /// `400 BadRequest` when present but not an integer.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value {v:?} for parameter {name}"))
            }),
        }
    }
}

/// A media type with its parameters (`application/json;as=Table;g=meta.k8s.io;v=v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower case.
    pub essence: String,
    /// Parameters, names lower case.
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parses one media type.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let essence = parts.next()?.trim().to_ascii_lowercase();
        if essence.is_empty() || !essence.contains('/') {
            return None;
        }
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_owned(),
                ))
            })
            .collect();
        Some(MediaType { essence, params })
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this accepts JSON (`application/json`, `application/*`, `*/*`).
    pub fn accepts_json(&self) -> bool {
        matches!(
            self.essence.as_str(),
            "application/json" | "application/*" | "*/*"
        )
    }
}

/// The answer shapes a request accepts, from `Accept`, in preference order.
pub fn accepted(headers: &HeaderMap) -> Vec<MediaType> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            if let Some(m) = MediaType::parse(item) {
                // `q=0` means "not acceptable".
                if m.param("q")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
                {
                    continue;
                }
                out.push(m);
            }
        }
    }
    out
}

/// How an object or list is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendering {
    /// The object itself.
    Object,
    /// A `meta.k8s.io` Table (`v1` or `v1beta1`).
    Table(&'static str),
    /// `PartialObjectMetadata` (`v1` or `v1beta1`).
    Metadata(&'static str),
}

/// The rendering the `Accept` header asks for.
///
/// # Errors
/// `406 NotAcceptable` when nothing in `Accept` can be produced.
pub fn negotiate(headers: &HeaderMap) -> Result<Rendering, ApiError> {
    let accepted = accepted(headers);
    if accepted.is_empty() {
        return Ok(Rendering::Object);
    }
    for m in &accepted {
        if !m.accepts_json() {
            continue;
        }
        let version = match m.param("v") {
            Some("v1") => "v1",
            Some("v1beta1") => "v1beta1",
            _ => "v1",
        };
        match (m.param("as"), m.param("g")) {
            (None, _) => return Ok(Rendering::Object),
            (Some("Table"), Some("meta.k8s.io")) => return Ok(Rendering::Table(version)),
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Ok(Rendering::Metadata(version));
            }
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable(&[
        "application/json",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse_path(path) {
            Some(ApiPath::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_parse_like_upstream_request_info() {
        assert_eq!(parse_path("/api"), Some(ApiPath::CoreVersions));
        assert_eq!(parse_path("/apis/"), Some(ApiPath::Groups));
        assert_eq!(
            parse_path("/apis/apps"),
            Some(ApiPath::Group("apps".into()))
        );
        assert_eq!(
            parse_path("/api/v1"),
            Some(ApiPath::GroupVersion("".into(), "v1".into()))
        );
        let r = res("/apis/apps/v1/namespaces/ns/deployments/web/scale");
        assert_eq!(
            (
                r.group.as_str(),
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            (
                "apps",
                Some("ns"),
                "deployments",
                Some("web"),
                Some("scale")
            )
        );
        let ns = res("/api/v1/namespaces/kube-system");
        assert_eq!(
            (
                ns.resource.as_str(),
                ns.namespace.as_deref(),
                ns.name.as_deref()
            ),
            ("namespaces", None, Some("kube-system"))
        );
        let status = res("/api/v1/namespaces/demo/status");
        assert_eq!(
            (
                status.resource.as_str(),
                status.name.as_deref(),
                status.subresource.as_deref()
            ),
            ("namespaces", Some("demo"), Some("status"))
        );
        let all = res("/api/v1/pods");
        assert_eq!((all.namespace, all.resource.as_str()), (None, "pods"));
        let w = res("/api/v1/watch/namespaces/ns/pods");
        assert!(w.legacy_watch);
        assert_eq!(parse_path("/api/v1/namespaces/ns/pods/a/b/c"), None);
        assert_eq!(parse_path("/healthz"), None);
        assert_eq!(
            res("/api/v1/namespaces/ns/configmaps/a%3Ab")
                .name
                .as_deref(),
            Some("a:b")
        );
    }

    #[test]
    fn accept_headers_choose_tables_metadata_or_objects() {
        let h = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::ACCEPT, v.parse().unwrap());
            h
        };
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(&h(kubectl)).unwrap(), Rendering::Table("v1"));
        assert_eq!(
            negotiate(&h("application/vnd.kubernetes.protobuf,application/json")).unwrap(),
            Rendering::Object
        );
        assert_eq!(
            negotiate(&h(
                "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
            ))
            .unwrap(),
            Rendering::Metadata("v1")
        );
        assert_eq!(negotiate(&HeaderMap::new()).unwrap(), Rendering::Object);
        assert_eq!(negotiate(&h("*/*")).unwrap(), Rendering::Object);
        assert_eq!(negotiate(&h("application/xml")).unwrap_err().code(), 406);
    }

    #[test]
    fn queries_decode_and_type_their_values() {
        let q = Query::parse(Some("labelSelector=app%3Dweb&watch=1&limit=500&x=a&x=b"));
        assert_eq!(q.get("labelSelector"), Some("app=web"));
        assert_eq!(q.flag("watch"), Some(true));
        assert_eq!(q.int("limit").unwrap(), Some(500));
        assert_eq!(q.all("x"), ["a", "b"]);
        assert_eq!(
            Query::parse(Some("limit=x"))
                .int("limit")
                .unwrap_err()
                .code(),
            400
        );
    }
}
