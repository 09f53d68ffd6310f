//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints verbatim.
//!
//! Every kind of the built-in scheme gets upstream's columns (`pkg/printers/internalversion`,
//! Kubernetes v1.32: names, types, formats, descriptions, priorities) and cells computed by
//! upstream's rules, so `kubectl get` output against kubernaut is the output a real cluster
//! gives. As upstream's API server does, the printers always produce the wide form: the
//! `priority: 1` columns are in every table, and kubectl shows them only with `-o wide`. Kinds
//! upstream has no printer for get its default columns `Name` and `Created At`, and a `Status`
//! (the ERROR event of a table watch) gets `Status`, `Reason` and `Message`.
//!
//! A printer reads the object as the API server holds it, JSON. It decodes it into its typed
//! kind and applies upstream's defaults first, as upstream's storage decoder does, so an object
//! written before a default existed prints the way it would on a real cluster. An object that
//! does not decode (which the API server never stores) still gets a row: its name, its age, and
//! `<unknown>` in every other cell.
//!
//! ```
//! use kubernaut_api_types::Time;
//! use kubernaut_apiserver::table;
//!
//! let pod = serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod",
//!     "metadata": {"name": "web", "creationTimestamp": "2024-05-01T10:00:00Z"},
//!     "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
//!     "status": {"phase": "Running", "containerStatuses": [{
//!         "name": "nginx", "image": "nginx", "imageID": "", "ready": true, "restartCount": 0,
//!         "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}}}]},
//! });
//! let printer = table::printer_for("", "Pod");
//! let now = Time::parse("2024-05-01T10:05:30Z").unwrap();
//! let table = table::table(printer, [(&pod, None)], now);
//! let headers: Vec<_> = table.column_definitions.iter().map(|c| c.name.as_str()).collect();
//! assert_eq!(headers[..5], ["Name", "Ready", "Status", "Restarts", "Age"]);
//! assert_eq!(table.rows[0].cells[..5], ["web", "1/1", "Running", "0", "5m30s"]);
//! ```

mod apps;
mod batch;
mod cluster;
mod core;
mod descriptions;
mod duration;
mod networking;

use kubernaut_api_types::SortedMap;
use std::sync::OnceLock;

use kubernaut_api_types::core::v1::Container;
use kubernaut_api_types::defaults::SetDefaults;
use kubernaut_api_types::meta::{
    ListMeta, ObjectMeta, RawExtension, Table, TableColumnDefinition, TableRow, TableRowCondition,
};
use kubernaut_api_types::{MicroTime, Time};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use duration::{human_duration, short_human_duration};

use descriptions::{META_CREATION_TIMESTAMP, META_NAME};

/// The columns of one kind and how to fill them from an object of that kind.
///
/// Implementations are stateless and shared (`&'static`); [`printer_for`] picks one.
pub trait Printer: Send + Sync {
    /// The column definitions, wide (`priority: 1`) columns included.
    fn columns(&self) -> &[TableColumnDefinition];

    /// One cell per column for `object` (the object's JSON), ages measured against `now`.
    ///
    /// Cells are JSON strings, integers or booleans, as upstream's are. Never panics: an
    /// object that does not decode as the printer's kind gets its name and age and
    /// `<unknown>` in the other cells.
    fn cells(&self, object: &Value, now: Time) -> Vec<Value>;

    /// The row conditions for `object`: a finished pod's `Completed` condition, which kubectl
    /// uses to tell finished rows apart. `None` for every other kind.
    fn conditions(&self, object: &Value) -> Option<Vec<TableRowCondition>> {
        let _ = object;
        None
    }
}

/// The printer for a kind, by API group (empty for the core group) and kind; any version of
/// the group prints alike, as upstream's printers work on the internal version.
///
/// A kind without a printer of its own (`Role`, `LimitRange`, custom resources, ...) gets the
/// default columns `Name` and `Created At`. `printer_for("", "Status")` is the printer of the
/// `Status` object that a table watch sends as its ERROR event.
pub fn printer_for(group: &str, kind: &str) -> &'static dyn Printer {
    match (group, kind) {
        ("", "Pod") => &core::POD,
        ("", "PodTemplate") => &core::POD_TEMPLATE,
        ("", "Service") => &core::SERVICE,
        ("", "Endpoints") => &core::ENDPOINTS,
        ("", "Node") => &core::NODE,
        ("", "Event") => &core::EVENT,
        ("events.k8s.io", "Event") => &core::EVENTS_V1_EVENT,
        ("", "Namespace") => &core::NAMESPACE,
        ("", "Secret") => &core::SECRET,
        ("", "ConfigMap") => &core::CONFIG_MAP,
        ("", "ServiceAccount") => &core::SERVICE_ACCOUNT,
        ("", "PersistentVolume") => &core::PERSISTENT_VOLUME,
        ("", "PersistentVolumeClaim") => &core::PERSISTENT_VOLUME_CLAIM,
        ("", "ResourceQuota") => &core::RESOURCE_QUOTA,
        ("", "Status") => &STATUS,
        ("apps", "Deployment") => &apps::DEPLOYMENT,
        ("apps", "ReplicaSet") => &apps::REPLICA_SET,
        ("apps", "DaemonSet") => &apps::DAEMON_SET,
        ("apps", "StatefulSet") => &apps::STATEFUL_SET,
        ("apps", "ControllerRevision") => &apps::CONTROLLER_REVISION,
        ("batch", "Job") => &batch::JOB,
        ("batch", "CronJob") => &batch::CRON_JOB,
        ("networking.k8s.io", "Ingress") => &networking::INGRESS,
        ("networking.k8s.io", "IngressClass") => &networking::INGRESS_CLASS,
        ("discovery.k8s.io", "EndpointSlice") => &networking::ENDPOINT_SLICE,
        ("coordination.k8s.io", "Lease") => &cluster::LEASE,
        ("storage.k8s.io", "StorageClass") => &cluster::STORAGE_CLASS,
        ("scheduling.k8s.io", "PriorityClass") => &cluster::PRIORITY_CLASS,
        ("policy", "PodDisruptionBudget") => &cluster::POD_DISRUPTION_BUDGET,
        ("rbac.authorization.k8s.io", "RoleBinding") => &cluster::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => &cluster::CLUSTER_ROLE_BINDING,
        ("autoscaling", "Scale") => &cluster::SCALE,
        _ => &DEFAULT,
    }
}

/// One table row for `object`: its cells and row conditions, carrying `row_object` (the
/// object itself, its `PartialObjectMetadata`, or nothing, as the request's `includeObject`
/// asks) as the row's `object`.
pub fn row(
    printer: &dyn Printer,
    object: &Value,
    row_object: Option<Value>,
    now: Time,
) -> TableRow {
    TableRow {
        cells: printer.cells(object, now),
        conditions: printer.conditions(object),
        object: row_object.map(RawExtension),
    }
}

/// A table of `objects`, each given with the row object to embed (see [`row`]), with the
/// printer's column definitions and an empty list `metadata`.
///
/// The caller fills in `metadata` (the list's `resourceVersion` and `continue`) and, for the
/// events after the first of a table watch (upstream's `NoHeaders`), clears
/// `column_definitions`.
pub fn table<'a>(
    printer: &dyn Printer,
    objects: impl IntoIterator<Item = (&'a Value, Option<Value>)>,
    now: Time,
) -> Table {
    Table {
        metadata: ListMeta::default(),
        column_definitions: printer.columns().to_vec(),
        rows: objects
            .into_iter()
            .map(|(object, row_object)| row(printer, object, row_object, now))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The machinery shared by the per-group printers.

/// A column as upstream declares it in `AddHandlers`.
#[derive(Clone, Copy, Debug)]
struct Column {
    name: &'static str,
    type_: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
}

impl Column {
    /// A column always shown.
    const fn new(name: &'static str, type_: &'static str, description: &'static str) -> Self {
        Column {
            name,
            type_,
            format: "",
            description,
            priority: 0,
        }
    }

    /// The same column shown only with `-o wide`.
    const fn wide(self) -> Self {
        Column {
            priority: 1,
            ..self
        }
    }

    /// The same column with a format hint.
    const fn format(self, format: &'static str) -> Self {
        Column { format, ..self }
    }

    fn definition(&self) -> TableColumnDefinition {
        TableColumnDefinition {
            name: self.name.to_owned(),
            type_: self.type_.to_owned(),
            format: self.format.to_owned(),
            description: self.description.to_owned(),
            priority: self.priority,
        }
    }
}

/// The `Name` column most printers start with.
const NAME: Column = Column::new("Name", "string", META_NAME).format("name");
/// The `Age` column.
const AGE: Column = Column::new("Age", "string", META_CREATION_TIMESTAMP);
/// The `Containers` column of the workload printers (wide).
const CONTAINERS: Column = Column::new(
    "Containers",
    "string",
    "Names of each container in the template.",
)
.wide();
/// The `Images` column of the workload printers (wide).
const IMAGES: Column = Column::new(
    "Images",
    "string",
    "Images referenced by each container in the template.",
)
.wide();

/// Cells from an object's JSON, `None` when the object is not of the printer's kind.
type CellsFn = fn(&Value, Time) -> Option<Vec<Value>>;
/// Row conditions from an object's JSON.
type ConditionsFn = fn(&Value) -> Option<Vec<TableRowCondition>>;

/// The row conditions of every kind but pods: none.
fn no_conditions(_: &Value) -> Option<Vec<TableRowCondition>> {
    None
}

/// A [`Printer`] from a static column list and a cell function.
struct KindPrinter {
    spec: &'static [Column],
    definitions: OnceLock<Vec<TableColumnDefinition>>,
    cells: CellsFn,
    conditions: ConditionsFn,
}

impl KindPrinter {
    /// A printer whose rows carry no conditions.
    const fn new(spec: &'static [Column], cells: CellsFn) -> Self {
        Self::with_conditions(spec, cells, no_conditions)
    }

    /// A printer whose rows carry conditions.
    const fn with_conditions(
        spec: &'static [Column],
        cells: CellsFn,
        conditions: ConditionsFn,
    ) -> Self {
        KindPrinter {
            spec,
            definitions: OnceLock::new(),
            cells,
            conditions,
        }
    }
}

impl Printer for KindPrinter {
    fn columns(&self) -> &[TableColumnDefinition] {
        self.definitions
            .get_or_init(|| self.spec.iter().map(Column::definition).collect())
    }

    fn cells(&self, object: &Value, now: Time) -> Vec<Value> {
        (self.cells)(object, now).unwrap_or_else(|| fallback_cells(self.spec, object, now))
    }

    fn conditions(&self, object: &Value) -> Option<Vec<TableRowCondition>> {
        (self.conditions)(object)
    }
}

/// The cells of an object that does not decode: its name and age where the columns have them,
/// `<unknown>` elsewhere.
fn fallback_cells(spec: &[Column], object: &Value, now: Time) -> Vec<Value> {
    spec.iter()
        .map(|column| match column.name {
            "Name" => text(json_name(object)),
            "Age" => text(since(json_creation_timestamp(object).as_ref(), now)),
            _ => text("<unknown>"),
        })
        .collect()
}

/// The object decoded into its typed kind, with upstream's defaults applied as the storage
/// decoder applies them.
fn decode<K: DeserializeOwned + SetDefaults>(object: &Value) -> Option<K> {
    let mut typed = K::deserialize(object).ok()?;
    typed.set_defaults();
    Some(typed)
}

/// `metadata.name` read straight from JSON (empty when absent).
fn json_name(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.creationTimestamp` read straight from JSON (`None` when absent or malformed).
fn json_creation_timestamp(object: &Value) -> Option<Time> {
    object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|s| Time::parse(s).ok())
}

/// A string cell.
fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// An integer cell (upstream's `int64`).
fn int(i: impl Into<i64>) -> Value {
    Value::from(i.into())
}

/// The object's name (empty when unset).
fn name(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// Upstream's `translateTimestampSince`: the age of `t` at `now` as [`human_duration`], or
/// `<unknown>` for an unset timestamp.
fn since(t: Option<&Time>, now: Time) -> String {
    match t {
        Some(t) if !t.is_zero() => human_duration(duration::go_sub(now.0, t.0)),
        _ => "<unknown>".to_owned(),
    }
}

/// Upstream's `translateMicroTimestampSince`: [`since`] for a `MicroTime`.
fn since_micro(t: Option<&MicroTime>, now: Time) -> String {
    match t {
        Some(t) if !t.is_zero() => human_duration(duration::go_sub(now.0, t.0)),
        _ => "<unknown>".to_owned(),
    }
}

/// The age column of an object.
fn age(meta: &ObjectMeta, now: Time) -> Value {
    text(since(meta.creation_timestamp.as_ref(), now))
}

/// Upstream's `labels.FormatLabels`: `key=value` pairs sorted as strings and joined by
/// commas, `<none>` for no labels.
fn format_labels(labels: Option<&SortedMap<String, String>>) -> String {
    let mut pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if pairs.is_empty() {
        return "<none>".to_owned();
    }
    pairs.sort();
    pairs.join(",")
}

/// Upstream's `layoutContainerCells`: the containers' names and images, comma-separated.
fn containers_and_images(containers: &[Container]) -> [Value; 2] {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    [text(names.join(",")), text(images.join(","))]
}

// ---------------------------------------------------------------------------------------------
// Printers that apply to any kind.

/// Upstream's default table convertor (`rest.defaultTableConvertor`), for kinds without a
/// printer: the name and the creation time in RFC 3339.
static DEFAULT: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Created At", "date", META_CREATION_TIMESTAMP),
    ],
    |object, _| {
        let created = json_creation_timestamp(object).unwrap_or_default();
        Some(vec![
            text(json_name(object)),
            text(created.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ])
    },
);

/// The `Status` printer: how a failure inside a table watch is shown. Upstream takes the
/// `Message` description from the documentation key `Message`, which does not exist (the field
/// is `message`), so that description is empty.
static STATUS: KindPrinter = KindPrinter::new(
    &[
        Column::new("Status", "string", descriptions::STATUS_STATUS),
        Column::new("Reason", "string", descriptions::STATUS_REASON),
        Column::new("Message", "string", ""),
    ],
    |object, _| {
        let field = |name: &str| text(object.get(name).and_then(Value::as_str).unwrap_or(""));
        Some(vec![field("status"), field("reason"), field("message")])
    },
);

#[cfg(test)]
mod tests;
