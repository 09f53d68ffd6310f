use super::*;
use kubernaut_api_types::scheme::Scheme;
use proptest::prelude::*;
use serde_json::json;

/// A protobuf message under construction (the tests' encoder).
#[derive(Clone, Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn new() -> Self {
        Pb::default()
    }

    fn raw_varint(mut self, mut v: u64) -> Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }

    fn key(self, number: u32, wire_type: u8) -> Self {
        self.raw_varint((u64::from(number) << 3) | u64::from(wire_type))
    }

    fn varint(self, number: u32, v: u64) -> Self {
        self.key(number, 0).raw_varint(v)
    }

    fn bytes(self, number: u32, bytes: &[u8]) -> Self {
        let mut pb = self.key(number, 2).raw_varint(bytes.len() as u64);
        pb.0.extend_from_slice(bytes);
        pb
    }

    fn str(self, number: u32, s: &str) -> Self {
        self.bytes(number, s.as_bytes())
    }

    fn msg(self, number: u32, message: Pb) -> Self {
        self.bytes(number, &message.0)
    }

    fn entry(self, number: u32, key: &str, value: &str) -> Self {
        self.msg(number, Pb::new().str(1, key).str(2, value))
    }
}

/// A whole body: the magic bytes and the envelope around `raw`.
fn body(api_version: &str, kind: &str, raw: &Pb) -> Vec<u8> {
    let envelope = Pb::new()
        .msg(1, Pb::new().str(1, api_version).str(2, kind))
        .bytes(2, &raw.0)
        .str(3, "")
        .str(4, "");
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&envelope.0);
    out
}

fn decoded(api_version: &str, kind: &str, raw: Pb) -> Json {
    match decode(&body(api_version, kind, &raw)) {
        Ok(v) => v,
        Err(e) => panic!("{api_version} {kind}: {e}"),
    }
}

fn error(api_version: &str, kind: &str, raw: Pb) -> ProtobufError {
    match decode(&body(api_version, kind, &raw)) {
        Ok(v) => panic!("{api_version} {kind} decoded to {v}"),
        Err(e) => e,
    }
}

fn meta(name: &str) -> Pb {
    Pb::new().str(1, name)
}

fn time(seconds: i64, nanos: i32) -> Pb {
    Pb::new()
        .varint(1, seconds as u64)
        .varint(2, nanos as i64 as u64)
}

/// A Service with one port, as upstream's encoder writes it (every non-pointer field).
fn service_with_port(port: Pb) -> Pb {
    Pb::new().msg(1, meta("s")).msg(2, Pb::new().msg(1, port))
}

fn int_or_string_int(v: i32) -> Pb {
    Pb::new().varint(1, 0).varint(2, v as i64 as u64).str(3, "")
}

fn int_or_string_str(s: &str) -> Pb {
    Pb::new().varint(1, 1).varint(2, 0).str(3, s)
}

#[test]
fn an_empty_object_decodes_to_the_zero_value_go_serialises() {
    assert_eq!(
        decoded("v1", "Pod", Pb::new()),
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"creationTimestamp": null},
            "spec": {"containers": null},
            "status": {},
        })
    );
    assert_eq!(
        decoded("events.k8s.io/v1", "Event", Pb::new()),
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"creationTimestamp": null},
            "eventTime": null,
            "regarding": {},
            "deprecatedSource": {},
            "deprecatedFirstTimestamp": null,
            "deprecatedLastTimestamp": null,
        })
    );
}

#[test]
fn omitempty_drops_empty_values_but_keeps_set_pointers_and_fields_without_it() {
    // ObjectMeta as upstream writes it: every string, generation 0, an empty creationTimestamp.
    let metadata = Pb::new()
        .str(1, "web")
        .str(2, "")
        .str(3, "")
        .str(4, "")
        .str(5, "")
        .str(6, "")
        .varint(7, 0)
        .msg(8, Pb::new());
    // DeploymentSpec: replicas is a pointer set to 0, minReadySeconds and paused are values.
    let spec = Pb::new()
        .varint(1, 0)
        .varint(5, 0)
        .varint(7, 0)
        .msg(4, Pb::new());
    assert_eq!(
        decoded(
            "apps/v1",
            "Deployment",
            Pb::new().msg(1, metadata).msg(2, spec)
        ),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "creationTimestamp": null},
            "spec": {
                "replicas": 0,
                "selector": null,
                "template": {"metadata": {"creationTimestamp": null}, "spec": {"containers": null}},
                "strategy": {},
            },
            "status": {},
        })
    );
    // ServicePort.port has no omitempty; targetPort is a struct, never omitted.
    let port = Pb::new().str(1, "").str(2, "").varint(3, 0).varint(5, 0);
    let service = decoded("v1", "Service", service_with_port(port));
    assert_eq!(
        service["spec"]["ports"],
        json!([{"port": 0, "targetPort": 0}])
    );
}

#[test]
fn pointers_without_omitempty_are_null_when_unset() {
    let spec = Pb::new().str(1, "api");
    assert_eq!(
        decoded(
            "authentication.k8s.io/v1",
            "TokenRequest",
            Pb::new().msg(2, spec)
        )["spec"],
        json!({"audiences": ["api"], "boundObjectRef": null, "expirationSeconds": null})
    );
}

#[test]
fn times_are_rfc3339_in_utc_and_null_when_zero() {
    let at = |t: Pb| decoded("v1", "Namespace", Pb::new().msg(1, Pb::new().msg(8, t)));
    let created = |t: Pb| at(t)["metadata"]["creationTimestamp"].clone();
    assert_eq!(
        created(time(1_700_000_000, 999_999_999)),
        json!("2023-11-14T22:13:20Z")
    );
    assert_eq!(created(time(0, 0)), json!("1970-01-01T00:00:00Z"));
    assert_eq!(created(time(-1, 0)), json!("1969-12-31T23:59:59Z"));
    assert_eq!(created(time(951_782_400, 0)), json!("2000-02-29T00:00:00Z"));
    assert_eq!(
        created(time(253_402_300_799, 0)),
        json!("9999-12-31T23:59:59Z")
    );
    // time.Unix carries nanoseconds outside [0, 1e9) into the seconds.
    assert_eq!(created(time(10, -1)), json!("1970-01-01T00:00:09Z"));
    assert_eq!(
        created(time(10, 2_000_000_000)),
        json!("1970-01-01T00:00:12Z")
    );
    // Go's zero time, sent empty (as upstream does) or spelled out.
    assert_eq!(created(Pb::new()), Json::Null);
    assert_eq!(created(time(ZERO_TIME_UNIX, 0)), Json::Null);
    assert_eq!(
        created(time(ZERO_TIME_UNIX, 1)),
        json!("0001-01-01T00:00:00Z")
    );
    assert!(matches!(
        decode(&body(
            "v1",
            "Namespace",
            &Pb::new().msg(1, Pb::new().msg(8, time(253_402_300_800, 0)))
        )),
        Err(ProtobufError::TimestampOutOfRange {
            seconds: 253_402_300_800,
            nanos: 0
        })
    ));
    assert!(matches!(
        decode(&body(
            "v1",
            "Namespace",
            &Pb::new().msg(1, Pb::new().msg(8, time(i64::MAX, 2_000_000_000)))
        )),
        Err(ProtobufError::TimestampOutOfRange { .. })
    ));
    // Upstream's Time decoder replaces the value with each occurrence.
    let twice = Pb::new().msg(8, time(0, 0)).msg(8, Pb::new().varint(2, 5));
    assert_eq!(
        decoded("v1", "Namespace", Pb::new().msg(1, twice))["metadata"]["creationTimestamp"],
        json!("1970-01-01T00:00:00Z")
    );
}

#[test]
fn micro_times_keep_six_fractional_digits() {
    let event =
        |t: Pb| decoded("events.k8s.io/v1", "Event", Pb::new().msg(2, t))["eventTime"].clone();
    assert_eq!(
        event(time(1_700_000_000, 123_456_789)),
        json!("2023-11-14T22:13:20.123456Z")
    );
    assert_eq!(
        event(time(1_700_000_000, 0)),
        json!("2023-11-14T22:13:20.000000Z")
    );
    assert_eq!(event(Pb::new()), Json::Null);
}

#[test]
fn int_or_string_is_a_number_or_a_string() {
    let target = |v: Pb| {
        let port = Pb::new().varint(3, 80).msg(4, v);
        decoded("v1", "Service", service_with_port(port))["spec"]["ports"][0]["targetPort"].clone()
    };
    assert_eq!(target(int_or_string_int(8080)), json!(8080));
    assert_eq!(target(int_or_string_int(-1)), json!(-1));
    assert_eq!(target(int_or_string_str("http")), json!("http"));
    assert_eq!(target(Pb::new()), json!(0));
    let bad = service_with_port(Pb::new().msg(4, Pb::new().varint(1, 2)));
    assert!(matches!(
        error("v1", "Service", bad),
        ProtobufError::InvalidIntOrString {
            int_or_string_type: 2
        }
    ));
}

#[test]
fn quantities_are_their_canonical_strings() {
    let quota =
        |hard: Pb| decoded("v1", "ResourceQuota", Pb::new().msg(2, hard))["spec"]["hard"].clone();
    let entry = |key: &str, q: &str| Pb::new().str(1, key).msg(2, Pb::new().str(1, q));
    let hard = Pb::new()
        .msg(1, entry("cpu", "1500m"))
        .msg(1, entry("memory", "1Gi"))
        .msg(1, entry("pods", "1000m"))
        .msg(1, Pb::new().str(1, "zero"));
    assert_eq!(
        quota(hard),
        json!({"cpu": "1500m", "memory": "1Gi", "pods": "1", "zero": "0"})
    );
    match error(
        "v1",
        "ResourceQuota",
        Pb::new().msg(2, Pb::new().msg(1, entry("cpu", "lots"))),
    ) {
        ProtobufError::InvalidQuantity { value, .. } => assert_eq!(value, "lots"),
        e => panic!("{e}"),
    }
}

#[test]
fn raw_extensions_embed_their_json() {
    let revision =
        |data: Pb| decoded("apps/v1", "ControllerRevision", Pb::new().msg(2, data))["data"].clone();
    assert_eq!(
        revision(Pb::new().bytes(1, br#"{"spec":{"a":[1,2]}}"#)),
        json!({"spec": {"a": [1, 2]}})
    );
    assert_eq!(revision(Pb::new()), Json::Null);
    assert!(matches!(
        error(
            "apps/v1",
            "ControllerRevision",
            Pb::new().msg(2, Pb::new().bytes(1, b"{not json"))
        ),
        ProtobufError::InvalidEmbeddedJson { .. }
    ));
    // Go's RawExtension.MarshalJSON of an empty, non-nil Raw is no JSON at all.
    assert!(matches!(
        error(
            "apps/v1",
            "ControllerRevision",
            Pb::new().msg(2, Pb::new().bytes(1, b""))
        ),
        ProtobufError::InvalidEmbeddedJson { .. }
    ));
}

#[test]
fn bytes_are_base64_and_maps_keep_the_last_entry_per_key() {
    let data = Pb::new()
        .msg(2, Pb::new().str(1, "password").bytes(2, b"x"))
        .msg(2, Pb::new().str(1, "bin").bytes(2, &[0, 1, 2, 0xff, 0xfe]))
        .msg(2, Pb::new().str(1, "empty").bytes(2, b""))
        .msg(2, Pb::new().str(1, "absent"))
        .msg(2, Pb::new().bytes(2, b"nokey"));
    let labels = Pb::new()
        .entry(11, "a", "1")
        .entry(11, "a", "2")
        .entry(11, "b", "");
    let mut secret = Pb::new().msg(1, labels);
    secret.0.extend_from_slice(&data.0);
    let secret = decoded("v1", "Secret", secret.str(3, "Opaque"));
    assert_eq!(
        secret,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"labels": {"a": "2", "b": ""}, "creationTimestamp": null},
            "data": {"password": "eA==", "bin": "AAEC//4=", "empty": "", "absent": "", "": "bm9rZXk="},
            "type": "Opaque",
        })
    );
}

#[test]
fn repeated_scalars_decode_packed_and_unpacked() {
    let requirement = |values: Pb| {
        let rule = Pb::new().str(1, "FailJob").msg(2, values.str(2, "In"));
        let job = Pb::new().msg(2, Pb::new().msg(11, Pb::new().msg(1, rule)));
        decoded("batch/v1", "Job", job)["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"]
            .clone()
    };
    assert_eq!(
        requirement(Pb::new().varint(3, 1).varint(3, 2)),
        json!([1, 2])
    );
    let packed = Pb::new().raw_varint(3).raw_varint(42).raw_varint(u64::MAX);
    assert_eq!(
        requirement(Pb::new().bytes(3, &packed.0).varint(3, 7)),
        json!([3, 42, -1, 7])
    );
    assert_eq!(requirement(Pb::new()), Json::Null);
    let truncated = Pb::new().bytes(3, &[0x80]);
    let rule = Pb::new().msg(2, truncated);
    let job = Pb::new().msg(2, Pb::new().msg(11, Pb::new().msg(1, rule)));
    assert!(matches!(
        error("batch/v1", "Job", job),
        ProtobufError::TruncatedVarint { .. }
    ));
}

#[test]
fn singular_messages_merge_and_the_last_scalar_wins() {
    let ns = Pb::new()
        .msg(1, Pb::new().str(1, "first").entry(11, "a", "b"))
        .msg(1, Pb::new().str(1, "second"));
    assert_eq!(
        decoded("v1", "Namespace", ns)["metadata"],
        json!({"name": "second", "labels": {"a": "b"}, "creationTimestamp": null})
    );
}

#[test]
fn inlined_structs_write_their_fields_into_the_parent() {
    let volume = Pb::new()
        .str(1, "data")
        .msg(2, Pb::new().msg(2, Pb::new().str(1, "Memory")));
    let pod = Pb::new().msg(2, Pb::new().msg(1, volume));
    assert_eq!(
        decoded("v1", "Pod", pod)["spec"]["volumes"],
        json!([{"name": "data", "emptyDir": {"medium": "Memory"}}])
    );
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    // Fields 1000-1005 are no field of ObjectMeta: a varint, a fixed64, a fixed32, bytes and
    // a group holding a nested group.
    let metadata = {
        let mut pb = Pb::new().varint(1000, 5).key(1001, 1);
        pb.0.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut pb = pb.key(1002, 5);
        pb.0.extend_from_slice(&[1, 2, 3, 4]);
        pb.bytes(1003, b"anything")
            .key(1004, 3)
            .varint(1, 1)
            .key(1005, 3)
            .str(2, "nested")
            .key(1005, 4)
            .key(1004, 4)
            .str(1, "demo")
    };
    let ns = Pb::new().msg(1, metadata).varint(99, 1);
    assert_eq!(
        decoded("v1", "Namespace", ns)["metadata"],
        json!({"name": "demo", "creationTimestamp": null})
    );
}

#[test]
fn option_kinds_decode_in_every_served_group_version() {
    let options = Pb::new().varint(1, 30).str(4, "Foreground").str(5, "All");
    for api_version in [
        "v1",
        "apps/v1",
        "policy/v1",
        "meta.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
    ] {
        assert_eq!(
            decoded(api_version, "DeleteOptions", options.clone()),
            json!({
                "apiVersion": api_version, "kind": "DeleteOptions",
                "gracePeriodSeconds": 30, "propagationPolicy": "Foreground", "dryRun": ["All"],
            })
        );
    }
}

#[test]
fn malformed_bodies_are_typed_errors() {
    assert!(matches!(decode(b""), Err(ProtobufError::BadMagic)));
    assert!(matches!(decode(b"k8s"), Err(ProtobufError::BadMagic)));
    assert!(matches!(
        decode(b"k8s\x01\x0a\x00"),
        Err(ProtobufError::BadMagic)
    ));
    assert!(matches!(decode(b"k8s\0"), Err(ProtobufError::EmptyBody)));
    assert!(matches!(
        decode(b"k8s\0\x0a"),
        Err(ProtobufError::TruncatedVarint { .. })
    ));
    assert!(matches!(
        decode(b"k8s\0\x0a\x05\x0a\x02v1"),
        Err(ProtobufError::Truncated {
            field: 1,
            needed: 5,
            available: 4,
            ..
        })
    ));
    // Field 5 is no field of the envelope: skipped, but its varint has eleven bytes.
    let overflow = [b"k8s\0\x28".as_slice(), &[0xff; 10], &[0x01]].concat();
    assert!(matches!(
        decode(&overflow),
        Err(ProtobufError::VarintOverflow { .. })
    ));
    assert!(matches!(
        decode(b"k8s\0\x02\x00"),
        Err(ProtobufError::IllegalFieldNumber { field: 0, .. })
    ));
    assert!(matches!(
        decode(b"k8s\0\x0f"),
        Err(ProtobufError::IllegalWireType {
            field: 1,
            wire_type: 7,
            ..
        })
    ));
    assert!(matches!(
        decode(b"k8s\0\xfc\x07"),
        Err(ProtobufError::IllegalWireType {
            field: 127,
            wire_type: 4,
            ..
        })
    ));
    let no_kind = [
        MAGIC.as_slice(),
        &Pb::new().msg(1, Pb::new().str(1, "v1")).0,
    ]
    .concat();
    assert!(matches!(decode(&no_kind), Err(ProtobufError::MissingKind)));
    let no_version = [
        MAGIC.as_slice(),
        &Pb::new().msg(1, Pb::new().str(2, "Pod")).0,
    ]
    .concat();
    assert!(matches!(
        decode(&no_version),
        Err(ProtobufError::MissingVersion)
    ));
    match decode(&body("apps/v1", "Pod", &Pb::new())) {
        Err(ProtobufError::UnknownKind { api_version, kind }) => {
            assert_eq!((api_version.as_str(), kind.as_str()), ("apps/v1", "Pod"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        error("v1", "Namespace", Pb::new().msg(1, Pb::new().varint(1, 7))),
        ProtobufError::WrongWireType {
            field: 1,
            json: "name",
            wire_type: 0,
            ..
        }
    ));
    assert!(matches!(
        error(
            "v1",
            "Namespace",
            Pb::new().msg(1, Pb::new().bytes(1, b"\xff\xfe"))
        ),
        ProtobufError::InvalidUtf8 { field: 1, .. }
    ));
    assert!(matches!(
        error(
            "v1",
            "Namespace",
            Pb::new().msg(1, Pb::new().bytes(11, &Pb::new().bytes(1, b"\xc3").0))
        ),
        ProtobufError::InvalidUtf8 { field: 11, .. }
    ));
    assert!(matches!(
        error("v1", "Namespace", Pb::new().key(5, 3).varint(1, 1)),
        ProtobufError::UnterminatedGroup { field: 5, .. }
    ));
}

#[test]
fn nesting_is_bounded() {
    let mut deep = Pb::new();
    for _ in 0..=MAX_DEPTH {
        deep = deep.key(7, 3);
    }
    assert!(matches!(
        error("v1", "Namespace", deep),
        ProtobufError::TooDeep { limit: MAX_DEPTH }
    ));
    let mut deep = Pb::new();
    for _ in 0..MAX_DEPTH - 1 {
        deep = deep.key(7, 3);
    }
    for _ in 0..MAX_DEPTH - 1 {
        deep = deep.key(7, 4);
    }
    assert_eq!(decoded("v1", "Namespace", deep)["kind"], "Namespace");
}

#[test]
fn durations_print_as_go_prints_them() {
    for (nanos, want) in [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1_500, "1.5µs"),
        (1_000_000, "1ms"),
        (2_500_000, "2.5ms"),
        (1_000_000_000, "1s"),
        (1_500_000_000, "1.5s"),
        (60_000_000_000, "1m0s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (3_723_000_000_001, "1h2m3.000000001s"),
        (-90_000_000_000, "-1m30s"),
        (i64::MAX, "2562047h47m16.854775807s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ] {
        assert_eq!(format_duration(nanos), want, "{nanos}");
    }
}

/// The inverse of `civil_from_days`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

proptest! {
    #[test]
    fn civil_dates_round_trip(days in -800_000i64..3_000_000) {
        let (year, month, day) = civil_from_days(days);
        prop_assert!((1..=12).contains(&month) && (1..=31).contains(&day));
        prop_assert_eq!(days_from_civil(year, month, day), days);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = decode(&[MAGIC.as_slice(), &bytes].concat());
    }

    #[test]
    fn arbitrary_objects_of_every_kind_never_panic(
        kind in 0..table::KINDS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (api_version, kind, _) = table::KINDS[kind];
        let _ = decode(&body(api_version, kind, &Pb(bytes)));
    }

    #[test]
    fn mutated_kubectl_bodies_never_panic(
        fixture in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut body = FIXTURES[fixture].to_vec();
        for (at, byte) in edits {
            let at = at.index(body.len());
            body[at] = byte;
        }
        let _ = decode(&body);
    }
}

const FIXTURES: [&[u8]; 6] = [
    include_bytes!("../../tests/fixtures/protobuf/deployment.pb"),
    include_bytes!("../../tests/fixtures/protobuf/cronjob.pb"),
    include_bytes!("../../tests/fixtures/protobuf/secret-docker-registry.pb"),
    include_bytes!("../../tests/fixtures/protobuf/service-nodeport.pb"),
    include_bytes!("../../tests/fixtures/protobuf/rolebinding.pb"),
    include_bytes!("../../tests/fixtures/protobuf/tokenrequest.pb"),
];

#[test]
fn the_table_is_well_formed() {
    for (i, message) in table::MESSAGES.iter().enumerate() {
        assert!(
            message.fields.windows(2).all(|w| w[0].number < w[1].number),
            "{}: fields sorted by number, no duplicates",
            message.name
        );
        for field in message.fields {
            if let Value::Msg(index) = field.value {
                assert!(
                    usize::from(index) < table::MESSAGES.len(),
                    "{} #{}",
                    message.name,
                    i
                );
            }
            assert_eq!(
                field.repr == Repr::Inline,
                field.json.is_empty(),
                "{}.{}",
                message.name,
                field.number
            );
        }
    }
    assert!(
        table::KINDS
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
        "kinds sorted"
    );
    for (api_version, kind, index) in table::KINDS {
        let message = &table::MESSAGES[usize::from(index)];
        assert_eq!(message.special, Special::None, "{api_version} {kind}");
        assert!(
            message.name.ends_with(&format!(".{kind}")),
            "{api_version} {kind}: {}",
            message.name
        );
    }
    let kinds: Vec<_> = kinds().collect();
    for kind in [
        ("v1", "Namespace"),
        ("apps/v1", "Deployment"),
        ("v1", "DeleteOptions"),
        ("policy/v1", "Eviction"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("meta.k8s.io/v1", "DeleteOptions"),
        ("v1", "Status"),
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
    assert!(!kinds.contains(&("apps/v1", "Pod")));
}

/// Fields kubernaut-api-types does not model yet: its spec trimming drops every property named
/// `description` together with the descriptions (PriorityClass.description is a real field).
const KNOWN_SCHEMA_GAPS: &[&str] = &["scheduling.k8s.io/v1 PriorityClass: .description"];

/// Walks a message of the table alongside the JSON Schema of the same type, reporting every
/// JSON name the schema does not know.
fn walk(
    root: &Json,
    index: u16,
    schema: &Json,
    path: &str,
    seen: &mut std::collections::HashSet<(u16, usize)>,
    out: &mut Vec<String>,
) {
    use kubernaut_api_types::schema::resolve;
    let Some(schema) = resolve(root, schema) else {
        out.push(format!("{path}: unresolvable schema"));
        return;
    };
    if !seen.insert((index, std::ptr::from_ref(schema) as usize)) {
        return;
    }
    let message = &table::MESSAGES[usize::from(index)];
    if message.special != Special::None {
        return;
    }
    let properties = schema.get("properties").and_then(Json::as_object);
    for field in message.fields {
        let inner = match field.value {
            Value::Msg(inner) => Some(inner),
            _ => None,
        };
        if field.repr == Repr::Inline {
            if let Some(inner) = inner {
                walk(root, inner, schema, path, seen, out);
            }
            continue;
        }
        let Some(property) = properties.and_then(|p| p.get(field.json)) else {
            out.push(format!("{path}.{}", field.json));
            continue;
        };
        let Some(inner) = inner else { continue };
        let Some(property) = resolve(root, property) else {
            continue;
        };
        let child = match field.repr {
            Repr::Slice => property.get("items"),
            Repr::Map => property.get("additionalProperties"),
            _ => Some(property),
        };
        if let Some(child) = child {
            walk(
                root,
                inner,
                child,
                &format!("{path}.{}", field.json),
                seen,
                out,
            );
        }
    }
}

#[test]
fn every_json_name_of_the_table_is_a_field_of_the_api_types_schemas() {
    let scheme = Scheme::builtin();
    let mut walked = 0;
    let mut unknown = Vec::new();
    for (api_version, kind, index) in table::KINDS {
        let Some(schema) = scheme.schema(api_version, kind) else {
            continue;
        };
        walked += 1;
        let root = schema.as_value();
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        walk(root, index, root, "", &mut seen, &mut found);
        unknown.extend(
            found
                .into_iter()
                .map(|p| format!("{api_version} {kind}: {p}")),
        );
    }
    assert!(walked >= 30, "only {walked} kinds have a schema");
    unknown.retain(|u| !KNOWN_SCHEMA_GAPS.contains(&u.as_str()));
    assert!(
        unknown.is_empty(),
        "json names the schemas do not know:\n{}",
        unknown.join("\n")
    );
}
