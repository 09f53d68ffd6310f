//! CronJob schedules, checked as upstream checks them: the standard parser of the Go library
//! `robfig/cron` v3 (five fields — minute, hour, day of month, month, day of week — or a
//! descriptor such as `@daily` and `@every 1h30m`), with that library's error messages.

/// Bounds and names of one schedule field.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// Go's `strconv.Atoi` error text for `s`.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            super::field::go_quote(s)
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            super::field::go_quote(s)
        )
    })
}

/// robfig's `mustParseInt`.
fn must_parse_int(expr: &str) -> Result<u64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(n.unsigned_abs())
}

fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    if let Some((_, v)) = bounds.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

/// robfig's `getRange`: `*`, `?`, `N`, `N-M`, each with an optional `/step`.
fn get_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (bounds.min, bounds.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], bounds)?;
        let end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// robfig's `getField`: comma-separated ranges (empty items are skipped).
fn get_field(field: &str, bounds: &Bounds) -> Result<(), String> {
    field
        .split(',')
        .filter(|r| !r.is_empty())
        .try_for_each(|r| get_range(r, bounds))
}

/// Go's `time.ParseDuration`, for its errors only.
fn parse_duration(orig: &str) -> Result<(), String> {
    let invalid = || format!("time: invalid duration {}", super::field::go_quote(orig));
    let mut s = orig.strip_prefix(['-', '+']).unwrap_or(orig);
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return Err(invalid());
    }
    // The magnitude in nanoseconds, to detect overflow as Go does (units up to hours).
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_len = 0;
        if s.starts_with('.') {
            s = &s[1..];
            frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            s = &s[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                super::field::go_quote(orig)
            ));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    super::field::go_quote(unit),
                    super::field::go_quote(orig)
                ));
            }
        };
        let v: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<u128>().map_err(|_| invalid())?
        };
        total = total.saturating_add(v.saturating_mul(nanos));
        if total > 1u128 << 63 {
            return Err(invalid());
        }
    }
    Ok(())
}

/// The error robfig's `ParseStandard` returns for `spec`, if any.
pub(crate) fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // The location itself cannot be checked without a time-zone database; the rest of the
        // schedule is. Upstream's parser panics (and reports it) when no space follows.
        let Some(i) = spec.find(' ') else {
            return Err(format!(
                "invalid schedule format: runtime error: slice bounds out of range [:-1] (schedule {spec})"
            ));
        };
        spec = spec[i..].trim();
    }
    if spec.starts_with('@') {
        return match spec {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight"
            | "@hourly" => Ok(()),
            _ => match spec.strip_prefix("@every ") {
                Some(d) => {
                    parse_duration(d).map_err(|e| format!("failed to parse duration {spec}: {e}"))
                }
                None => Err(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    get_field(fields[0], &MINUTES)?;
    get_field(fields[1], &HOURS)?;
    get_field(fields[2], &DOM)?;
    get_field(fields[3], &MONTHS)?;
    get_field(fields[4], &DOW)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_standard;

    #[test]
    fn schedules_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("*/5 * * * *", None),
            ("0 0 1 jan-dec mon", None),
            ("@hourly", None),
            ("@every 1h30m", None),
            ("TZ=UTC 0 * * * *", None),
            ("1,,2 * * * ?", None),
            ("", Some("empty spec string")),
            (
                "* * * *",
                Some("expected exactly 5 fields, found 4: [* * * *]"),
            ),
            (
                "60 * * * *",
                Some("end of range (60) above maximum (59): 60"),
            ),
            (
                "* * 0 * *",
                Some("beginning of range (0) below minimum (1): 0"),
            ),
            ("* * * * 7", Some("end of range (7) above maximum (6): 7")),
            (
                "5-1 * * * *",
                Some("beginning of range (5) beyond end of range (1): 5-1"),
            ),
            (
                "*/0 * * * *",
                Some("step of range should be a positive number: */0"),
            ),
            ("1-2-3 * * * *", Some("too many hyphens: 1-2-3")),
            ("*/2/3 * * * *", Some("too many slashes: */2/3")),
            (
                "x * * * *",
                Some("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ),
            ("@often", Some("unrecognized descriptor: @often")),
            (
                "@every 5",
                Some("failed to parse duration @every 5: time: missing unit in duration \"5\""),
            ),
            (
                "@every 5y",
                Some(
                    "failed to parse duration @every 5y: time: unknown unit \"y\" in duration \"5y\"",
                ),
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(
                parse_standard(spec).err().as_deref(),
                *want,
                "schedule {spec:?}"
            );
        }
    }
}
