//! The options of each request (`ListParams`, `PostParams`, ...) and the four [`Patch`] types,
//! with their upstream query-parameter and body encodings.

use kubernaut_api_types::meta::{DeleteOptions, Preconditions};
use serde::Serialize;

/// How a list's or watch's `resourceVersion` is matched (`resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionMatch {
    /// `NotOlderThan`: data at least as new as the version.
    NotOlderThan,
    /// `Exact`: data at exactly the version (410 Gone when it was compacted away).
    Exact,
}

impl VersionMatch {
    fn as_str(self) -> &'static str {
        match self {
            VersionMatch::NotOlderThan => "NotOlderThan",
            VersionMatch::Exact => "Exact",
        }
    }
}

/// What the server does with fields it does not know (`fieldValidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidationDirective {
    /// `Strict`: fail the request.
    Strict,
    /// `Warn`: accept, with a `Warning` header per field.
    Warn,
    /// `Ignore`: drop them silently.
    Ignore,
}

impl ValidationDirective {
    fn as_str(self) -> &'static str {
        match self {
            ValidationDirective::Strict => "Strict",
            ValidationDirective::Warn => "Warn",
            ValidationDirective::Ignore => "Ignore",
        }
    }
}

/// Options of a list (`GET` on a collection).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListParams {
    /// `labelSelector` (`app=web,tier!=db`).
    pub label_selector: Option<String>,
    /// `fieldSelector` (`metadata.name=web`).
    pub field_selector: Option<String>,
    /// `timeoutSeconds`: how long the server may take.
    pub timeout: Option<u32>,
    /// `limit`: at most this many items; the rest through [`ListParams::continue_token`].
    pub limit: Option<u32>,
    /// `continue`: the token of the previous page's `metadata.continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion`: unset for the most recent data, `0` for any (a cache may answer).
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`: how `resourceVersion` is matched.
    pub version_match: Option<VersionMatch>,
}

impl ListParams {
    /// Selects by labels.
    #[must_use]
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Selects by fields.
    #[must_use]
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Asks for at most `limit` items.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues a paginated list.
    #[must_use]
    pub fn continue_token(mut self, token: &str) -> Self {
        self.continue_token = Some(token.to_owned());
        self
    }

    /// Lists at `resource_version`, matched by `version_match`.
    #[must_use]
    pub fn at(mut self, resource_version: &str, version_match: Option<VersionMatch>) -> Self {
        self.resource_version = Some(resource_version.to_owned());
        self.version_match = version_match;
        self
    }

    /// Lets the server answer from any version (`resourceVersion=0`), typically its cache.
    #[must_use]
    pub fn any_version(self) -> Self {
        self.at("0", None)
    }

    /// Bounds the server's time with `timeoutSeconds`.
    #[must_use]
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    pub(crate) fn write_query(&self, q: &mut Query) {
        q.opt("labelSelector", self.label_selector.as_deref());
        q.opt("fieldSelector", self.field_selector.as_deref());
        q.opt(
            "timeoutSeconds",
            self.timeout.map(|t| t.to_string()).as_deref(),
        );
        q.opt("limit", self.limit.map(|l| l.to_string()).as_deref());
        q.opt("continue", self.continue_token.as_deref());
        q.opt("resourceVersion", self.resource_version.as_deref());
        q.opt(
            "resourceVersionMatch",
            self.version_match.map(VersionMatch::as_str),
        );
    }
}

/// Options of a get.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetParams {
    /// `resourceVersion`: unset for the most recent object, `0` for any.
    pub resource_version: Option<String>,
}

impl GetParams {
    pub(crate) fn write_query(&self, q: &mut Query) {
        q.opt("resourceVersion", self.resource_version.as_deref());
    }
}

/// Options of a watch (`GET` on a collection with `watch=true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchParams {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`; `metadata.name=<name>` watches one object.
    pub field_selector: Option<String>,
    /// `timeoutSeconds`: the server ends the stream after this long (its own default is
    /// between 30 and 60 minutes). Reconnect from the last version seen.
    pub timeout: Option<u32>,
    /// `allowWatchBookmarks`: ask for `BOOKMARK` events that carry a newer resource version.
    pub bookmarks: bool,
    /// `sendInitialEvents` (with `resourceVersionMatch=NotOlderThan`): start with an `ADDED`
    /// event per existing object, ended by a bookmark annotated
    /// `k8s.io/initial-events-end: "true"`.
    pub send_initial_events: bool,
}

impl Default for WatchParams {
    /// Bookmarks on, as client-go's reflector asks; nothing else set.
    fn default() -> Self {
        WatchParams {
            label_selector: None,
            field_selector: None,
            timeout: None,
            bookmarks: true,
            send_initial_events: false,
        }
    }
}

impl WatchParams {
    /// Selects by labels.
    #[must_use]
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Selects by fields.
    #[must_use]
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Ends the stream after `seconds`.
    #[must_use]
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Turns bookmarks off.
    #[must_use]
    pub fn disable_bookmarks(mut self) -> Self {
        self.bookmarks = false;
        self
    }

    /// Starts with the current state as `ADDED` events ending in an initial-events bookmark.
    #[must_use]
    pub fn streaming_lists(mut self) -> Self {
        self.send_initial_events = true;
        self.bookmarks = true;
        self
    }

    pub(crate) fn write_query(&self, q: &mut Query, resource_version: &str) {
        q.push("watch", "true");
        q.opt("labelSelector", self.label_selector.as_deref());
        q.opt("fieldSelector", self.field_selector.as_deref());
        q.opt(
            "timeoutSeconds",
            self.timeout.map(|t| t.to_string()).as_deref(),
        );
        if self.bookmarks {
            q.push("allowWatchBookmarks", "true");
        }
        if !resource_version.is_empty() {
            q.push("resourceVersion", resource_version);
        }
        if self.send_initial_events {
            q.push("sendInitialEvents", "true");
            q.push("resourceVersionMatch", VersionMatch::NotOlderThan.as_str());
        }
    }
}

/// Options of a create or replace (`POST`, `PUT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostParams {
    /// `dryRun=All`: validate and admit, but store nothing.
    pub dry_run: bool,
    /// `fieldManager`: the manager recorded in `managedFields`.
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: Option<ValidationDirective>,
}

impl PostParams {
    pub(crate) fn write_query(&self, q: &mut Query) {
        if self.dry_run {
            q.push("dryRun", "All");
        }
        q.opt("fieldManager", self.field_manager.as_deref());
        q.opt(
            "fieldValidation",
            self.field_validation.map(ValidationDirective::as_str),
        );
    }
}

/// Options of a patch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchParams {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `force=true`: a server-side apply takes over fields owned by other managers instead of
    /// failing with a conflict. Only for [`Patch::Apply`].
    pub force: bool,
    /// `fieldManager`: required for [`Patch::Apply`].
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: Option<ValidationDirective>,
}

impl PatchParams {
    /// Parameters for a server-side apply by `manager`.
    pub fn apply(manager: &str) -> Self {
        PatchParams {
            field_manager: Some(manager.to_owned()),
            ..PatchParams::default()
        }
    }

    /// Forces the apply over conflicts.
    #[must_use]
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }

    pub(crate) fn write_query(&self, q: &mut Query) {
        if self.dry_run {
            q.push("dryRun", "All");
        }
        q.opt("fieldManager", self.field_manager.as_deref());
        q.opt(
            "fieldValidation",
            self.field_validation.map(ValidationDirective::as_str),
        );
        if self.force {
            q.push("force", "true");
        }
    }
}

/// What happens to the dependents of a deleted object (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropagationPolicy {
    /// `Orphan`: dependents stay, their owner reference removed.
    Orphan,
    /// `Background`: the object goes at once, the garbage collector removes dependents after.
    Background,
    /// `Foreground`: the object stays (with the `foregroundDeletion` finalizer) until its
    /// blocking dependents are gone.
    Foreground,
}

impl PropagationPolicy {
    fn as_str(self) -> &'static str {
        match self {
            PropagationPolicy::Orphan => "Orphan",
            PropagationPolicy::Background => "Background",
            PropagationPolicy::Foreground => "Foreground",
        }
    }
}

/// Options of a delete, sent as a `DeleteOptions` body as client-go sends them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteParams {
    /// `dryRun: ["All"]`.
    pub dry_run: bool,
    /// `gracePeriodSeconds`: `0` deletes at once; unset uses the object's own.
    pub grace_period_seconds: Option<u32>,
    /// `propagationPolicy`.
    pub propagation_policy: Option<PropagationPolicy>,
    /// `preconditions`: delete only if the object still has this uid / resource version.
    pub preconditions: Option<Preconditions>,
}

impl DeleteParams {
    /// Background propagation (what kubectl sends).
    pub fn background() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        }
    }

    /// Foreground propagation.
    pub fn foreground() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        }
    }

    /// Orphaning propagation.
    pub fn orphan() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..DeleteParams::default()
        }
    }

    /// Sets the grace period.
    #[must_use]
    pub fn grace_period(mut self, seconds: u32) -> Self {
        self.grace_period_seconds = Some(seconds);
        self
    }

    /// The `DeleteOptions` body.
    pub fn to_delete_options(&self) -> DeleteOptions {
        DeleteOptions {
            dry_run: self.dry_run.then(|| vec!["All".to_owned()]),
            grace_period_seconds: self.grace_period_seconds.map(i64::from),
            propagation_policy: self.propagation_policy.map(|p| p.as_str().to_owned()),
            preconditions: self.preconditions.clone().map(Box::new),
            ..DeleteOptions::default()
        }
    }
}

/// Options of a pod's log (`GET .../pods/{name}/log`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogParams {
    /// `container`: needed when the pod has several.
    pub container: Option<String>,
    /// `previous`: the log of the previous, terminated container.
    pub previous: bool,
    /// `sinceSeconds`: only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// `tailLines`: only the last lines.
    pub tail_lines: Option<i64>,
    /// `timestamps`: prefix each line with its RFC 3339 time.
    pub timestamps: bool,
    /// `limitBytes`: at most this many bytes.
    pub limit_bytes: Option<i64>,
}

impl LogParams {
    pub(crate) fn write_query(&self, q: &mut Query) {
        q.opt("container", self.container.as_deref());
        if self.previous {
            q.push("previous", "true");
        }
        q.opt(
            "sinceSeconds",
            self.since_seconds.map(|s| s.to_string()).as_deref(),
        );
        q.opt(
            "tailLines",
            self.tail_lines.map(|s| s.to_string()).as_deref(),
        );
        if self.timestamps {
            q.push("timestamps", "true");
        }
        q.opt(
            "limitBytes",
            self.limit_bytes.map(|s| s.to_string()).as_deref(),
        );
    }
}

/// A patch, by type. The body is JSON for all four (an apply patch may be YAML; JSON is YAML).
#[derive(Clone, Debug, PartialEq)]
pub enum Patch<P: Serialize> {
    /// Server-side apply (`application/apply-patch+yaml`): the fields this manager wants,
    /// as a whole object with `apiVersion` and `kind`.
    Apply(P),
    /// RFC 6902 JSON patch (`application/json-patch+json`): an array of operations
    /// (`[{"op": "replace", "path": "/spec/replicas", "value": 3}]`).
    Json(serde_json::Value),
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`): lists are replaced whole,
    /// `null` deletes.
    Merge(P),
    /// Strategic merge patch (`application/strategic-merge-patch+json`): lists merge by their
    /// patch merge key (containers by `name`, ...). Built-in kinds only.
    Strategic(P),
}

impl<P: Serialize> Patch<P> {
    /// The `Content-Type` of the patch.
    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Apply(_) => "application/apply-patch+yaml",
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
        }
    }

    /// The body.
    ///
    /// # Errors
    /// The patch does not serialize to JSON.
    pub fn to_body(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Patch::Apply(p) | Patch::Merge(p) | Patch::Strategic(p) => serde_json::to_vec(p),
            Patch::Json(ops) => serde_json::to_vec(ops),
        }
    }
}

/// A query string, encoded as Go's `url.Values.Encode` encodes it (what client-go sends): keys
/// sorted, values in the order added, `application/x-www-form-urlencoded` escaping.
#[derive(Clone, Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    pub(crate) fn push(&mut self, key: &'static str, value: &str) {
        self.pairs.push((key, value.to_owned()));
    }

    pub(crate) fn opt(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.push(key, v);
        }
    }

    /// `?k=v&...`, or the empty string.
    pub(crate) fn encode(&self) -> String {
        let mut pairs: Vec<&(&str, String)> = self.pairs.iter().collect();
        pairs.sort_by_key(|(k, _)| *k);
        let mut out = String::new();
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            escape_query(&mut out, k);
            out.push('=');
            escape_query(&mut out, v);
        }
        out
    }
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` stay, space becomes `+`, every other byte
/// is `%XX`.
fn escape_query(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// Go's `url.PathEscape` for one path segment: `/`, `;`, `,`, `?`, `%` and every byte outside
/// the unreserved and sub-delimiter set are `%XX`.
pub(crate) fn escape_path_segment(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b'&'
            | b'+'
            | b'='
            | b':'
            | b'@'
            | b'!'
            | b'\''
            | b'('
            | b')'
            | b'*' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(f: impl FnOnce(&mut Query)) -> String {
        let mut q = Query::default();
        f(&mut q);
        q.encode()
    }

    #[test]
    fn list_params_encode_sorted_and_escaped_like_client_go() {
        let lp = ListParams::default()
            .labels("app in (a,b),!canary")
            .fields("metadata.name=web")
            .limit(500)
            .at("0", Some(VersionMatch::NotOlderThan));
        assert_eq!(
            query(|q| lp.write_query(q)),
            "?fieldSelector=metadata.name%3Dweb&labelSelector=app+in+%28a%2Cb%29%2C%21canary\
             &limit=500&resourceVersion=0&resourceVersionMatch=NotOlderThan"
        );
        assert_eq!(query(|q| ListParams::default().write_query(q)), "");
        let page = ListParams::default()
            .limit(2)
            .continue_token("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==");
        assert_eq!(
            query(|q| page.write_query(q)),
            "?continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ%3D%3D&limit=2"
        );
    }

    #[test]
    fn watch_params_encode_like_the_reflector() {
        let wp = WatchParams::default()
            .fields("metadata.name=web")
            .timeout(599);
        assert_eq!(
            query(|q| wp.write_query(q, "115")),
            "?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dweb&resourceVersion=115\
             &timeoutSeconds=599&watch=true"
        );
        let wp = WatchParams::default().disable_bookmarks();
        assert_eq!(query(|q| wp.write_query(q, "")), "?watch=true");
        let wp = WatchParams::default().streaming_lists();
        assert_eq!(
            query(|q| wp.write_query(q, "")),
            "?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=true"
        );
    }

    #[test]
    fn post_and_patch_params_encode() {
        let pp = PostParams {
            dry_run: true,
            field_manager: Some("kubectl-create".into()),
            field_validation: Some(ValidationDirective::Strict),
        };
        assert_eq!(
            query(|q| pp.write_query(q)),
            "?dryRun=All&fieldManager=kubectl-create&fieldValidation=Strict"
        );
        let pp = PatchParams::apply("kubectl").force();
        assert_eq!(
            query(|q| pp.write_query(q)),
            "?fieldManager=kubectl&force=true"
        );
    }

    #[test]
    fn delete_params_become_delete_options() {
        let dp = DeleteParams {
            dry_run: true,
            grace_period_seconds: Some(0),
            propagation_policy: Some(PropagationPolicy::Foreground),
            preconditions: Some(Preconditions {
                uid: Some("u1".into()),
                resource_version: Some("7".into()),
            }),
        };
        assert_eq!(
            serde_json::to_value(dp.to_delete_options()).unwrap(),
            json!({
                "apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"],
                "gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
                "preconditions": {"uid": "u1", "resourceVersion": "7"}
            })
        );
        assert_eq!(
            serde_json::to_value(DeleteParams::default().to_delete_options()).unwrap(),
            json!({"apiVersion": "v1", "kind": "DeleteOptions"})
        );
    }

    #[test]
    fn patches_carry_their_content_types() {
        let p: Patch<serde_json::Value> = Patch::Json(json!([{"op": "remove", "path": "/a"}]));
        assert_eq!(p.content_type(), "application/json-patch+json");
        assert_eq!(p.to_body().unwrap(), br#"[{"op":"remove","path":"/a"}]"#);
        assert_eq!(
            Patch::Merge(json!({})).content_type(),
            "application/merge-patch+json"
        );
        assert_eq!(
            Patch::Strategic(json!({})).content_type(),
            "application/strategic-merge-patch+json"
        );
        assert_eq!(
            Patch::Apply(json!({})).content_type(),
            "application/apply-patch+yaml"
        );
    }

    #[test]
    fn path_segments_escape_like_go() {
        let mut s = String::new();
        escape_path_segment(&mut s, "system:controller:a/b c;d,e?f%");
        assert_eq!(s, "system:controller:a%2Fb%20c%3Bd%2Ce%3Ff%25");
    }
}
