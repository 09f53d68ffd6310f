#!/usr/bin/env python3
"""Generates the wire table of the Kubernetes protobuf decoder (`src/protobuf/table.rs`).

The table says, for every message of the upstream `generated.proto` files of the API groups the
server decodes, per field number: the JSON name, what one occurrence on the wire holds (string,
bool, int32, int64, double, bytes, a message), and how the Go type behind it is serialised to JSON
(a pointer, a value with or without `omitempty`, an inlined struct, a slice, a map). Together they
let the decoder turn a protobuf body into exactly the JSON the same Go client would have sent.

Two upstream inputs, cross-checked field by field:
  * the message definitions (field numbers and protobuf types) from the `#[prost(...)]`
    attributes of the `k8s-pb` crate (the upstream `.proto` files compiled by prost; the crate
    ships no `.proto` files);
  * the JSON side (JSON names, `omitempty`, `,inline`, pointer or value, custom JSON
    marshalers) from the Go type descriptors that the reflection-based `encoding/json` needs and
    that therefore live in every Go binary: read from the kubectl v1.32 binary, whose
    `protobuf:"..."` struct tags also give each field's number and wire type a second time.
Fields that `k8s-pb` (newer than v1.32) has and v1.32 does not are left out of the table (the
decoder then skips them like any unknown field); the generated file lists them.

Usage:
    protobuf_table.py [--k8s-pb DIR] [--kubectl PATH]          regenerate src/protobuf/table.rs
    protobuf_table.py --check [--k8s-pb DIR] [--kubectl PATH]  exit 1 if it is out of date

DIR defaults to k8s-pb-0.9.0 in the cargo registry. To put it there, outside the repository:
    cargo new /tmp/k8s-pb-src && cd /tmp/k8s-pb-src && cargo add k8s-pb@0.9.0 && cargo fetch
PATH defaults to the kubectl 1.32 binary of the Google Cloud SDK's kubectl dispatcher.

Standard library only; the output is piped through `rustfmt`.
"""

import glob
import os
import re
import struct
import subprocess
import sys
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
OUTPUT = os.path.join(CRATE, "src", "protobuf", "table.rs")
K8S_PB_VERSION = "0.9.0"
DEFAULT_KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"

# (k8s-pb module directory, apiVersion of the group version or None for support packages).
PACKAGES = [
    ("api/core/v1", "v1"),
    ("api/apps/v1", "apps/v1"),
    ("api/batch/v1", "batch/v1"),
    ("api/networking/v1", "networking.k8s.io/v1"),
    ("api/discovery/v1", "discovery.k8s.io/v1"),
    ("api/coordination/v1", "coordination.k8s.io/v1"),
    ("api/storage/v1", "storage.k8s.io/v1"),
    ("api/scheduling/v1", "scheduling.k8s.io/v1"),
    ("api/policy/v1", "policy/v1"),
    ("api/events/v1", "events.k8s.io/v1"),
    ("api/rbac/v1", "rbac.authorization.k8s.io/v1"),
    ("api/autoscaling/v1", "autoscaling/v1"),
    # `kubectl create token` and `kubectl auth can-i` send these.
    ("api/authentication/v1", "authentication.k8s.io/v1"),
    ("api/authorization/v1", "authorization.k8s.io/v1"),
    ("apimachinery/pkg/apis/meta/v1", "meta.k8s.io/v1"),
    ("apimachinery/pkg/runtime", None),
    ("apimachinery/pkg/util/intstr", None),
    ("apimachinery/pkg/api/resource", None),
]
META = "k8s.io/apimachinery/pkg/apis/meta/v1"

# Upstream `metav1.AddToGroupVersion` registers these option kinds in every group version; the
# unversioned kinds live under `v1`.
OPTION_KINDS = ["CreateOptions", "DeleteOptions", "GetOptions", "ListOptions", "PatchOptions",
                "UpdateOptions"]
UNVERSIONED_KINDS = ["APIGroup", "APIGroupList", "APIResourceList", "APIVersions", "Status"]
META_KINDS = OPTION_KINDS + ["PartialObjectMetadata", "PartialObjectMetadataList"]

# Go types whose JSON form is not their field-by-field encoding: (Go package, name) -> special.
SPECIALS = {
    (META, "Time"): "Time",
    (META, "MicroTime"): "MicroTime",
    (META, "Duration"): "Duration",
    (META, "FieldsV1"): "RawJson",
    ("k8s.io/apimachinery/pkg/runtime", "RawExtension"): "RawJson",
    ("k8s.io/apimachinery/pkg/util/intstr", "IntOrString"): "IntOrString",
    ("k8s.io/apimachinery/pkg/api/resource", "Quantity"): "Quantity",
    # The envelope of every body, never rendered as JSON.
    ("k8s.io/apimachinery/pkg/runtime", "Unknown"): "Envelope",
}
# Go named slices of strings, carried by a message with one `repeated string items = 1`.
STRING_LISTS = {
    ("k8s.io/api/authentication/v1", "ExtraValue"),
    ("k8s.io/api/authorization/v1", "ExtraValue"),
    (META, "Verbs"),
}


def die(msg):
    sys.stderr.write("protobuf_table.py: " + msg + "\n")
    sys.exit(1)


def go_package(pkg_dir):
    return "k8s.io/" + pkg_dir


def proto_package(pkg_dir):
    return go_package(pkg_dir).replace("/", ".")


# ---------------------------------------------------------------------------------------------
# k8s-pb: the messages, from the prost attributes.
# ---------------------------------------------------------------------------------------------
PROST_FIELD = re.compile(
    r"#\[prost\((?P<attr>[^\]]*)\)\]\s*pub (?:r#)?(?P<name>\w+):(?P<ty>.*?)(?=\n    (?:///|#\[|pub )|\n\})",
    re.S,
)
PROST_STRUCT = re.compile(r"^pub struct (\w+) \{\n(.*?)^\}", re.S | re.M)
PROST_EMPTY_STRUCT = re.compile(r"^pub struct (\w+) \{\}", re.M)


def read_k8s_pb(root):
    """{go package: {lower-case message name: (prost name, {number: field})}}"""
    out = {}
    for pkg_dir, _ in PACKAGES:
        path = os.path.join(root, "src", pkg_dir, "mod.rs")
        if not os.path.exists(path):
            die("k8s-pb has no " + path)
        src = open(path, encoding="utf-8").read()
        messages = {}
        for m in PROST_EMPTY_STRUCT.finditer(src):
            messages[m.group(1).lower()] = (m.group(1), {})
        for m in PROST_STRUCT.finditer(src):
            fields = {}
            for f in PROST_FIELD.finditer(m.group(2) + "}"):
                attr = [a.strip() for a in f.group("attr").split(",")]
                tag = int(re.search(r'tag = "(\d+)"', f.group("attr")).group(1))
                ty = re.sub(r"\s+", "", f.group("ty")).rstrip(",")
                if attr[0].startswith("btree_map"):
                    key, value = re.search(r'btree_map = "(\w+), (\w+)"', f.group("attr")).groups()
                    kind, label = ("map", key, value), "map"
                else:
                    kind, label = attr[0].split(" ")[0], attr[1]
                target = None
                if "message" in (kind if isinstance(kind, str) else kind[2]):
                    target = resolve_rust_path(pkg_dir, ty)
                fields[tag] = {"rust": f.group("name"), "kind": kind, "label": label,
                               "target": target}
            messages[m.group(1).lower()] = (m.group(1), fields)
        out[go_package(pkg_dir)] = messages
    return out


def resolve_rust_path(pkg_dir, ty):
    """The (go package, lower-case message name) a prost field type refers to."""
    paths = [p for p in re.findall(r"(?<![\w:])((?:super::)*[A-Za-z_][\w:]*)", ty)
             if not p.startswith("::") and p not in ("String",)]
    paths = [p for p in paths if not p.startswith("core::") and not p.startswith("prost::")]
    if len(paths) != 1:
        die("cannot resolve the message type of " + ty + " in " + pkg_dir)
    segments = paths[0].split("::")
    module = pkg_dir.split("/")
    while segments[0] == "super":
        module = module[:-1]
        segments = segments[1:]
    module += segments[:-1]
    return go_package("/".join(module)), segments[-1].lower()


# ---------------------------------------------------------------------------------------------
# Go type descriptors (internal/abi of Go 1.2x, amd64) from an ELF Go binary.
# ---------------------------------------------------------------------------------------------
GO_KINDS = {1: "bool", 2: "int", 3: "int8", 4: "int16", 5: "int32", 6: "int64", 7: "uint",
            8: "uint8", 9: "uint16", 10: "uint32", 11: "uint64", 12: "uintptr", 13: "float32",
            14: "float64", 15: "complex64", 16: "complex128", 17: "array", 18: "chan", 19: "func",
            20: "interface", 21: "map", 22: "ptr", 23: "slice", 24: "string", 25: "struct",
            26: "unsafe.Pointer"}
# Size of the kind-specific descriptor, after which an uncommon type (package path, methods)
# follows.
GO_DESCRIPTOR_SIZE = {"ptr": 56, "slice": 56, "chan": 64, "func": 56, "array": 72, "map": 88,
                      "struct": 80, "interface": 80}


class GoBinary:
    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            die(path + " is not a 64-bit ELF file")
        shoff = struct.unpack_from("<Q", d, 0x28)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        raw = []
        for i in range(shnum):
            name, _typ, _flags, addr, off, size = struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
            raw.append((name, addr, off, size))
        strtab = raw[shstrndx][2]
        self.sections = {}
        for name, addr, off, size in raw:
            n = d[strtab + name:d.index(b"\0", strtab + name)].decode()
            self.sections[n] = (addr, off, size)
        for needed in (".rodata", ".typelink"):
            if needed not in self.sections:
                die(path + " has no " + needed + " section (not a Go binary?)")
        self.types = self.sections[".rodata"][0]
        self.go_version = (re.search(rb"go1\.\d+(?:\.\d+)?", d) or [b"?"])[0].decode()
        self.cache = {}

    def off(self, addr):
        for name, (start, off, size) in self.sections.items():
            if start and start <= addr < start + size and name not in (".bss", ".noptrbss"):
                return off + addr - start
        raise ValueError("address %#x is outside the file" % addr)

    def u8(self, a):
        return self.data[self.off(a)]

    def u16(self, a):
        return struct.unpack_from("<H", self.data, self.off(a))[0]

    def u32(self, a):
        return struct.unpack_from("<I", self.data, self.off(a))[0]

    def i32(self, a):
        return struct.unpack_from("<i", self.data, self.off(a))[0]

    def u64(self, a):
        return struct.unpack_from("<Q", self.data, self.off(a))[0]

    def varint(self, a):
        value, shift = 0, 0
        while True:
            b = self.u8(a)
            a += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value, a

    def name(self, a):
        """(name, tag, embedded) of an abi.Name."""
        flags = self.u8(a)
        n, p = self.varint(a + 1)
        name = self.data[self.off(p):self.off(p) + n].decode()
        tag = ""
        if flags & 2:
            tn, q = self.varint(p + n)
            tag = self.data[self.off(q):self.off(q) + tn].decode()
        return name, tag, bool(flags & 8)

    def type(self, a):
        if a in self.cache:
            return self.cache[a]
        tflag = self.u8(a + 20)
        kind = GO_KINDS.get(self.u8(a + 23) & 0x1F, "?")
        text = self.name(self.types + self.i32(a + 40))[0]
        if tflag & 2:  # TFlagExtraStar
            text = text[1:]
        t = {"addr": a, "kind": kind, "str": text, "named": bool(tflag & 4), "pkg": "",
             "methods": []}
        self.cache[a] = t
        if kind in ("ptr", "slice", "array"):
            t["elem"] = self.u64(a + 48)
        elif kind == "map":
            t["key"] = self.u64(a + 48)
            t["elem"] = self.u64(a + 56)
        elif kind == "struct":
            fields_ptr, fields_len = self.u64(a + 56), self.u64(a + 64)
            t["fields"] = []
            for i in range(fields_len):
                fa = fields_ptr + 24 * i
                name, tag, embedded = self.name(self.u64(fa))
                t["fields"].append({"name": name, "tag": tag, "embedded": embedded,
                                    "type": self.u64(fa + 8)})
        if tflag & 1:  # TFlagUncommon
            u = a + GO_DESCRIPTOR_SIZE.get(kind, 48)
            pkg = self.u32(u)
            t["pkg"] = self.name(self.types + pkg)[0] if pkg else ""
            mcount, moff = self.u16(u + 4), self.u32(u + 8)
            for i in range(mcount):
                t["methods"].append(self.name(self.types + self.i32(u + moff + 16 * i))[0])
        return t

    def structs(self):
        """{(package path, name): struct type} of every named struct reachable from the
        typelinks (which hold the pointer types of all types the binary converts to interfaces)."""
        _, off, size = self.sections[".typelink"]
        todo = deque(self.types + struct.unpack_from("<i", self.data, off + 4 * i)[0]
                     for i in range(size // 4))
        seen = set()
        while todo:
            a = todo.popleft()
            if a in seen:
                continue
            seen.add(a)
            try:
                t = self.type(a)
            except (ValueError, UnicodeDecodeError, struct.error):
                continue
            for k in ("elem", "key"):
                if k in t:
                    todo.append(t[k])
            for f in t.get("fields", []):
                todo.append(f["type"])
        out = {}
        for a in seen:
            t = self.cache.get(a)
            if t and t["named"] and t["pkg"]:
                out[(t["pkg"], t["str"].rsplit(".", 1)[-1])] = t
        return out


def struct_tag(tag, key):
    m = re.search(r'(?:^|\s)' + key + r':"([^"]*)"', tag)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------------------------
# (No decoded message has a double, float or fixed-width field; the decoder reads none.)
PROST_SCALAR = {"string": "String", "bool": "Bool", "int32": "Int32", "int64": "Int64",
                "bytes": "Bytes"}
WIRE_OF = {"String": "bytes", "Bytes": "bytes", "Message": "bytes", "Bool": "varint",
           "Int32": "varint", "Int64": "varint"}
GO_SCALAR_KINDS = {"String": {"string"}, "Bool": {"bool"}, "Int32": {"int32"},
                   "Int64": {"int64"}}


class Table:
    def __init__(self, pb, go):
        self.pb = pb
        self.go = go
        self.messages = {}  # (go package, Go name) -> message dict
        self.order = []
        self.newer_fields = []  # fields of k8s-pb that v1.32 does not have
        self.newer_messages = []
        self.tag_mismatches = []
        self.kinds = []

    def build(self):
        for pkg_dir, _ in PACKAGES:
            pkg = go_package(pkg_dir)
            for lower, (prost_name, _) in sorted(self.pb[pkg].items()):
                go = self.go_struct(pkg, lower)
                if go is None:
                    self.newer_messages.append(proto_package(pkg_dir) + "." + prost_name)
                    continue
                self.message(pkg, lower)
        self.build_kinds()
        self.check_marshalers()

    def go_struct(self, pkg, lower):
        for (p, name), t in self.go.items():
            if p == pkg and name.lower() == lower:
                return name, t
        return None

    def message(self, pkg, lower):
        found = self.go_struct(pkg, lower)
        if found is None:
            die("k8s-pb message %s.%s has no Go type in kubectl v1.32" % (pkg, lower))
        go_name, go_type = found
        key = (pkg, go_name)
        if key in self.messages:
            return self.messages[key]
        prost_name, pb_fields = self.pb[pkg][lower]
        msg = {"key": key, "name": pkg.replace("/", ".") + "." + go_name, "fields": [],
               "special": SPECIALS.get(key)}
        self.messages[key] = msg
        self.order.append(msg)
        if key in STRING_LISTS:
            if go_type["kind"] != "slice" or list(pb_fields) != [1] or pb_fields[1]["label"] != "repeated":
                die("%s is not a list of strings" % msg["name"])
            msg["special"] = "StringList"
            msg["fields"].append({"number": 1, "json": "items", "value": "String",
                                  "repr": "Slice", "omit": False})
            return msg
        if msg["special"]:
            # Their Go types hold the value in their own way (a time.Time, a decimal): the
            # decoder reads the wire fields directly and the JSON form is fixed.
            for number, pf in sorted(pb_fields.items()):
                if pf["label"] != "optional":
                    die("%s: special with field %d of %s" % (msg["name"], number, pf["kind"]))
                if pf["kind"] == "message":
                    value = self.value("Message", pf, msg["name"])
                elif pf["kind"] in PROST_SCALAR:
                    value = PROST_SCALAR[pf["kind"]]
                else:
                    die("%s: special with field %d of %s" % (msg["name"], number, pf["kind"]))
                msg["fields"].append({"number": number, "json": pf["rust"], "value": value,
                                      "repr": "Value", "omit": False})
            return msg
        if go_type["kind"] != "struct":
            die("%s: Go kind %s needs special handling" % (msg["name"], go_type["kind"]))
        by_number = {}
        for gf in go_type["fields"]:
            tag = struct_tag(gf["tag"], "protobuf")
            if tag is None or tag == "-":
                continue
            parts = tag.split(",")
            by_number[int(parts[1])] = (gf, parts)
        for number, pf in sorted(pb_fields.items()):
            if number not in by_number:
                self.newer_fields.append("%s.%s = %d" % (msg["name"], pf["rust"], number))
                continue
            gf, parts = by_number.pop(number)
            msg["fields"].append(self.field(msg, number, pf, gf, parts))
        if by_number:
            die("%s: Go fields %s have no k8s-pb counterpart" % (msg["name"], sorted(by_number)))
        msg["fields"].sort(key=lambda f: f["number"])
        return msg

    def field(self, msg, number, pf, gf, parts):
        where = "%s field %d (%s)" % (msg["name"], number, gf["name"])
        wire = parts[0]
        proto_name = next((p[5:] for p in parts if p.startswith("name=")), None)
        if proto_name is not None and normalise(proto_name) != normalise(pf["rust"]):
            die("%s: k8s-pb calls it %s, the Go tag %s (%s)" % (where, pf["rust"], proto_name, gf["tag"]))
        go_t = self.go_type(gf["type"])
        json_tag = struct_tag(gf["tag"], "json")
        if json_tag is None:
            json_name, options = gf["name"], []
        else:
            json_name, *options = json_tag.split(",")
        omitempty = "omitempty" in options
        inline = gf["embedded"] and json_name == ""
        if json_name == "" and not inline:
            json_name = gf["name"]
        if json_name == "-":
            die(where + ": a field without JSON form")

        # What one occurrence holds, from k8s-pb.
        map_value = None
        if pf["label"] == "map":
            _, key, value = pf["kind"]
            if key != "string":
                die(where + ": map key " + key)
            value_kind = "Message" if value == "message" else PROST_SCALAR[value]
            map_value = self.value(value_kind, pf, where)
            occurrence = "Message"  # the map entry
        else:
            occurrence = "Message" if pf["kind"] == "message" else PROST_SCALAR.get(pf["kind"])
            if occurrence is None:
                die(where + ": prost type " + pf["kind"])
        if WIRE_OF[occurrence] != wire:
            # The .proto is the authority on the wire; a few upstream struct tags disagree.
            self.tag_mismatches.append("%s: Go tag %s, proto %s" % (where, wire, pf["kind"]))
        # (The tag's opt/rep label is not checked: upstream tags a few repeated fields `opt`;
        # the Go kind, checked below, is what counts.)

        # How Go holds it, which decides what JSON it becomes.
        kind = go_t["kind"]
        if pf["label"] == "map":
            if kind != "map":
                die(where + ": a proto map held by Go kind " + kind)
            repr_, value = "Map", map_value
            self.check_go_value(self.go_type(go_t["elem"]), map_value, where)
        elif pf["label"] == "repeated":
            if kind != "slice":
                die(where + ": a repeated field held by Go kind " + kind)
            repr_ = "Slice"
            value = self.value(occurrence, pf, where)
            elem = self.go_type(go_t["elem"])
            if elem["kind"] == "ptr":
                elem = self.go_type(elem["elem"])
            self.check_go_value(elem, value, where)
        elif inline:
            if kind != "struct" or occurrence != "Message":
                die(where + ": inlined Go kind " + kind)
            repr_ = "Inline"
            value = self.value(occurrence, pf, where)
        elif kind == "ptr":
            repr_ = "Pointer"
            value = self.value(occurrence, pf, where)
            self.check_go_value(self.go_type(go_t["elem"]), value, where)
        else:
            repr_ = "Value"
            value = self.value(occurrence, pf, where)
            self.check_go_value(go_t, value, where)
        # Go's `omitempty` never omits a struct; it omits a nil pointer and an empty scalar,
        # slice or map.
        if kind == "struct":
            omitempty = False
        return {"number": number, "json": json_name, "value": value, "repr": repr_,
                "omit": omitempty, "go": gf["name"]}

    def value(self, kind, pf, where):
        if kind != "Message":
            return kind
        pkg, lower = pf["target"]
        if pkg not in self.pb or lower not in self.pb[pkg]:
            die(where + ": refers to %s.%s, outside the decoded packages" % (pkg, lower))
        return ("Message", self.message(pkg, lower)["key"])

    def check_go_value(self, go_t, value, where):
        if value == "Bytes":
            ok = go_t["kind"] == "slice" and self.go_type(go_t["elem"])["kind"] == "uint8"
        elif isinstance(value, tuple):
            ok = (go_t["pkg"], go_t["str"].rsplit(".", 1)[-1]) == value[1]
        else:
            ok = go_t["kind"] in GO_SCALAR_KINDS[value]
        if not ok:
            die("%s: %s on the wire, Go type %s (%s)" % (where, value, go_t["str"], go_t["kind"]))

    def go_type(self, addr):
        return self.go_binary.type(addr)

    def build_kinds(self):
        served = [(go_package(d), v) for d, v in PACKAGES if v]
        kinds = set()
        for pkg, api_version in served:
            for (p, name), msg in self.messages.items():
                if p != pkg or msg["special"]:
                    continue
                go = self.go[(p, name)]
                embeds_type_meta = any(
                    f["embedded"] and self.go_type(f["type"])["str"] == "v1.TypeMeta"
                    and self.go_type(f["type"])["pkg"] == META
                    for f in go["fields"])
                if not embeds_type_meta:
                    continue
                if pkg == META and name not in META_KINDS:
                    continue
                kinds.add((api_version, name, msg["name"]))
            for name in OPTION_KINDS:
                kinds.add((api_version, name, self.messages[(META, name)]["name"]))
        for name in UNVERSIONED_KINDS:
            kinds.add(("v1", name, self.messages[(META, name)]["name"]))
        self.kinds = sorted(kinds)

    def check_marshalers(self):
        """Every message whose Go type has its own JSON form must be a known special, and every
        Go field with a JSON form must be on the wire (unless nothing can ever render the
        message: no field holds it and it is no kind)."""
        reachable = {msg["key"] for msg in self.messages.values()
                     if any(k[2] == msg["name"] for k in self.kinds)}
        for msg in self.messages.values():
            for f in msg["fields"]:
                if isinstance(f["value"], tuple):
                    reachable.add(f["value"][1])
        for key, msg in self.messages.items():
            if key not in reachable:
                continue
            if not msg["special"] and msg["key"] not in STRING_LISTS:
                # A Go field with a JSON form but no protobuf tag would be written by upstream
                # (as its zero value) yet never sent: only TypeMeta (omitted when empty) may be.
                for f in self.go[key]["fields"]:
                    tag = struct_tag(f["tag"], "protobuf")
                    if tag not in (None, "-") or struct_tag(f["tag"], "json") == "-":
                        continue
                    if not (f["embedded"] and self.go_type(f["type"])["str"] == "v1.TypeMeta"):
                        die("%s.%s has a JSON form but no protobuf field" % (msg["name"], f["name"]))
            methods = set(self.go[key]["methods"])
            custom = bool(methods & {"MarshalJSON", "MarshalText"})
            if custom != (msg["special"] in ("Time", "MicroTime", "Duration", "RawJson",
                                                 "IntOrString", "Quantity")):
                die("%s: custom JSON marshaler %s, special %s" % (msg["name"], custom, msg["special"]))


def normalise(name):
    return name.replace("_", "").lower()


# ---------------------------------------------------------------------------------------------
# Rust output.
# ---------------------------------------------------------------------------------------------
def render(table, kubectl, go_version):
    index = {msg["key"]: i for i, msg in enumerate(table.order)}
    values = {"String": "Str", "Bool": "Bool", "Int32": "I32", "Int64": "I64", "Bytes": "Bytes"}
    reprs = {"Pointer": "Pointer", "Value": "Plain", "Inline": "Inline", "Slice": "Slice",
             "Map": "Map"}

    def value(v):
        if isinstance(v, tuple):
            return "Msg(%d)" % index[v[1]]
        return values[v]

    out = []
    w = out.append
    w("//! The wire table of the Kubernetes protobuf decoder: every message of the decoded API")
    w("//! groups, per field number its JSON name, wire value and Go representation.")
    w("")
    w("// @generated by crates/apiserver/codegen/protobuf_table.py from k8s-pb %s (message"
      % K8S_PB_VERSION)
    w("// definitions) and the Go type descriptors of kubectl %s (JSON names, omitempty,"
      % kubectl_version(kubectl))
    w("// pointers; built with %s). Do not edit. Regenerate with" % go_version)
    w("// `python3 crates/apiserver/codegen/protobuf_table.py` (see the script for its inputs).")
    w("")
    w("use super::Repr::{Inline, Map, Plain, Pointer, Slice};")
    w("use super::Value::{Bool, Bytes, I32, I64, Msg, Str};")
    w("use super::{Message, Special, field};")
    w("")
    w("/// Every message, indexed by [`Msg`](super::Value::Msg).")
    w("pub(super) static MESSAGES: [Message; %d] = [" % len(table.order))
    for i, msg in enumerate(table.order):
        w("    // %d" % i)
        w("    Message {")
        w('        name: "%s",' % msg["name"])
        w("        special: Special::%s," % (msg["special"] or "None"))
        w("        fields: &[")
        for f in msg["fields"]:
            w('            field(%d, "%s", %s, %s, %s),'
              % (f["number"], f["json"], value(f["value"]), reprs[f["repr"]],
                 "true" if f["omit"] else "false"))
        w("        ],")
        w("    },")
    w("];")
    w("")
    envelope = index[("k8s.io/apimachinery/pkg/runtime", "Unknown")]
    w("/// The envelope of every body, `runtime.Unknown`.")
    w("pub(super) const ENVELOPE: u16 = %d;" % envelope)
    w("/// The envelope's `runtime.TypeMeta`.")
    w("pub(super) const TYPE_META: u16 = %d;" % index[("k8s.io/apimachinery/pkg/runtime", "TypeMeta")])
    w("")
    w("/// The kinds a body may carry: (apiVersion, kind, index into [`MESSAGES`]), sorted.")
    w("pub(super) static KINDS: [(&str, &str, u16); %d] = [" % len(table.kinds))
    by_name = {msg["name"]: i for i, msg in enumerate(table.order)}
    for api_version, kind, name in table.kinds:
        w('    ("%s", "%s", %d),' % (api_version, kind, by_name[name]))
    w("];")
    w("")
    w("// Fields of k8s-pb %s that kubectl v1.32 does not have (decoded as unknown fields):"
      % K8S_PB_VERSION)
    for f in sorted(table.newer_fields):
        w("//   " + f)
    w("// Go struct tags whose wire type disagrees with the .proto (the .proto wins):")
    for m in sorted(table.tag_mismatches):
        w("//   " + m)
    w("// Messages of k8s-pb %s that kubectl v1.32 does not have:" % K8S_PB_VERSION)
    for m in sorted(table.newer_messages):
        w("//   " + m)
    return "\n".join(out) + "\n"


def kubectl_version(path):
    m = re.search(r"kubectl\.(\d+\.\d+)$", path)
    return "v" + m.group(1) if m else os.path.basename(path)


def rustfmt(src):
    r = subprocess.run(["rustfmt", "--edition", "2024", "--emit", "stdout", "--config",
                        "max_width=100,use_field_init_shorthand=true"],
                       input=src, capture_output=True, text=True)
    if r.returncode != 0:
        die("rustfmt failed:\n" + r.stderr)
    return r.stdout


def find_k8s_pb():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = sorted(glob.glob(os.path.join(home, "registry", "src", "*", "k8s-pb-" + K8S_PB_VERSION)))
    if not found:
        die("k8s-pb %s is not in the cargo registry; see --help" % K8S_PB_VERSION)
    return found[0]


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    check = "--check" in argv
    k8s_pb_dir = argv[argv.index("--k8s-pb") + 1] if "--k8s-pb" in argv else find_k8s_pb()
    kubectl = argv[argv.index("--kubectl") + 1] if "--kubectl" in argv else DEFAULT_KUBECTL
    if not os.path.exists(kubectl):
        die(kubectl + " does not exist")
    pb = read_k8s_pb(k8s_pb_dir)
    binary = GoBinary(kubectl)
    table = Table(pb, binary.structs())
    table.go_binary = binary
    if (META, "ObjectMeta") not in table.go:
        die("no Kubernetes types found in " + kubectl)
    table.build()
    content = rustfmt(render(table, kubectl, binary.go_version))
    if check:
        current = open(OUTPUT, encoding="utf-8").read() if os.path.exists(OUTPUT) else ""
        if current != content:
            die(OUTPUT + " is out of date: run crates/apiserver/codegen/protobuf_table.py")
        return 0
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(content)
    print("wrote %s: %d messages, %d kinds, %d newer fields skipped"
          % (os.path.relpath(OUTPUT, os.getcwd()), len(table.order), len(table.kinds),
             len(table.newer_fields)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
