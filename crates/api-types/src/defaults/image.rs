//! The image-reference reading behind a container's default `imagePullPolicy`.
//!
//! Upstream normalizes the reference the way the Docker tooling does (`nginx` is
//! `docker.io/library/nginx`), then asks for its tag: the written tag, or `latest` when the
//! reference has neither tag nor digest. A tag of `latest` means `Always`; anything else — another
//! tag, a digest without a tag, or a reference that does not parse at all — means `IfNotPresent`.

use std::borrow::Cow;

/// The longest repository name (domain and path) a reference may have.
const NAME_MAX: usize = 255;

/// The pull policy upstream defaults for a container running `image`.
pub(super) fn default_pull_policy(image: &str) -> &'static str {
    if effective_tag(image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    }
}

/// The tag upstream reads from `image`: the written tag, `latest` for a reference with neither
/// tag nor digest, nothing for a digest-only reference or a reference that does not parse.
fn effective_tag(image: &str) -> Option<String> {
    let reference = parse(image)?;
    match (reference.tag, reference.has_digest) {
        (Some(tag), _) => Some(tag),
        (None, false) => Some("latest".to_owned()),
        (None, true) => None,
    }
}

/// The parts of a parsed reference that decide the pull policy.
struct Reference {
    tag: Option<String>,
    has_digest: bool,
}

/// Parses a reference the way upstream's normalizing parser does; `None` when it is invalid.
fn parse(image: &str) -> Option<Reference> {
    // A bare 64-hex-digit string would be an image ID, not a name.
    if image.len() == 64
        && image
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let (domain, remainder) = split_domain(image);
    // The repository path (up to the first `:`) must be lower case.
    let remote_name = remainder.split(':').next().unwrap_or_default();
    if remote_name.chars().any(char::is_uppercase) {
        return None;
    }

    // `remainder` is `path[:tag][@digest]`.
    let (name_and_tag, digest) = match remainder.split_once('@') {
        Some((before, after)) => (before, Some(after)),
        None => (&*remainder, None),
    };
    if digest.is_some_and(|digest| !valid_digest(digest)) {
        return None;
    }
    let last_component = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match name_and_tag[last_component..].split_once(':') {
        Some((_, tag)) => (
            &name_and_tag[..name_and_tag.len() - tag.len() - 1],
            Some(tag),
        ),
        None => (name_and_tag, None),
    };
    if tag.is_some_and(|tag| !valid_tag(tag)) {
        return None;
    }
    // The grammar makes the domain optional, so a first component that is no valid domain may
    // still pass as an ordinary path component.
    let domain_ok = valid_domain(domain) || valid_path_component(domain);
    if !domain_ok || !path.split('/').all(valid_path_component) {
        return None;
    }
    if domain.len() + 1 + path.len() > NAME_MAX {
        return None;
    }
    Some(Reference {
        tag: tag.map(str::to_owned),
        has_digest: digest.is_some(),
    })
}

/// Splits `image` into registry domain and the rest, filling in Docker Hub (`docker.io`, with
/// the `library/` prefix for single-component names) when the reference names no registry.
///
/// A first component counts as a registry when it contains `.` or `:`, is `localhost`, or has
/// upper-case letters (which a repository path may not).
fn split_domain(image: &str) -> (&str, Cow<'_, str>) {
    const HUB: &str = "docker.io";
    let explicit = image.split_once('/').filter(|(first, _)| {
        first.contains(['.', ':'])
            || *first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase())
    });
    let (domain, rest) = match explicit {
        Some(("index.docker.io", rest)) => (HUB, rest),
        Some((domain, rest)) => (domain, rest),
        None => (HUB, image),
    };
    if domain == HUB && !rest.contains('/') {
        (domain, Cow::Owned(format!("library/{rest}")))
    } else {
        (domain, Cow::Borrowed(rest))
    }
}

/// A path component: lower-case alphanumerics, joined by `.`, `_`, `__` or a run of `-`.
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__")
            || (!separator.is_empty() && separator.bytes().all(|b| b == b'-'));
        if !ok {
            return false;
        }
    }
    true
}

/// A registry domain: dot-separated host labels or a bracketed IPv6 address, then an optional
/// `:port`.
fn valid_domain(domain: &str) -> bool {
    let split = if domain.starts_with('[') {
        domain.find(']').map(|end| domain.split_at(end + 1))
    } else {
        Some(domain.split_at(domain.find(':').unwrap_or(domain.len())))
    };
    let Some((host, port)) = split else {
        return false;
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
        None => host.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        }),
    };
    port_ok && host_ok
}

/// A tag: a word character, then up to 127 word characters, `.` or `-`.
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes[1..]
            .iter()
            .all(|b| word(*b) || *b == b'.' || *b == b'-')
}

/// A digest upstream accepts: `sha256`, `sha384` or `sha512`, then that many lower-case hex
/// digits.
fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::default_pull_policy;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn latest_or_untagged_pulls_always() {
        for image in [
            "nginx",
            "nginx:latest",
            "library/nginx",
            "docker.io/nginx",
            "index.docker.io/library/nginx:latest",
            "registry.example.com:5000/team/app",
            "localhost/app:latest",
            "localhost:5000/app",
            "[::1]:5000/app:latest",
            "Registry.Example.com/app",
            "a_b.example.com/app",
            &format!("nginx:latest@{SHA}"),
        ] {
            assert_eq!(default_pull_policy(image), "Always", "{image}");
        }
    }

    #[test]
    fn other_tags_digests_and_garbage_pull_if_not_present() {
        for image in [
            "nginx:1.27",
            "nginx:Latest",
            "gcr.io/project/app:v1",
            "example.com:5000",
            &format!("nginx@{SHA}"),
            &format!("nginx:1.0@{SHA}"),
            // Unparsable references: upstream reads no tag from them.
            "",
            "NGINX",
            "nginx:",
            "nginx@sha256:abc",
            &format!("nginx:latest@sha1:{}", "a".repeat(40)),
            "nginx:-latest",
            "a..b",
            "/nginx",
            "nginx/",
            "-nginx",
            "example.com:port/app",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            &format!("{}/app", "a".repeat(260)),
        ] {
            assert_eq!(default_pull_policy(image), "IfNotPresent", "{image}");
        }
    }

    #[test]
    fn separators_follow_the_reference_grammar() {
        for image in ["a.b", "a_b", "a__b", "a---b", "a-b.c_d__e"] {
            assert_eq!(default_pull_policy(image), "Always", "{image}");
        }
        for image in ["a___b", "a._b", "a-_b", "a..b", "a_"] {
            assert_eq!(default_pull_policy(image), "IfNotPresent", "{image}");
        }
    }
}
