//! Ages and durations as kubectl prints them (apimachinery `pkg/util/duration`): `HumanDuration`
//! (two or three significant figures: `90s`, `5m30s`, `3h12m`, `2d5h`, `3y45d`) and
//! `ShortHumanDuration` (one unit: `90s` is `1m`).

use chrono::{DateTime, TimeDelta, Utc};

/// Upstream's `HumanDuration`, the format of every `Age`-like cell of server-side tables
/// (`5m30s`, `3h12m`, `2d5h`, `3y45d`).
///
/// Precision shrinks as the duration grows: seconds below two minutes, minutes and seconds
/// below ten minutes, minutes below three hours, hours and minutes below eight hours, hours
/// below two days, days and hours below eight days, days below two years, years and days below
/// eight years, then years. A duration down to one second below zero (clock skew between
/// machines) prints `0s`; anything more negative prints `<invalid>`.
pub fn human_duration(d: TimeDelta) -> String {
    // Whole seconds, truncated toward zero as Go's `int(d.Seconds())` is.
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            days => format!("{}y{days}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Upstream's `ShortHumanDuration`: the largest whole unit only (`59s`, `1m`, `23h`, `364d`,
/// `1y`), with the same tolerance of one second of negative clock skew as
/// [`human_duration`].
pub fn short_human_duration(d: TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 24 {
        return format!("{hours}h");
    }
    if hours < 24 * 365 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

/// `later - earlier` as Go's `Time.Sub` computes it: saturated to the range of a Go
/// `time.Duration` (about ±292 years of nanoseconds), so a timestamp centuries away prints
/// `292y` as upstream does rather than a larger figure.
pub(super) fn go_sub(later: DateTime<Utc>, earlier: DateTime<Utc>) -> TimeDelta {
    let d = later.signed_duration_since(earlier);
    match d.num_nanoseconds() {
        Some(_) => d,
        None if d > TimeDelta::zero() => TimeDelta::nanoseconds(i64::MAX),
        None => TimeDelta::nanoseconds(i64::MIN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: i64) -> TimeDelta {
        TimeDelta::seconds(s)
    }

    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;

    #[test]
    fn human_duration_keeps_two_or_three_significant_figures() {
        let cases = [
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "60s"),
            (119, "119s"),
            (2 * MINUTE, "2m"),
            (2 * MINUTE + 5, "2m5s"),
            (9 * MINUTE + 59, "9m59s"),
            (10 * MINUTE, "10m"),
            (10 * MINUTE + 59, "10m"),
            (179 * MINUTE, "179m"),
            (3 * HOUR, "3h"),
            (3 * HOUR + 4 * MINUTE, "3h4m"),
            (3 * HOUR + 4 * MINUTE + 59, "3h4m"),
            (7 * HOUR + 59 * MINUTE, "7h59m"),
            (8 * HOUR, "8h"),
            (8 * HOUR + 30 * MINUTE, "8h"),
            (47 * HOUR, "47h"),
            (2 * DAY, "2d"),
            (2 * DAY + 5 * HOUR, "2d5h"),
            (7 * DAY + 23 * HOUR, "7d23h"),
            (8 * DAY, "8d"),
            (729 * DAY, "729d"),
            (2 * YEAR, "2y"),
            (3 * YEAR, "3y"),
            (3 * YEAR + 45 * DAY, "3y45d"),
            (7 * YEAR + 364 * DAY, "7y364d"),
            (8 * YEAR, "8y"),
            (8 * YEAR + 200 * DAY, "8y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human_duration(secs(seconds)), want, "{seconds}s");
        }
    }

    #[test]
    fn short_human_duration_keeps_the_largest_unit() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (60, "1m"),
            (2 * MINUTE + 5, "2m"),
            (59 * MINUTE + 59, "59m"),
            (3 * HOUR + 4 * MINUTE, "3h"),
            (23 * HOUR, "23h"),
            (2 * DAY + 5 * HOUR, "2d"),
            (364 * DAY, "364d"),
            (YEAR, "1y"),
            (3 * YEAR + 45 * DAY, "3y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(short_human_duration(secs(seconds)), want, "{seconds}s");
        }
    }

    #[test]
    fn one_second_of_clock_skew_is_zero_and_more_is_invalid() {
        for f in [human_duration, short_human_duration] {
            assert_eq!(f(TimeDelta::milliseconds(-500)), "0s");
            assert_eq!(f(secs(-1)), "0s");
            assert_eq!(f(TimeDelta::milliseconds(-1999)), "0s");
            assert_eq!(f(secs(-2)), "<invalid>");
            assert_eq!(f(secs(-3 * DAY)), "<invalid>");
        }
    }

    #[test]
    fn fractions_of_a_second_are_truncated() {
        assert_eq!(human_duration(TimeDelta::milliseconds(59_999)), "59s");
        assert_eq!(human_duration(TimeDelta::milliseconds(120_999)), "2m");
        assert_eq!(short_human_duration(TimeDelta::milliseconds(59_999)), "59s");
    }

    #[test]
    fn go_sub_saturates_at_the_go_duration_range() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let ancient = DateTime::parse_from_rfc3339("1500-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(human_duration(go_sub(now, ancient)), "292y");
        assert_eq!(human_duration(go_sub(ancient, now)), "<invalid>");
        assert_eq!(go_sub(now, now), TimeDelta::zero());
    }

    proptest! {
        #[test]
        fn durations_never_panic_and_are_never_empty(ns in any::<i64>()) {
            let d = TimeDelta::nanoseconds(ns);
            prop_assert!(!human_duration(d).is_empty());
            prop_assert!(!short_human_duration(d).is_empty());
        }

        #[test]
        fn human_duration_counts_plain_seconds_below_two_minutes(s in 0i64..120) {
            prop_assert_eq!(human_duration(secs(s)), format!("{s}s"));
        }
    }
}
