#!/usr/bin/env python3
"""Generates the Kubernetes object model of kubernaut-api-types from the upstream API definition.

Input: `spec-v1.32.json` beside this script, the structure of the Kubernetes v1.32 API
(definitions, properties, types, required fields, list/map types and strategic-merge metadata),
trimmed to the definitions kubernaut models and stripped of prose. `fetch` rebuilds it from the
JSON-Schema rendering of the upstream OpenAPI document published on PyPI as `kubernetes-validate`.

Output: one Rust module per API group/version under `src/` (marked @generated). Hand-written code
(quantities, times, selectors, validation, defaulting) lives beside it and is never overwritten.

Usage:
    generate.py fetch     rebuild spec-v1.32.json from PyPI (needs pip and the network)
    generate.py           regenerate the Rust modules from spec-v1.32.json
    generate.py --check   exit 1 if the committed Rust modules differ from what would be generated
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
SPEC = os.path.join(HERE, "spec-v1.32.json")
UPSTREAM_WHEEL = "kubernetes-validate==1.37.0"
UPSTREAM_PATH = "kubernetes_validate/kubernetes-json-schema/v1.32.0-local/_definitions.json"

# ---------------------------------------------------------------------------------------------
# What kubernaut models. Each resource: (definition, plural, short names, categories, namespaced).
# Plurals, short names and categories are those the upstream API server publishes in discovery.
# ---------------------------------------------------------------------------------------------
RESOURCES = [
    ("io.k8s.api.core.v1.Namespace", "namespaces", ["ns"], [], False),
    ("io.k8s.api.core.v1.Pod", "pods", ["po"], ["all"], True),
    ("io.k8s.api.core.v1.Service", "services", ["svc"], ["all"], True),
    ("io.k8s.api.core.v1.Endpoints", "endpoints", ["ep"], [], True),
    ("io.k8s.api.core.v1.ConfigMap", "configmaps", ["cm"], [], True),
    ("io.k8s.api.core.v1.Secret", "secrets", [], [], True),
    ("io.k8s.api.core.v1.Node", "nodes", ["no"], [], False),
    ("io.k8s.api.core.v1.ServiceAccount", "serviceaccounts", ["sa"], [], True),
    ("io.k8s.api.core.v1.Event", "events", ["ev"], [], True),
    ("io.k8s.api.core.v1.LimitRange", "limitranges", ["limits"], [], True),
    ("io.k8s.api.core.v1.ResourceQuota", "resourcequotas", ["quota"], [], True),
    ("io.k8s.api.core.v1.PersistentVolumeClaim", "persistentvolumeclaims", ["pvc"], [], True),
    ("io.k8s.api.core.v1.PersistentVolume", "persistentvolumes", ["pv"], [], False),
    ("io.k8s.api.core.v1.PodTemplate", "podtemplates", [], [], True),
    ("io.k8s.api.core.v1.Binding", "bindings", [], [], True),
    ("io.k8s.api.apps.v1.Deployment", "deployments", ["deploy"], ["all"], True),
    ("io.k8s.api.apps.v1.ReplicaSet", "replicasets", ["rs"], ["all"], True),
    ("io.k8s.api.apps.v1.DaemonSet", "daemonsets", ["ds"], ["all"], True),
    ("io.k8s.api.apps.v1.StatefulSet", "statefulsets", ["sts"], ["all"], True),
    ("io.k8s.api.apps.v1.ControllerRevision", "controllerrevisions", [], [], True),
    ("io.k8s.api.batch.v1.Job", "jobs", [], ["all"], True),
    ("io.k8s.api.batch.v1.CronJob", "cronjobs", ["cj"], ["all"], True),
    ("io.k8s.api.networking.v1.Ingress", "ingresses", ["ing"], [], True),
    ("io.k8s.api.networking.v1.IngressClass", "ingressclasses", [], [], False),
    ("io.k8s.api.discovery.v1.EndpointSlice", "endpointslices", [], [], True),
    ("io.k8s.api.coordination.v1.Lease", "leases", [], [], True),
    ("io.k8s.api.storage.v1.StorageClass", "storageclasses", ["sc"], [], False),
    ("io.k8s.api.scheduling.v1.PriorityClass", "priorityclasses", ["pc"], [], False),
    ("io.k8s.api.policy.v1.PodDisruptionBudget", "poddisruptionbudgets", ["pdb"], [], True),
    ("io.k8s.api.policy.v1.Eviction", "evictions", [], [], True),
    ("io.k8s.api.events.v1.Event", "events", ["ev"], [], True),
    ("io.k8s.api.rbac.v1.Role", "roles", [], [], True),
    ("io.k8s.api.rbac.v1.ClusterRole", "clusterroles", [], [], False),
    ("io.k8s.api.rbac.v1.RoleBinding", "rolebindings", [], [], True),
    ("io.k8s.api.rbac.v1.ClusterRoleBinding", "clusterrolebindings", [], [], False),
    ("io.k8s.api.autoscaling.v1.Scale", "scale", [], [], True),
]

# Types with apiVersion/kind that are not resources: their kind is fixed, their apiVersion is any
# of the listed ones on input (clients send DeleteOptions as v1 or meta.k8s.io/v1).
TYPED_NON_RESOURCES = {
    # definition: (apiVersion written, kind, extra apiVersions accepted beside those of the
    # definition's x-kubernetes-group-version-kind list)
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status": ("v1", "Status", ["meta.k8s.io/v1"]),
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": ("v1", "DeleteOptions", ["meta.k8s.io/v1"]),
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup": ("v1", "APIGroup", []),
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList": ("v1", "APIGroupList", []),
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList": ("v1", "APIResourceList", []),
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions": ("v1", "APIVersions", []),
}

# Extra roots: definitions generated without being resources themselves.
EXTRA_ROOTS = list(TYPED_NON_RESOURCES) + [
    "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
]

# Fields upstream lists as required whose Go type is a pointer: absent and empty differ on the
# wire (`selector: {}` is an error of its own), so they stay `Option` despite being required.
REQUIRED_POINTERS = {
    ("io.k8s.api.apps.v1.DaemonSetSpec", "selector"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "selector"),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", "selector"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "selector"),
    ("io.k8s.api.core.v1.ScaleIOPersistentVolumeSource", "secretRef"),
    ("io.k8s.api.core.v1.ScaleIOVolumeSource", "secretRef"),
    ("io.k8s.api.networking.v1.HTTPIngressPath", "pathType"),
}

# Optional struct-typed fields are boxed (`Option<Box<T>>`): most of them are absent in most
# objects, and an absent one then takes 8 bytes instead of the struct's full inline size (a
# Container's probes, lifecycle and security context alone are over 1 KB inline). These fields
# are present in practically every object, so boxing them would only add an allocation.
UNBOXED_FIELDS = {"spec", "status", "template", "metadata"}

# Definitions implemented by hand in the crate (their Rust path).
HAND_WRITTEN = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "crate::Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "crate::IntOrString",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "crate::Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "crate::MicroTime",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "crate::meta::FieldsV1",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "crate::meta::RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent": None,
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": None,
}

# Definition prefix -> (Rust module path, group, version, file under src/).
MODULES = [
    ("io.k8s.apimachinery.pkg.apis.meta.v1.", "meta", "meta.k8s.io", "v1", "meta/generated.rs"),
    ("io.k8s.api.core.v1.", "core::v1", "", "v1", "core/v1.rs"),
    ("io.k8s.api.apps.v1.", "apps::v1", "apps", "v1", "apps/v1.rs"),
    ("io.k8s.api.batch.v1.", "batch::v1", "batch", "v1", "batch/v1.rs"),
    ("io.k8s.api.networking.v1.", "networking::v1", "networking.k8s.io", "v1", "networking/v1.rs"),
    ("io.k8s.api.discovery.v1.", "discovery::v1", "discovery.k8s.io", "v1", "discovery/v1.rs"),
    ("io.k8s.api.coordination.v1.", "coordination::v1", "coordination.k8s.io", "v1",
     "coordination/v1.rs"),
    ("io.k8s.api.storage.v1.", "storage::v1", "storage.k8s.io", "v1", "storage/v1.rs"),
    ("io.k8s.api.scheduling.v1.", "scheduling::v1", "scheduling.k8s.io", "v1", "scheduling/v1.rs"),
    ("io.k8s.api.policy.v1.", "policy::v1", "policy", "v1", "policy/v1.rs"),
    ("io.k8s.api.events.v1.", "events::v1", "events.k8s.io", "v1", "events/v1.rs"),
    ("io.k8s.api.rbac.v1.", "rbac::v1", "rbac.authorization.k8s.io", "v1", "rbac/v1.rs"),
    ("io.k8s.api.autoscaling.v1.", "autoscaling::v1", "autoscaling", "v1", "autoscaling/v1.rs"),
]

GROUP_DOCS = {
    "core::v1": "The core API group (`v1`): pods, services, namespaces, nodes, configuration and storage claims.",
    "apps::v1": "The `apps/v1` API group: workload controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet).",
    "batch::v1": "The `batch/v1` API group: run-to-completion workloads (Job, CronJob).",
    "networking::v1": "The `networking.k8s.io/v1` API group: Ingress and IngressClass.",
    "discovery::v1": "The `discovery.k8s.io/v1` API group: EndpointSlice.",
    "coordination::v1": "The `coordination.k8s.io/v1` API group: Lease, used for leader election and node heartbeats.",
    "storage::v1": "The `storage.k8s.io/v1` API group: StorageClass.",
    "scheduling::v1": "The `scheduling.k8s.io/v1` API group: PriorityClass.",
    "policy::v1": "The `policy/v1` API group: PodDisruptionBudget and Eviction.",
    "events::v1": "The `events.k8s.io/v1` API group: the structured Event.",
    "rbac::v1": "The `rbac.authorization.k8s.io/v1` API group: roles and their bindings.",
    "autoscaling::v1": "The `autoscaling/v1` API group, as far as the `scale` subresource needs it.",
    "meta": "Object metadata and the meta.k8s.io/v1 types shared by every API group.",
}

# One-line descriptions, in our own words, of the types a reader meets first. Every other type
# gets a structural description.
TYPE_DOCS = {
    "Pod": "A group of containers scheduled together onto one node, sharing network and volumes.",
    "PodSpec": "The desired state of a [`Pod`]: its containers, volumes and scheduling constraints.",
    "PodStatus": "The observed state of a [`Pod`], written by the kubelet.",
    "Container": "One container of a pod: image, command, ports, environment, resources and probes.",
    "Service": "A stable virtual IP and DNS name in front of a set of pods chosen by label.",
    "ServiceSpec": "The desired state of a [`Service`]: selector, ports and type.",
    "Namespace": "A scope for names; most resources live in exactly one namespace.",
    "Node": "A machine that runs pods; registered and kept up to date by its kubelet.",
    "ConfigMap": "Non-secret configuration data, as strings or bytes, for pods to consume.",
    "Secret": "Confidential data (credentials, keys, tokens) for pods to consume.",
    "Deployment": "Declarative rolling updates of a replicated pod template, through ReplicaSets.",
    "DeploymentSpec": "The desired state of a [`Deployment`].",
    "ReplicaSet": "Keeps a given number of pods matching a selector running.",
    "StatefulSet": "Pods with stable identities and per-pod storage, created and updated in order.",
    "DaemonSet": "Runs one copy of a pod on every (selected) node.",
    "Job": "Runs pods until a given number of them complete successfully.",
    "CronJob": "Creates Jobs on a schedule written in cron syntax.",
    "ObjectMeta": "Metadata every persisted object carries: name, namespace, labels, annotations, owners, finalizers and server-set bookkeeping.",
    "ListMeta": "Metadata of a list response: its resource version and the continue token.",
    "OwnerReference": "Points from a dependent object to its owner, for garbage collection and controllers.",
    "LabelSelector": "Selects objects by label: equality (`matchLabels`) and set-based (`matchExpressions`) requirements, ANDed.",
    "Status": "The result of an operation that does not return an object, and the body of every API error.",
    "DeleteOptions": "Options of a delete request: grace period, preconditions and propagation policy.",
    "Condition": "The standard shape of one status condition.",
    "Ingress": "HTTP routing rules from hosts and paths to services.",
    "EndpointSlice": "A slice of the network endpoints behind a service.",
    "Endpoints": "The addresses and ports behind a service (the original, unsliced form).",
    "Lease": "A lock with a holder and a renew time, for leader election and heartbeats.",
    "Event": "A report of something that happened to an object.",
    "Scale": "The `scale` subresource: desired and observed replicas and the selector as a string.",
}

PRIMITIVES = {
    ("string", None): "String",
    ("string", "byte"): "crate::ByteString",
    ("string", "date-time"): "crate::Time",
    ("integer", "int32"): "i32",
    ("integer", "int64"): "i64",
    ("integer", None): "i64",
    ("number", "double"): "f64",
    ("number", None): "f64",
    ("boolean", None): "bool",
}

RUST_KEYWORDS = {"type", "continue", "ref", "enum", "match", "static", "default", "override",
                 "use", "where", "loop", "async", "await", "dyn", "move", "mod", "crate", "self",
                 "super", "trait", "impl", "fn", "let", "as", "break", "const", "else", "extern",
                 "false", "true", "for", "if", "in", "mut", "pub", "return", "struct", "unsafe",
                 "while", "box", "final", "macro", "priv", "typeof", "unsized", "virtual", "yield",
                 "try", "abstract", "become", "do", "gen"}


def die(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# fetch: build the trimmed structural spec from the upstream JSON Schema rendering.
# ---------------------------------------------------------------------------------------------
def closure(defs, roots):
    seen = []
    seen_set = set()

    def visit(name):
        if name in seen_set:
            return
        seen_set.add(name)
        seen.append(name)
        walk(defs[name])

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$ref":
                    visit(v.split("/")[-1])
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for r in roots:
        visit(r)
    return sorted(seen)


def strip(x):
    """Drops prose, keeps structure."""
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k != "description"}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def fetch():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                        UPSTREAM_WHEEL], check=True)
        wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            defs = json.loads(z.read(UPSTREAM_PATH))["$defs"]
    roots = [r[0] for r in RESOURCES] + EXTRA_ROOTS
    names = closure(defs, roots)
    out = {
        "source": f"{UPSTREAM_WHEEL} {UPSTREAM_PATH} (descriptions removed)",
        "kubernetes": "v1.32.0",
        "definitions": {n: strip(defs[n]) for n in names},
    }
    with open(SPEC, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {SPEC}: {len(names)} definitions")


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------
def module_of(defname):
    for prefix, path, group, version, file in MODULES:
        if defname.startswith(prefix) and "." not in defname[len(prefix):]:
            return path, group, version, file
    return None


def short(defname):
    return defname.rsplit(".", 1)[1]


def snake(name):
    # Acronym plurals (`podIPs`, `clusterIPs`, `CIDRs`) and words like `IPv4` stay one word.
    name = re.sub(r"([A-Z]+)s(?=[A-Z]|$)", lambda m: m.group(1).capitalize() + "s", name)
    name = name.replace("IPv4", "Ipv4").replace("IPv6", "Ipv6")
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    if s in RUST_KEYWORDS:
        s += "_"
    return s


class Gen:
    def __init__(self, spec):
        self.defs = spec["definitions"]
        self.resources = {r[0]: r for r in RESOURCES}

    def rust_path(self, defname, from_module):
        if defname in HAND_WRITTEN:
            p = HAND_WRITTEN[defname]
            if p is None:
                die(f"{defname} is hand-written and has no Rust path")
            return p
        m = module_of(defname)
        if m is None:
            die(f"no module for {defname}")
        if m[0] == from_module:
            return short(defname)
        return f"crate::{m[0]}::{short(defname)}"

    def base_type(self, prop, module):
        if "$ref" in prop:
            return self.rust_path(prop["$ref"].split("/")[-1], module)
        t = prop.get("type")
        if isinstance(t, list):
            t = [x for x in t if x != "null"][0]
        if t == "array":
            return f"Vec<{self.base_type(prop['items'], module)}>"
        if t == "object":
            if "additionalProperties" not in prop:
                die(f"object without properties: {prop}")
            return ("crate::SortedMap<String, "
                    f"{self.base_type(prop['additionalProperties'], module)}>")
        key = (t, prop.get("format"))
        if key not in PRIMITIVES:
            key = (t, None)
        if key not in PRIMITIVES:
            die(f"unknown primitive {prop}")
        return PRIMITIVES[key]

    def describe(self, prop, module):
        """A short structural description of a property, for its doc comment."""
        if "$ref" in prop:
            ref = prop["$ref"].split("/")[-1]
            name = short(ref)
            if ref in HAND_WRITTEN:
                path = HAND_WRITTEN[ref]
                return f"[`{name}`]({path})" if path else f"`{name}`"
            target = self.rust_path(ref, module)
            return f"[`{name}`]" if target == name else f"[`{name}`]({target})"
        t = prop.get("type")
        if isinstance(t, list):
            t = [x for x in t if x != "null"][0]
        if t == "array":
            return f"list of {self.describe(prop['items'], module)}"
        if t == "object":
            return f"map from string to {self.describe(prop['additionalProperties'], module)}"
        fmt = prop.get("format")
        if fmt == "byte":
            return "base64-encoded bytes"
        return {"string": "string", "integer": f"integer ({fmt or 'int64'})",
                "number": "number", "boolean": "boolean"}[t]

    def field_doc(self, jname, prop, required, module):
        parts = [f"`{jname}`: {self.describe(prop, module)}."]
        if required:
            parts.append("Required.")
        lt = prop.get("x-kubernetes-list-type")
        strategy = prop.get("x-kubernetes-patch-strategy")
        key = prop.get("x-kubernetes-patch-merge-key")
        if strategy and key:
            parts.append(f"Strategic merge patches merge entries by `{key}` ({strategy}).")
        elif strategy:
            parts.append(f"Strategic merge patch strategy: {strategy}.")
        if lt == "map":
            keys = ", ".join(f"`{k}`" for k in prop.get("x-kubernetes-list-map-keys", []))
            parts.append(f"A list map keyed by {keys}.")
        elif lt == "set":
            parts.append("A list set: entries are unique.")
        return " ".join(parts)

    def schema_extends(self, prop):
        ext = []
        for k in ["x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type",
                  "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy"]:
            if k in prop:
                ext.append(f'"{k}" = {json.dumps(prop[k])}')
        return ext

    def fields(self, defname, module):
        d = self.defs[defname]
        required = set(d.get("required", []))
        out = []
        for jname in sorted(d.get("properties", {})):
            if jname in ("apiVersion", "kind") and self.is_typed(defname):
                continue
            prop = d["properties"][jname]
            ty = self.base_type(prop, module)
            # Object metadata is never absent: an empty one stands for "none given".
            always = jname == "metadata" and ty in ("crate::meta::ObjectMeta", "ObjectMeta",
                                                    "crate::meta::ListMeta", "ListMeta")
            req = (jname in required and (defname, jname) not in REQUIRED_POINTERS) or always
            out.append({
                "boxed": not req and jname not in UNBOXED_FIELDS and self.is_struct_ref(prop),
                "json": jname,
                "rust": snake(jname),
                "ty": ty,
                "required": req,
                "upstream_required": jname in required,
                "doc": self.field_doc(jname, prop, jname in required, module),
                "ext": self.schema_extends(prop),
            })
        return out

    def is_struct_ref(self, prop):
        """Whether `prop` refers to a generated struct (not a hand-written scalar type)."""
        if "$ref" not in prop:
            return False
        ref = prop["$ref"].split("/")[-1]
        return ref not in HAND_WRITTEN and "properties" in self.defs[ref]

    def is_typed(self, defname):
        return defname in self.resources or defname in TYPED_NON_RESOURCES

    def gvk(self, defname):
        g = self.defs[defname].get("x-kubernetes-group-version-kind")
        if not g:
            die(f"{defname} has no group-version-kind")
        return g[0]

    def type_doc(self, defname, module):
        name = short(defname)
        if name in TYPE_DOCS:
            return TYPE_DOCS[name]
        if self.is_typed(defname):
            g = self.gvk(defname)
            av = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
            return f"The `{av}` `{name}` object."
        return f"The `{name}` type of `{module.replace('::', '/')}`."

    def emit_struct(self, defname, module):
        name = short(defname)
        d = self.defs[defname]
        fields = self.fields(defname, module)
        typed = self.is_typed(defname)
        lines = []
        lines.append(f"/// {self.type_doc(defname, module)}")
        lines.append("///")
        lines.append(f"/// Upstream definition: `{defname}`.")
        lines.append("#[derive(Clone, Debug, Default, PartialEq)]")
        if not typed:
            lines.append("#[derive(serde::Serialize, serde::Deserialize)]")
        lines.append('#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]')
        sattrs = []
        if typed:
            gvks = self.defs[defname]["x-kubernetes-group-version-kind"]
            sattrs.append('extend("x-kubernetes-group-version-kind" = %s)' % json.dumps(gvks))
            sattrs.append("transform = crate::schema::add_type_meta")
        # Required-ness and defaults follow upstream, not serde's defaulting: `tidy` drops the
        # default values schemars records and an empty `required`.
        req = [f["json"] for f in fields if f["upstream_required"]]
        sattrs.append('extend("required" = %s)' % json.dumps(req))
        for k in ["x-kubernetes-map-type", "x-kubernetes-unions"]:
            if k in d:
                sattrs.append(f'extend("{k}" = {json.dumps(d[k])})')
        sattrs.append("transform = crate::schema::tidy")
        lines.append(f'#[cfg_attr(feature = "schemars", schemars({", ".join(sattrs)}))]')
        lines.append(f"pub struct {name} {{")
        for f in fields:
            lines.append(f"    /// {f['doc']}")
            if typed:
                lines.append(f'    #[cfg_attr(feature = "schemars", schemars(rename = "{f["json"]}"))]')
            elif f["required"]:
                de = "null_as_empty_list" if f["ty"].startswith("Vec<") else "null_as_default"
                lines.append(f'    #[serde(rename = "{f["json"]}", default, '
                             f'deserialize_with = "crate::serde_util::{de}")]')
            elif f["ty"].startswith("Vec<"):
                lines.append(f'    #[serde(rename = "{f["json"]}", default, '
                             'skip_serializing_if = "Option::is_none", '
                             'deserialize_with = "crate::serde_util::optional_list")]')
            else:
                lines.append(f'    #[serde(rename = "{f["json"]}", default, '
                             'skip_serializing_if = "Option::is_none")]')
            if f["ext"]:
                lines.append(f'    #[cfg_attr(feature = "schemars", schemars(extend({", ".join(f["ext"])})))]')
            if f["required"]:
                ty = f["ty"]
            elif f["boxed"]:
                ty = f"Option<Box<{f['ty']}>>"
            else:
                ty = f"Option<{f['ty']}>"
            lines.append(f"    pub {f['rust']}: {ty},")
        lines.append("}")
        out = "\n".join(lines) + "\n"
        if typed:
            out += "\n" + self.emit_typed_impls(defname, module, fields)
        return out

    def emit_typed_impls(self, defname, module, fields):
        name = short(defname)
        g = self.gvk(defname)
        api_version = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
        if defname in TYPED_NON_RESOURCES:
            api_version, kind, extra = TYPED_NON_RESOURCES[defname]
            accepted = [api_version]
            for x in self.defs[defname]["x-kubernetes-group-version-kind"]:
                av = f"{x['group']}/{x['version']}" if x["group"] else x["version"]
                if av not in accepted:
                    accepted.append(av)
            accepted += [a for a in extra if a not in accepted]
        else:
            kind = g["kind"]
            accepted = [api_version]
        field_list = ", ".join(
            f'{f["rust"]}: {"required" if f["required"] else "optional"} {f["json"]!r}'.replace("'", '"')
            for f in fields)
        out = (f"crate::typed_object_serde!({name} {{ api_version: {json.dumps(api_version)}, "
               f"kind: {json.dumps(kind)}, accepted: [{', '.join(json.dumps(a) for a in accepted)}], "
               f"fields: [{field_list}] }});\n")
        if defname in self.resources:
            _, plural, shorts, cats, namespaced = self.resources[defname]
            meta_field = "metadata" if any(f["json"] == "metadata" for f in fields) else None
            if meta_field is None:
                die(f"{defname} has no metadata")
            out += f"""
impl crate::Resource for {name} {{
    const API_VERSION: &'static str = {json.dumps(api_version)};
    const GROUP: &'static str = {json.dumps(g['group'])};
    const VERSION: &'static str = {json.dumps(g['version'])};
    const KIND: &'static str = {json.dumps(kind)};
    const PLURAL: &'static str = {json.dumps(plural)};
    const SINGULAR: &'static str = {json.dumps(kind.lower())};
    const SHORT_NAMES: &'static [&'static str] = &[{', '.join(json.dumps(s) for s in shorts)}];
    const CATEGORIES: &'static [&'static str] = &[{', '.join(json.dumps(c) for c in cats)}];
    const SCOPE: crate::Scope = crate::Scope::{'Namespaced' if namespaced else 'Cluster'};
}}

impl crate::Object for {name} {{
    fn meta(&self) -> &crate::meta::ObjectMeta {{
        &self.metadata
    }}

    fn meta_mut(&mut self) -> &mut crate::meta::ObjectMeta {{
        &mut self.metadata
    }}
}}
"""
        return out

    def generate(self):
        by_file = {}
        for defname in sorted(self.defs):
            if defname in HAND_WRITTEN:
                continue
            m = module_of(defname)
            if m is None:
                die(f"no module for {defname}")
            by_file.setdefault(m, []).append(defname)
        files = {}
        for (module, group, version, file), names in sorted(by_file.items(), key=lambda x: x[0][3]):
            body = []
            if module == "meta":
                body.append("//! Generated meta.k8s.io/v1 types; re-exported by [`crate::meta`].\n")
            else:
                body.append(f"//! {GROUP_DOCS[module]}\n")
            body.append("// @generated by crates/api-types/codegen/generate.py from spec-v1.32.json."
                        " Do not edit.\n")
            for n in names:
                body.append(self.emit_struct(n, module))
            files[file] = "\n".join(body)
        # Group modules (`src/<group>/mod.rs`).
        for module, group, version, file in [(m[1], m[2], m[3], m[4]) for m in MODULES]:
            if module == "meta" or file not in files:
                continue
            g = module.split("::")[0]
            files[f"{g}/mod.rs"] = (
                f"//! {GROUP_DOCS[module].split(':')[0]}.\n"
                "// @generated by crates/api-types/codegen/generate.py. Do not edit.\n\n"
                f"pub mod {version};\n")
        return files


def main():
    args = sys.argv[1:]
    if args[:1] == ["fetch"]:
        fetch()
        return
    check = args[:1] == ["--check"]
    with open(SPEC) as f:
        spec = json.load(f)
    files = Gen(spec).generate()
    stale = []
    for rel, content in sorted(files.items()):
        path = os.path.join(CRATE, "src", rel)
        if check:
            try:
                with open(path) as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            formatted = rustfmt(content)
            if current != formatted:
                stale.append(rel)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(rustfmt(content))
    if check:
        if stale:
            die("generated code is stale: " + ", ".join(stale) +
                " (run crates/api-types/codegen/generate.py)")
        print("generated code is up to date")
    else:
        print(f"wrote {len(files)} files")


def rustfmt(src):
    r = subprocess.run(["rustfmt", "--edition", "2024", "--emit", "stdout", "--config",
                        "max_width=100,use_field_init_shorthand=true"],
                       input=src, capture_output=True, text=True)
    if r.returncode != 0:
        die("rustfmt failed:\n" + r.stderr + "\n" + src[:2000])
    return r.stdout


if __name__ == "__main__":
    main()
