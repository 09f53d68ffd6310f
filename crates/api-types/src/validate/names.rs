//! The shared syntax checks of upstream's `k8s.io/apimachinery/pkg/util/validation`: DNS labels
//! and subdomains, qualified names, label values, port names and numbers, environment variable
//! names, ConfigMap keys, IP addresses and CIDRs, and the name rules of each kind.
//!
//! The `is_*` functions return upstream's messages (without a field path), in upstream's order;
//! an empty list means the value is valid. The regular expressions upstream prints in its
//! messages are reproduced verbatim, but matched by hand-written character checks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::field::{ErrorList, FieldError, Path};

/// A name rule of a kind (upstream's `ValidateNameFunc`): the messages for `name`; `prefix` is
/// set when the name is a `generateName` prefix, which may end in a dash.
pub type NameValidator = fn(&str, bool) -> Vec<String>;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case \
     alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_MAX: usize = 63;

const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
     alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MAX: usize = 253;

const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric \
     characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_MAX: usize = 63;

const WILDCARD_FMT: &str = r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_ERR: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a \
     valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' \
     and end with an alphanumeric character";

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and \
     must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX: usize = 63;

const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric \
     characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// The longest label value.
pub const LABEL_VALUE_MAX: usize = 63;

const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";
const C_IDENTIFIER_ERR: &str = "a valid C identifier must start with alphabetic character or \
     '_', followed by a string of alphanumeric characters or '_'";

const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
const HTTP_HEADER_NAME_ERR: &str =
    "a valid HTTP header must consist of alphanumeric characters or '-'";

const ENV_VAR_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist of alphabetic \
     characters, digits, '_', '-', or '.', and must not start with a digit";
const RELAXED_ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";

const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

const HTTP_PATH_FMT: &str = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/// Upstream's `MaxLenError`: `must be no more than N characters`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Upstream's `RegexError`: the message, examples and the pattern, including the doubled space
/// upstream prints before each ` or `.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut out = msg.to_owned();
    if examples.is_empty() {
        out.push_str(" (regex used for validation is '");
    } else {
        out.push_str(" (e.g. ");
        for (i, example) in examples.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            out.push('\'');
            out.push_str(example);
            out.push_str("', ");
        }
        out.push_str("regex used for validation is '");
    }
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// Upstream's `EmptyError`.
pub fn empty_error() -> &'static str {
    "must be non-empty"
}

/// Upstream's `InclusiveRangeError`: `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, anchored.
fn dns1123_label_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            lower_alnum(f) && lower_alnum(l) && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// Dot-separated DNS-1123 labels, anchored.
fn dns1123_subdomain_syntax(s: &str) -> bool {
    s.split('.').all(dns1123_label_syntax)
}

/// Upstream's `IsDNS1123Label`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        errs.push(max_len_error(DNS1123_LABEL_MAX));
    }
    if !dns1123_label_syntax(value) {
        if dns1123_subdomain_syntax(value) {
            // A valid subdomain that is not a valid label: it has dots.
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Upstream's `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX));
    }
    if !dns1123_subdomain_syntax(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Upstream's `IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX {
        errs.push(max_len_error(DNS1035_LABEL_MAX));
    }
    let b = value.as_bytes();
    let ok = match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_lowercase()
                && lower_alnum(l)
                && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        }
        _ => false,
    };
    if !ok {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Upstream's `IsWildcardDNS1123Subdomain` (`*.example.com`).
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX));
    }
    let ok = value
        .strip_prefix("*.")
        .is_some_and(dns1123_subdomain_syntax);
    if !ok {
        errs.push(regex_error(WILDCARD_ERR, WILDCARD_FMT, &["*.example.com"]));
    }
    errs
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, anchored.
fn qualified_name_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Upstream's `IsQualifiedName`: an optional DNS subdomain prefix and `/`, then a name of at
/// most 63 characters (label keys, annotation keys, finalizers, resource names).
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for msg in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {msg}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX)));
    }
    if !qualified_name_syntax(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Upstream's `IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        errs.push(max_len_error(LABEL_VALUE_MAX));
    }
    if !value.is_empty() && !qualified_name_syntax(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Upstream's `IsCIdentifier`.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    let ok = match b.first() {
        Some(&f) => {
            (f.is_ascii_alphabetic() || f == b'_')
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
        None => false,
    };
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            C_IDENTIFIER_ERR,
            C_IDENTIFIER_FMT,
            &["my_name", "MY_NAME", "MyName"],
        )]
    }
}

/// Upstream's `IsValidPortNum`: 1 to 65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Upstream's `IsInRange`.
pub fn is_in_range(value: i64, min: i64, max: i64) -> Vec<String> {
    if (min..=max).contains(&value) {
        Vec::new()
    } else {
        vec![inclusive_range_error(min, max)]
    }
}

/// Upstream's `IsValidGroupID`: 0 to 2^31-1 in v1.32 (later releases widened it to 2^32-1).
pub fn is_valid_group_id(gid: i64) -> Vec<String> {
    is_in_range(gid, 0, i64::from(i32::MAX))
}

/// Upstream's `IsValidUserID`: 0 to 2^31-1 in v1.32 (later releases widened it to 2^32-1).
pub fn is_valid_user_id(uid: i64) -> Vec<String> {
    is_in_range(uid, 0, i64::from(i32::MAX))
}

/// Upstream's `IsValidPortName` (an IANA_SVC_NAME): at most 15 characters of `[-a-z0-9]` with
/// at least one letter, no leading, trailing or doubled hyphen.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    let b = port.as_bytes();
    if b.is_empty() || !b.iter().all(|&c| lower_alnum(c) || c == b'-') {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// Upstream's `IsValidPercent`: digits then `%`.
pub fn is_valid_percent(percent: &str) -> Vec<String> {
    let ok = percent
        .strip_suffix('%')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_ERR, PERCENT_FMT, &["1%", "93%"])]
    }
}

/// Upstream's `IsHTTPHeaderName`.
pub fn is_http_header_name(value: &str) -> Vec<String> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            HTTP_HEADER_NAME_ERR,
            HTTP_HEADER_NAME_FMT,
            &["X-Header-Name"],
        )]
    }
}

/// Upstream's `hasChDirPrefix`: `.`, `..` and names starting with `..` are refused.
fn has_chdir_prefix(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".to_owned()]
    } else if value == ".." {
        vec!["must not be '..'".to_owned()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".to_owned()]
    } else {
        Vec::new()
    }
}

/// Upstream's strict `IsEnvVarName` (used when the `RelaxedEnvironmentVariableValidation`
/// feature is off; it is on by default in v1.32, see [`is_relaxed_env_var_name`]).
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    let ok = match b.first() {
        Some(&f) => {
            (f.is_ascii_alphabetic() || matches!(f, b'-' | b'.' | b'_'))
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        }
        None => false,
    };
    let mut errs = Vec::new();
    if !ok {
        errs.push(regex_error(
            ENV_VAR_NAME_ERR,
            ENV_VAR_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

/// Upstream's `IsRelaxedEnvVarName`: printable ASCII other than `=` (v1.32's default rule for
/// environment variable names and `envFrom` prefixes).
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {}", empty_error()));
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(RELAXED_ENV_VAR_NAME_ERR.to_owned());
    }
    errs
}

/// Upstream's `IsConfigMapKey` (ConfigMap and Secret keys, key selectors).
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

/// Upstream's `IsValidPathSegmentName`: names that are safe as one URL path segment.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    ["/", "%"]
        .iter()
        .filter(|illegal| name.contains(*illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

/// Upstream's `IsDomainPrefixedPath` (`acme.io/foo`): IngressClass controllers, Job `managedBy`.
pub fn is_domain_prefixed_path(path: &Path, value: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if value.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let Some((host, rest)) = value
        .split_once('/')
        .filter(|(h, r)| !h.is_empty() && !r.is_empty())
    else {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        ));
        return errs;
    };
    for msg in is_dns1123_subdomain(host) {
        errs.push(FieldError::invalid(path, host, msg));
    }
    let path_ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&b));
    if !path_ok {
        errs.push(FieldError::invalid(
            path,
            rest,
            regex_error("Invalid path", HTTP_PATH_FMT, &[]),
        ));
    }
    errs
}

/// Upstream's `IsFullyQualifiedDomainName`: a DNS subdomain of at least two labels, with an
/// optional trailing dot (EndpointSlice FQDN addresses).
pub fn is_fully_qualified_domain_name(path: &Path, name: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        errs.push(FieldError::invalid(path, name, msgs.join(",")));
        return errs;
    }
    if name.split('.').count() < 2 {
        errs.push(FieldError::invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        ));
        return errs;
    }
    for label in name.split('.') {
        let msgs = is_dns1123_label(label);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(path, label, msgs.join(",")));
            return errs;
        }
    }
    errs
}

/// Go's `dtoi` on the start of `s`: the decimal number, the digits consumed, whether any were.
fn dtoi(s: &str) -> (u32, usize, bool) {
    const BIG: u32 = 0x00FF_FFFF;
    let mut n: u32 = 0;
    let mut i = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        n = n * 10 + u32::from(b - b'0');
        i += 1;
        if n >= BIG {
            return (BIG, i, false);
        }
    }
    (n, i, i > 0)
}

/// IPv4 as Kubernetes' `ParseIPSloppy` reads it: leading zeros are allowed (and decimal).
fn parse_ipv4_sloppy(mut s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    for (i, octet) in octets.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            s = s.strip_prefix('.')?;
        }
        let (n, consumed, ok) = dtoi(s);
        if !ok || n > 0xFF {
            return None;
        }
        *octet = u8::try_from(n).ok()?;
        s = s.get(consumed..)?;
    }
    if s.is_empty() {
        Some(Ipv4Addr::from(octets))
    } else {
        None
    }
}

/// An IP address as Kubernetes' `netutils.ParseIPSloppy` reads it (Go's `net.ParseIP` before
/// Go 1.17: IPv4 octets may carry leading zeros). IPv4-mapped IPv6 addresses come back as IPv4,
/// as Go's `To4` sees them.
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    let first = s.bytes().find(|b| *b == b'.' || *b == b':')?;
    if first == b'.' {
        return parse_ipv4_sloppy(s).map(IpAddr::V4);
    }
    let v6 = if s.contains('.') {
        // An embedded IPv4 tail; read it sloppily, then let the standard parser do the rest.
        let (head, tail) = s.rsplit_once(':')?;
        let v4 = parse_ipv4_sloppy(tail)?;
        format!("{head}:{v4}").parse::<Ipv6Addr>().ok()?
    } else {
        s.parse::<Ipv6Addr>().ok()?
    };
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// Upstream's `IsValidIP` (v1.32): any IPv4 or IPv6 address `ParseIPSloppy` accepts.
pub fn is_valid_ip(path: &Path, value: &str) -> ErrorList {
    if parse_ip_sloppy(value).is_some() {
        ErrorList::new()
    } else {
        vec![FieldError::invalid(
            path,
            value,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        )]
    }
}

/// Upstream's `IsValidIPv4Address`.
pub fn is_valid_ipv4_address(path: &Path, value: &str) -> ErrorList {
    if matches!(parse_ip_sloppy(value), Some(IpAddr::V4(_))) {
        ErrorList::new()
    } else {
        vec![FieldError::invalid(
            path,
            value,
            "must be a valid IPv4 address",
        )]
    }
}

/// Upstream's `IsValidIPv6Address`.
pub fn is_valid_ipv6_address(path: &Path, value: &str) -> ErrorList {
    if matches!(parse_ip_sloppy(value), Some(IpAddr::V6(_))) {
        ErrorList::new()
    } else {
        vec![FieldError::invalid(
            path,
            value,
            "must be a valid IPv6 address",
        )]
    }
}

/// A CIDR as `netutils.ParseCIDRSloppy` reads it: the address and the prefix length.
pub fn parse_cidr_sloppy(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, mask) = s.split_once('/')?;
    let ip = parse_ip_sloppy(addr)?;
    // A mapped address written in IPv6 form keeps its 128-bit mask length.
    let bits = if addr.contains(':') { 128 } else { 32 };
    let (n, consumed, ok) = dtoi(mask);
    if !ok || consumed != mask.len() || n > bits {
        return None;
    }
    Some((ip, n))
}

/// Upstream's `IsValidCIDR` (v1.32).
pub fn is_valid_cidr(path: &Path, value: &str) -> ErrorList {
    if parse_cidr_sloppy(value).is_some() {
        ErrorList::new()
    } else {
        vec![FieldError::invalid(
            path,
            value,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        )]
    }
}

/// Upstream's `maskTrailingDash`, kept with its quirk: a trailing dash replaces the last *two*
/// characters with `a`. (Upstream panics on a one-character `-`; here it becomes `a`.)
fn mask_trailing_dash(name: &str) -> String {
    if name.ends_with('-') {
        let keep = name.len().saturating_sub(2);
        let mut out = name.get(..keep).unwrap_or("").to_owned();
        out.push('a');
        out
    } else {
        name.to_owned()
    }
}

/// Upstream's `NameIsDNSSubdomain`: the name rule of most kinds.
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_subdomain(&mask_trailing_dash(name))
    } else {
        is_dns1123_subdomain(name)
    }
}

/// Upstream's `NameIsDNSLabel` (Namespace, StatefulSet).
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_label(&mask_trailing_dash(name))
    } else {
        is_dns1123_label(name)
    }
}

/// Upstream's `NameIsDNS1035Label` (Service).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1035_label(&mask_trailing_dash(name))
    } else {
        is_dns1035_label(name)
    }
}

/// The RBAC name rule: any name that is a safe URL path segment.
pub fn name_is_path_segment(name: &str, _prefix: bool) -> Vec<String> {
    is_valid_path_segment_name(name)
}

/// Upstream's `IsValidSysctlName`: at most 253 characters of dot- or slash-separated segments.
pub fn is_valid_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    let segment_ok = |seg: &str| {
        let b = seg.as_bytes();
        match (b.first(), b.last()) {
            (Some(&f), Some(&l)) => {
                lower_alnum(f)
                    && lower_alnum(l)
                    && b.iter().all(|&c| lower_alnum(c) || c == b'-' || c == b'_')
            }
            _ => false,
        }
    };
    name.split(['.', '/']).all(segment_ok)
}

/// Whether `value` could be a `Sloppy` IP address (for "must be a DNS name, not an IP address").
pub fn is_ip(value: &str) -> bool {
    parse_ip_sloppy(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const QNAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const CM_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

    #[test]
    fn string_checks_table() {
        type Check = fn(&str) -> Vec<String>;
        let long64 = "a".repeat(64);
        let long254 = "a".repeat(254);
        let cases: Vec<(Check, &str, Vec<String>)> = vec![
            (is_dns1123_label, "my-name", vec![]),
            (is_dns1123_label, "123-abc", vec![]),
            (is_dns1123_label, "a.b", vec!["must not contain dots".into()]),
            (is_dns1123_label, "My", vec![LABEL_MSG.into()]),
            (is_dns1123_label, "-a", vec![LABEL_MSG.into()]),
            (is_dns1123_label, "", vec![LABEL_MSG.into()]),
            (is_dns1123_label, &long64, vec!["must be no more than 63 characters".into()]),
            (is_dns1123_subdomain, "example.com", vec![]),
            (is_dns1123_subdomain, "a..b", vec![SUBDOMAIN_MSG.into()]),
            (is_dns1123_subdomain, "A", vec![SUBDOMAIN_MSG.into()]),
            (is_dns1123_subdomain, &long254, vec!["must be no more than 253 characters".into()]),
            (is_dns1035_label, "abc-123", vec![]),
            (is_dns1035_label, "1abc", vec![DNS1035_MSG.into()]),
            (is_qualified_name, "app.kubernetes.io/name", vec![]),
            (is_qualified_name, "MyName", vec![]),
            (is_qualified_name, "bad key", vec![QNAME_MSG.into()]),
            (is_qualified_name, "/name", vec!["prefix part must be non-empty".into()]),
            (is_qualified_name, "a/", vec!["name part must be non-empty".into(), QNAME_MSG.into()]),
            (is_qualified_name, "Ex.com/a", vec![format!("prefix part {SUBDOMAIN_MSG}")]),
            (is_qualified_name, "a/b/c", vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into()]),
            (is_qualified_name, &long64, vec!["name part must be no more than 63 characters".into()]),
            (is_valid_label_value, "", vec![]),
            (is_valid_label_value, "v1.2_3", vec![]),
            (is_valid_label_value, "-x", vec![LABEL_VALUE_MSG.into()]),
            (is_valid_port_name, "http", vec![]),
            (is_valid_port_name, "8080", vec!["must contain at least one letter (a-z)".into()]),
            (is_valid_port_name, "a--b", vec!["must not contain consecutive hyphens".into()]),
            (is_valid_port_name, "Http", vec!["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into()]),
            (is_valid_port_name, "-http-", vec!["must not begin or end with a hyphen".into()]),
            (is_valid_port_name, "abcdefghijklmnop", vec!["must be no more than 15 characters".into()]),
            (is_config_map_key, "key.name", vec![]),
            (is_config_map_key, "a b", vec![CM_KEY_MSG.into()]),
            (is_config_map_key, "..a", vec!["must not start with '..'".into()]),
            (is_config_map_key, ".", vec!["must not be '.'".into()]),
            (is_relaxed_env_var_name, "1 a.b-c", vec![]),
            (is_relaxed_env_var_name, "A=B", vec!["a valid environment variable name must consist only of printable ASCII characters other than '='".into()]),
            (is_env_var_name, "1A", vec!["a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".into()]),
            (is_c_identifier, "_ok1", vec![]),
            (is_valid_percent, "25%", vec![]),
            (is_valid_percent, "25", vec!["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')".into()]),
            (is_http_header_name, "X-Header", vec![]),
            (is_wildcard_dns1123_subdomain, "*.example.com", vec![]),
            (is_valid_path_segment_name, "a/b%", vec!["may not contain '/'".into(), "may not contain '%'".into()]),
            (is_valid_path_segment_name, "..", vec!["may not be '..'".into()]),
        ];
        for (check, input, want) in cases {
            assert_eq!(check(input), want, "input {input:?}");
        }
    }

    #[test]
    fn ip_and_cidr() {
        let p = Path::new("ip");
        assert!(is_valid_ip(&p, "10.0.0.1").is_empty());
        assert!(
            is_valid_ip(&p, "010.000.0.1").is_empty(),
            "sloppy leading zeros"
        );
        assert!(is_valid_ip(&p, "2001:db8::1").is_empty());
        assert!(is_valid_ip(&p, "::ffff:1.2.3.4").is_empty());
        assert_eq!(
            is_valid_ip(&p, "1.2.3")
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec![
                r#"ip: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#
            ]
        );
        assert!(is_valid_ipv4_address(&p, "::ffff:1.2.3.4").is_empty());
        assert_eq!(
            is_valid_ipv6_address(&p, "1.2.3.4")[0].to_string(),
            r#"ip: Invalid value: "1.2.3.4": must be a valid IPv6 address"#
        );
        assert!(is_valid_cidr(&p, "10.0.0.0/8").is_empty());
        assert!(is_valid_cidr(&p, "2001:db8::/64").is_empty());
        assert_eq!(
            is_valid_cidr(&p, "10.0.0.0/33")[0].to_string(),
            r#"ip: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#
        );
    }

    #[test]
    fn names_with_prefix() {
        assert!(name_is_dns_subdomain("web-", true).is_empty());
        assert_eq!(
            name_is_dns_subdomain("web-", false),
            vec![SUBDOMAIN_MSG.to_owned()]
        );
        assert!(name_is_dns_label("-", true).is_empty());
        assert!(is_valid_sysctl_name("net.ipv4.ip_forward"));
        assert!(is_valid_sysctl_name("kernel/shm_rmid_forced"));
        assert!(!is_valid_sysctl_name("net..x"));
    }

    #[test]
    fn domain_prefixed_path() {
        let p = Path::new("spec").child("controller");
        assert!(is_domain_prefixed_path(&p, "example.com/ingress-controller").is_empty());
        assert_eq!(
            is_domain_prefixed_path(&p, "")[0].to_string(),
            "spec.controller: Required value"
        );
        assert_eq!(
            is_domain_prefixed_path(&p, "nginx")[0].to_string(),
            r#"spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")"#
        );
        assert_eq!(
            is_domain_prefixed_path(&p, "a.io/b c")[0].to_string(),
            r#"spec.controller: Invalid value: "b c": Invalid path (regex used for validation is '[A-Za-z0-9/\-._~%!$&'()*+,;=:]+')"#
        );
    }
}
