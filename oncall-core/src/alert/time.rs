//! Times in alerts.
//!
//! Structured alerts carry RFC 3339 times (`startsAt`, `endsAt`); Go's zero time
//! `0001-01-01T00:00:00Z` means "not set".
//!
//! Free text is scanned once, left to right, by hand (no regex), for:
//!
//! * **absolute date-times** — `2026-11-24 10:32:05`, `2026/11/24 10:32`,
//!   `2026-11-24T10:32:05.123Z`, `2026年11月24日 10:32`, with an optional zone right
//!   after: `Z`, `+08:00`, `+0800`, `-05`, `UTC`, `GMT`, `UTC+8`, `GMT+08:00`, `(UTC+8)`,
//!   `CST`, or `北京时间` right before or after (`（北京时间）`). Confidence 0.9 with
//!   a zone, 0.8 without.
//! * **clock times** — `10:32`, `10:32:05`, `9:05 pm`, zone as above. On a date
//!   written elsewhere in the text when there is one (`10:05 UTC on 2023-01-29`,
//!   `2023/01/29, 10:05`, `1月29日 10:05`, `Jan 29 10:05`, `29 Jan 2023 10:05`,
//!   `昨天 10:05`, `前天`, `今天`, `yesterday`, `today`; a month and day without a
//!   year is the latest such day not in the future): confidence as an absolute
//!   time. Otherwise today in that zone, or yesterday if today's would lie more than
//!   [`FUTURE_TOLERANCE_SECS`] in the future; confidence 0.75. `北京时间` anywhere in
//!   the text is the zone of a clock time written without one.
//! * **relative times** — `5 分钟前`, `5分钟之前`, `半小时前`, `两小时前`, `3 天前`, `刚刚`,
//!   `刚才`, `5 minutes ago`, `5m ago`, `an hour ago`, `half an hour ago`, `just now`.
//!   Confidence 0.7.
//!
//! The first absolute date-time wins; failing that the first clock time; failing that
//! the first relative time.
//!
//! **Zones.** A time with no zone is taken as **UTC** (the server's clocks, Prometheus
//! and Alertmanager all speak UTC). `CST` is read as **China Standard Time (UTC+8)** —
//! the product's users are mostly in China and the US Central zone writes itself
//! `CDT`/`CST` far less in alert text; the ambiguity lowers its confidence to 0.8.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde_json::Value;

use crate::error::{Error, Result};

/// How far in the future a bare clock time may be before it is read as yesterday
/// (clocks of the sender and the server differ by a little).
pub const FUTURE_TOLERANCE_SECS: i64 = 300;

/// Relative times further back than this are ignored.
const MAX_RELATIVE_SECS: f64 = 30.0 * 86_400.0;

/// China Standard Time, seconds east of UTC.
const CHINA_OFFSET: i32 = 8 * 3600;

/// A time found in text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FoundTime {
    /// The instant, in UTC.
    pub at: DateTime<Utc>,
    /// How sure the scanner is.
    pub confidence: f64,
}

/// Reads an RFC 3339 time field of a structured alert. Missing, `null`, `""` and
/// Go's zero time give `None`; anything else that is not RFC 3339 is an error.
pub(crate) fn structured_time(field: &str, value: Option<&Value>) -> Result<Option<DateTime<Utc>>> {
    let s = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(other) => {
            return Err(Error::invalid(
                field,
                format!("must be an RFC 3339 time string, got {}", json_kind(other)),
            ));
        }
    };
    if s.is_empty() {
        return Ok(None);
    }
    let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
        Error::invalid(
            field,
            format!("`{}` is not an RFC 3339 time: {e}", truncate(s, 64)),
        )
    })?;
    let t = t.with_timezone(&Utc);
    // Go's zero time (year 1) means "unset".
    if t.year() <= 1 {
        return Ok(None);
    }
    Ok(Some(t))
}

/// The kind of a JSON value, for error messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Finds the time a free-text alert speaks of (see the module doc).
pub(crate) fn find_time(text: &str, now: DateTime<Utc>) -> Option<FoundTime> {
    let b = text.as_bytes();
    let mut clock: Option<Clock> = None;
    let mut date: Option<DatePart> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !is_word_byte(b[i - 1])) {
            if let Some(t) = absolute_at(text, i) {
                return Some(t);
            }
            if clock.is_none() {
                clock = clock_at(text, i);
            }
            if date.is_none() {
                date = date_at(text, i);
            }
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    let Some(mut clock) = clock else {
        return relative(text, now);
    };
    if clock.zone.is_none() && text.contains("北京时间") {
        clock.zone = Some((CHINA_OFFSET, 0.9));
    }
    let date = date
        .or_else(|| month_name_date(text))
        .or_else(|| day_word(text));
    Some(match date {
        Some(d) => clock.on(d, now)?,
        None => clock.today_or_yesterday(now)?,
    })
}

/// A clock time found in text, with the zone written next to it.
#[derive(Debug, Clone, Copy)]
struct Clock {
    time: NaiveTime,
    zone: Option<(i32, f64)>,
}

/// A date written apart from the clock time (`10:05 UTC on 2023-01-29`,
/// `Jan 29 10:05`, `昨天 10:05`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum DatePart {
    /// A full date.
    Full(NaiveDate),
    /// Month and day: the latest such day that is not in the future.
    MonthDay(u32, u32),
    /// Days before today (`昨天` = 1, `前天` = 2, `today` = 0).
    DaysAgo(i64),
}

impl Clock {
    /// Seconds east of UTC (UTC when no zone was written).
    fn offset(&self) -> Duration {
        Duration::seconds(i64::from(self.zone.map_or(0, |z| z.0)))
    }

    /// Today in its zone, or yesterday when today's would lie more than
    /// [`FUTURE_TOLERANCE_SECS`] ahead of `now`. Confidence 0.75.
    fn today_or_yesterday(&self, now: DateTime<Utc>) -> Option<FoundTime> {
        let shift = self.offset();
        let local_today = (now + shift).date_naive();
        let mut at = Utc.from_utc_datetime(&local_today.and_time(self.time)) - shift;
        if at > now + Duration::seconds(FUTURE_TOLERANCE_SECS) {
            at -= Duration::days(1);
        }
        Some(FoundTime {
            at,
            confidence: 0.75,
        })
    }

    /// On a date written elsewhere in the text. Confidence as an absolute time:
    /// 0.9 with a zone, 0.8 without (or with `CST`).
    fn on(&self, date: DatePart, now: DateTime<Utc>) -> Option<FoundTime> {
        let shift = self.offset();
        let local_now = (now + shift).naive_utc();
        let day = match date {
            DatePart::Full(d) => d,
            DatePart::DaysAgo(n) => local_now.date() - Duration::days(n),
            DatePart::MonthDay(m, d) => {
                let y = local_now.year();
                match NaiveDate::from_ymd_opt(y, m, d) {
                    Some(this_year)
                        if this_year.and_time(self.time)
                            <= local_now + Duration::seconds(FUTURE_TOLERANCE_SECS) =>
                    {
                        this_year
                    }
                    _ => NaiveDate::from_ymd_opt(y - 1, m, d)?,
                }
            }
        };
        Some(FoundTime {
            at: Utc.from_utc_datetime(&day.and_time(self.time)) - shift,
            confidence: self.zone.map_or(0.8, |z| z.1),
        })
    }
}

/// A date alone at `i`: `2023-01-29`, `2023/01/29`, `2023年1月29日`, `1月29日`.
fn date_at(text: &str, i: usize) -> Option<DatePart> {
    let b = text.as_bytes();
    let (first, j) = digits(b, i, 1, 4)?;
    if j - i == 4 {
        if let Some(&sep @ (b'-' | b'/')) = b.get(j) {
            let (mo, k) = digits(b, j + 1, 1, 2)?;
            if b.get(k) != Some(&sep) {
                return None;
            }
            let (d, k) = digits(b, k + 1, 1, 2)?;
            // `2023-01-29-x` or `2023/01/29/...` is an identifier or a path.
            if b.get(k)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == sep)
            {
                return None;
            }
            return NaiveDate::from_ymd_opt(i32::try_from(first).ok()?, mo, d).map(DatePart::Full);
        }
        let k = eat(text, j, "年")?;
        let (mo, k) = digits(b, k, 1, 2)?;
        let k = eat(text, k, "月")?;
        let (d, k) = digits(b, k, 1, 2)?;
        eat(text, k, "日").or_else(|| eat(text, k, "号"))?;
        return NaiveDate::from_ymd_opt(i32::try_from(first).ok()?, mo, d).map(DatePart::Full);
    }
    if j - i > 2 {
        return None;
    }
    let k = eat(text, j, "月")?;
    let (d, k) = digits(b, k, 1, 2)?;
    eat(text, k, "日").or_else(|| eat(text, k, "号"))?;
    // Checked against a leap year so that `2月29日` is a date.
    NaiveDate::from_ymd_opt(2024, first, d)?;
    Some(DatePart::MonthDay(first, d))
}

const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("sept", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
];

/// The first `Jan 29`, `January 29, 2023`, `29 Jan 2023` in the text.
fn month_name_date(text: &str) -> Option<DatePart> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = text[start..i].to_ascii_lowercase();
        let word = word.strip_suffix('.').unwrap_or(&word);
        let Some(&(_, month)) = MONTHS.iter().find(|(name, _)| *name == word) else {
            continue;
        };
        // `may` is a verb far more often than a month.
        if word == "may" && b[start] == b'm' {
            continue;
        }
        let month_end = if b.get(i) == Some(&b'.') { i + 1 } else { i };
        // Month first: `Jan 29`, `Jan 29th`, `Jan 29, 2023`.
        if let Some(d) = day_number(b, month_end) {
            if let Some(y) = year_after(b, d.1) {
                return NaiveDate::from_ymd_opt(y, month, d.0).map(DatePart::Full);
            }
            if NaiveDate::from_ymd_opt(2024, month, d.0).is_some() {
                return Some(DatePart::MonthDay(month, d.0));
            }
        }
        // Day first: `29 Jan`, `29 Jan 2023`.
        let head = text[..start].trim_end_matches(' ');
        if head.len() < start {
            let n = head.bytes().rev().take_while(u8::is_ascii_digit).count();
            let before_ok = head.len() == n || !is_word_byte(head.as_bytes()[head.len() - n - 1]);
            if (1..=2).contains(&n) && before_ok {
                if let Ok(day) = head[head.len() - n..].parse::<u32>() {
                    if let Some(y) = year_after(b, month_end) {
                        return NaiveDate::from_ymd_opt(y, month, day).map(DatePart::Full);
                    }
                    if NaiveDate::from_ymd_opt(2024, month, day).is_some() {
                        return Some(DatePart::MonthDay(month, day));
                    }
                }
            }
        }
    }
    None
}

/// ` 29`, ` 29th` after a month name ending at `i`: (day, end). A number followed
/// by `:` is a clock time, not a day.
fn day_number(b: &[u8], i: usize) -> Option<(u32, usize)> {
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let (d, mut j) = digits(b, i + 1, 1, 2)?;
    if b.get(j) == Some(&b':') {
        return None;
    }
    for suffix in [b"st", b"nd", b"rd", b"th"] {
        if b.get(j..j + 2)
            .is_some_and(|s| s.eq_ignore_ascii_case(suffix))
        {
            j += 2;
            break;
        }
    }
    if b.get(j).is_some_and(u8::is_ascii_alphanumeric) || !(1..=31).contains(&d) {
        return None;
    }
    Some((d, j))
}

/// `, 2023` or ` 2023` right after `i` (not a clock time such as ` 10:05`).
fn year_after(b: &[u8], i: usize) -> Option<i32> {
    let mut j = i;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    let (y, k) = digits(b, j + 1, 4, 4)?;
    if b.get(k)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b':')
    {
        return None;
    }
    i32::try_from(y).ok()
}

/// `昨天`, `前天`, `今天`, `yesterday`, `today`: the first one.
fn day_word(text: &str) -> Option<DatePart> {
    let mut best: Option<(usize, i64)> = None;
    let mut consider = |pos: Option<usize>, n: i64| {
        if let Some(p) = pos
            && best.is_none_or(|(bp, _)| p < bp)
        {
            best = Some((p, n));
        }
    };
    consider(text.find("昨天"), 1);
    consider(text.find("昨日"), 1);
    consider(text.find("前天"), 2);
    consider(text.find("今天"), 0);
    consider(text.find("今日"), 0);
    consider(find_ascii_ci(text, b"yesterday", 0), 1);
    consider(find_ascii_ci(text, b"today", 0), 0);
    best.map(|(_, n)| DatePart::DaysAgo(n))
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b':' || c == b'_'
}

/// Reads 1..=max ASCII digits at `i`: (value, end).
fn digits(b: &[u8], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    let mut j = i;
    while j < b.len() && j - i < max && b[j].is_ascii_digit() {
        v = v * 10 + u32::from(b[j] - b'0');
        j += 1;
    }
    if j - i < min || (j < b.len() && b[j].is_ascii_digit()) {
        return None;
    }
    Some((v, j))
}

/// `HH:MM[:SS[.frac]]` at `i`: (time, end).
fn hms_at(b: &[u8], i: usize) -> Option<(NaiveTime, usize)> {
    let (h, j) = digits(b, i, 1, 2)?;
    if b.get(j) != Some(&b':') {
        return None;
    }
    let (m, mut j) = digits(b, j + 1, 2, 2)?;
    let mut s = 0;
    let mut nanos = 0;
    if b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        let (sv, k) = digits(b, j + 1, 2, 2)?;
        s = sv;
        j = k;
        if matches!(b.get(j), Some(b'.') | Some(b','))
            && b.get(j + 1).is_some_and(u8::is_ascii_digit)
        {
            let start = j + 1;
            let mut k = start;
            while k < b.len() && b[k].is_ascii_digit() {
                if k - start < 9 {
                    nanos = nanos * 10 + u32::from(b[k] - b'0');
                }
                k += 1;
            }
            for _ in (k - start).min(9)..9 {
                nanos *= 10;
            }
            j = k;
        }
    }
    // `10:32:05:17` or `1:23:456` are not times.
    if b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if b.get(j).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = NaiveTime::from_hms_nano_opt(h, m, s.min(59), nanos)?;
    Some((t, j))
}

/// An absolute date-time starting at `i`.
fn absolute_at(text: &str, i: usize) -> Option<FoundTime> {
    let b = text.as_bytes();
    let (y, j) = digits(b, i, 4, 4)?;
    let (mo, d, mut j, chinese) = match b.get(j) {
        Some(&sep @ (b'-' | b'/' | b'.')) => {
            let (mo, k) = digits(b, j + 1, 1, 2)?;
            if b.get(k) != Some(&sep) {
                return None;
            }
            let (d, k) = digits(b, k + 1, 1, 2)?;
            (mo, d, k, false)
        }
        _ => {
            let k = eat(text, j, "年")?;
            let (mo, k) = digits(b, k, 1, 2)?;
            let k = eat(text, k, "月")?;
            let (d, k) = digits(b, k, 1, 2)?;
            let k = eat(text, k, "日").or_else(|| eat(text, k, "号"))?;
            (mo, d, k, true)
        }
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    // Separator between date and time.
    if b.get(j) == Some(&b'T') || b.get(j) == Some(&b't') {
        j += 1;
    } else {
        let start = j;
        while j < b.len() && b[j] == b' ' && j - start < 3 {
            j += 1;
        }
        if j == start && !chinese {
            return None;
        }
    }
    let (time, end) = hms_at(b, j)?;
    let (offset, conf) = zone_around(text, i, end).unwrap_or((0, 0.8));
    let naive = date.and_time(time);
    let at = Utc.from_utc_datetime(&naive) - Duration::seconds(i64::from(offset));
    Some(FoundTime {
        at,
        confidence: conf,
    })
}

fn eat(text: &str, i: usize, word: &str) -> Option<usize> {
    text.get(i..)
        .filter(|rest| rest.starts_with(word))
        .map(|_| i + word.len())
}

/// A bare clock time at `i`, with the zone written next to it.
fn clock_at(text: &str, i: usize) -> Option<Clock> {
    let b = text.as_bytes();
    let (mut time, mut end) = hms_at(b, i)?;
    // `9:05 pm`
    let mut k = end;
    if b.get(k) == Some(&b' ') {
        k += 1;
    }
    if let Some(ampm) = b.get(k..k + 2) {
        let after_ok = b.get(k + 2).is_none_or(|c| !c.is_ascii_alphanumeric());
        if after_ok && ampm.eq_ignore_ascii_case(b"pm") {
            if time < NaiveTime::from_hms_opt(12, 0, 0)? {
                time += Duration::hours(12);
            }
            end = k + 2;
        } else if after_ok && ampm.eq_ignore_ascii_case(b"am") {
            if time >= NaiveTime::from_hms_opt(12, 0, 0)? {
                time -= Duration::hours(12);
            }
            end = k + 2;
        }
    }
    Some(Clock {
        time,
        zone: zone_around(text, i, end),
    })
}

/// The zone written right after a time ending at `end` (or `北京时间` right before
/// the time starting at `start`): (seconds east of UTC, confidence).
fn zone_around(text: &str, start: usize, end: usize) -> Option<(i32, f64)> {
    if let Some(z) = zone_after(text, end) {
        return Some(z);
    }
    let before = text.get(..start)?.trim_end_matches([' ', ':', '：']);
    if before.ends_with("北京时间") {
        return Some((CHINA_OFFSET, 0.9));
    }
    None
}

fn zone_after(text: &str, end: usize) -> Option<(i32, f64)> {
    let b = text.as_bytes();
    let mut j = end;
    let spaced = b.get(j) == Some(&b' ');
    if spaced {
        j += 1;
    }
    if b.get(j) == Some(&b'(') {
        j += 1;
    } else if text.get(j..).is_some_and(|r| r.starts_with('（')) {
        j += '（'.len_utf8();
    }
    if text.get(j..).is_some_and(|r| r.starts_with("北京时间")) {
        return Some((CHINA_OFFSET, 0.9));
    }
    let boundary = |k: usize| b.get(k).is_none_or(|c| !c.is_ascii_alphanumeric());
    match b.get(j) {
        Some(b'Z') if !spaced && boundary(j + 1) => Some((0, 0.9)),
        Some(b'+' | b'-') => {
            let (off, k) = offset_at(b, j)?;
            // After a space only the unmistakable `+0800` / `+08:00` forms count.
            if spaced && k - j < 5 {
                return None;
            }
            Some((off, 0.9))
        }
        Some(_) => {
            let word = b.get(j..j + 3)?;
            if !boundary(j + 3) && !matches!(b.get(j + 3), Some(b'+' | b'-')) {
                return None;
            }
            if word.eq_ignore_ascii_case(b"utc") || word.eq_ignore_ascii_case(b"gmt") {
                if matches!(b.get(j + 3), Some(b'+' | b'-')) {
                    let (off, _) = offset_at(b, j + 3)?;
                    return Some((off, 0.9));
                }
                return Some((0, 0.9));
            }
            if word.eq_ignore_ascii_case(b"cst") {
                return Some((CHINA_OFFSET, 0.8));
            }
            None
        }
        None => None,
    }
}

/// `+8`, `+08`, `+0800`, `+08:00` at `j` (which holds the sign).
fn offset_at(b: &[u8], j: usize) -> Option<(i32, usize)> {
    let sign = if b.get(j) == Some(&b'-') { -1 } else { 1 };
    let start = j + 1;
    let mut k = start;
    while k < b.len() && b[k].is_ascii_digit() && k - start < 4 {
        k += 1;
    }
    let n = k - start;
    let num = |from: usize, to: usize| -> i32 {
        b[from..to]
            .iter()
            .fold(0, |acc, &c| acc * 10 + i32::from(c - b'0'))
    };
    let (h, m, mut end) = match n {
        1 | 2 => (num(start, k), 0, k),
        4 => (num(start, start + 2), num(start + 2, k), k),
        _ => return None,
    };
    let mut m = m;
    if n <= 2 && b.get(end) == Some(&b':') {
        let (mm, e) = digits(b, end + 1, 2, 2)?;
        m = i32::try_from(mm).ok()?;
        end = e;
    }
    if h > 14 || m > 59 || b.get(end).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((sign * (h * 3600 + m * 60), end))
}

/// The first relative time in the text.
fn relative(text: &str, now: DateTime<Utc>) -> Option<FoundTime> {
    let mut best: Option<(usize, f64)> = None;
    let mut consider = |pos: usize, secs: f64| {
        if (0.0..=MAX_RELATIVE_SECS).contains(&secs) && best.is_none_or(|(p, _)| pos < p) {
            best = Some((pos, secs));
        }
    };
    for word in ["刚刚", "刚才"] {
        if let Some(pos) = text.find(word) {
            consider(pos, 0.0);
        }
    }
    if let Some(pos) = find_ascii_ci(text, b"just now", 0) {
        consider(pos, 0.0);
    }
    if let Some((pos, secs)) = chinese_ago(text) {
        consider(pos, secs);
    }
    if let Some((pos, secs)) = english_ago(text) {
        consider(pos, secs);
    }
    let (_, secs) = best?;
    // Whole seconds; relative times are never that precise anyway.
    let secs = secs.round() as i64;
    Some(FoundTime {
        at: now - Duration::seconds(secs),
        confidence: 0.7,
    })
}

/// Case-insensitive ASCII search from `from`, at a word boundary on both sides.
fn find_ascii_ci(text: &str, needle: &[u8], from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let n = needle.len();
    let mut i = from;
    while i + n <= b.len() {
        if b[i..i + n].eq_ignore_ascii_case(needle)
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + n).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

const CHINESE_UNITS: &[(&str, f64)] = &[
    ("个小时", 3600.0),
    ("个钟头", 3600.0),
    ("小时", 3600.0),
    ("钟头", 3600.0),
    ("分钟", 60.0),
    ("秒钟", 1.0),
    ("天", 86_400.0),
    ("分", 60.0),
    ("秒", 1.0),
];

/// `5 分钟前`, `半小时前`, `两个小时之前`: (position, seconds back) of the first one.
fn chinese_ago(text: &str) -> Option<(usize, f64)> {
    for (pos, _) in text.match_indices('前') {
        let head = &text[..pos];
        let head = head
            .strip_suffix('之')
            .or_else(|| head.strip_suffix('以'))
            .unwrap_or(head)
            .trim_end();
        let Some((unit_secs, head)) = CHINESE_UNITS
            .iter()
            .find_map(|(u, s)| head.strip_suffix(u).map(|h| (*s, h.trim_end())))
        else {
            continue;
        };
        if let Some((n, start)) = trailing_number(head) {
            return Some((start, n * unit_secs));
        }
    }
    None
}

/// A number at the end of `head`: ASCII digits or Chinese numerals (`五`, `十五`,
/// `两`, `半`): (value, byte position where it starts).
fn trailing_number(head: &str) -> Option<(f64, usize)> {
    let ascii = head.bytes().rev().take_while(u8::is_ascii_digit).count();
    if ascii > 0 {
        let start = head.len() - ascii;
        if ascii > 6 {
            return None;
        }
        return head[start..].parse::<f64>().ok().map(|n| (n, start));
    }
    let mut start = head.len();
    for (i, c) in head.char_indices().rev() {
        if "零一二两三四五六七八九十半".contains(c) {
            start = i;
        } else {
            break;
        }
    }
    let word = &head[start..];
    if word.is_empty() || word.chars().count() > 4 {
        return None;
    }
    chinese_numeral(word).map(|n| (n, start))
}

fn chinese_numeral(word: &str) -> Option<f64> {
    if word == "半" {
        return Some(0.5);
    }
    let digit = |c: char| -> Option<f64> {
        Some(match c {
            '零' => 0.0,
            '一' => 1.0,
            '二' | '两' => 2.0,
            '三' => 3.0,
            '四' => 4.0,
            '五' => 5.0,
            '六' => 6.0,
            '七' => 7.0,
            '八' => 8.0,
            '九' => 9.0,
            _ => return None,
        })
    };
    let chars: Vec<char> = word.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10.0),
        [c] => digit(*c),
        ['十', u] => Some(10.0 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10.0),
        [t, '十', u] => Some(digit(*t)? * 10.0 + digit(*u)?),
        _ => None,
    }
}

/// `5 minutes ago`, `5m ago`, `an hour ago`, `half an hour ago`.
fn english_ago(text: &str) -> Option<(usize, f64)> {
    let mut from = 0;
    while let Some(pos) = find_ascii_ci(text, b"ago", from) {
        from = pos + 3;
        let head = text[..pos].trim_end();
        let unit_len = head
            .bytes()
            .rev()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let unit = head[head.len() - unit_len..].to_ascii_lowercase();
        let unit_secs = match unit.as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            _ => continue,
        };
        let rest = &head[..head.len() - unit_len];
        let joined = !rest.ends_with(' ');
        let rest = rest.trim_end();
        let digits_len = rest.bytes().rev().take_while(u8::is_ascii_digit).count();
        if digits_len > 0 {
            if digits_len > 6 {
                continue;
            }
            let start = rest.len() - digits_len;
            if let Ok(n) = rest[start..].parse::<f64>() {
                return Some((start, n * unit_secs));
            }
            continue;
        }
        if joined {
            continue;
        }
        let word_len = rest
            .bytes()
            .rev()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let start = rest.len() - word_len;
        let word = rest[start..].to_ascii_lowercase();
        let n = match word.as_str() {
            "a" | "an" | "one" => 1.0,
            "two" | "couple" => 2.0,
            "three" => 3.0,
            "four" => 4.0,
            "five" => 5.0,
            "ten" => 10.0,
            "fifteen" => 15.0,
            "twenty" => 20.0,
            "thirty" => 30.0,
            "few" => 3.0,
            _ => continue,
        };
        let before = rest[..start].trim_end();
        if word == "an" && before.to_ascii_lowercase().ends_with("half") && unit_secs == 3600.0 {
            return Some((before.len() - 4, 1800.0));
        }
        return Some((start, n * unit_secs));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn at(text: &str) -> Option<(DateTime<Utc>, f64)> {
        find_time(text, now()).map(|f| (f.at, f.confidence))
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn structured_times() {
        let v = Value::String("2023-01-29T08:44:04Z".into());
        assert_eq!(
            structured_time("startsAt", Some(&v)).unwrap(),
            Some(utc(2023, 1, 29, 8, 44, 4))
        );
        let v = Value::String("2021-10-12T09:51:03.157076+02:00".into());
        let t = structured_time("startsAt", Some(&v)).unwrap().unwrap();
        assert_eq!(t.timestamp(), utc(2021, 10, 12, 7, 51, 3).timestamp());
        let zero = Value::String("0001-01-01T00:00:00Z".into());
        assert_eq!(structured_time("endsAt", Some(&zero)).unwrap(), None);
        assert_eq!(structured_time("endsAt", None).unwrap(), None);
        let bad = Value::String("yesterday".into());
        let e = structured_time("alerts[0].startsAt", Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("alerts[0].startsAt"), "{e}");
        assert!(structured_time("startsAt", Some(&Value::from(12))).is_err());
    }

    #[test]
    fn absolute_times_naive_are_utc() {
        assert_eq!(
            at("告警时间 2026-11-24 10:32:05 CPU 过高"),
            Some((utc(2026, 11, 24, 10, 32, 5), 0.8))
        );
        assert_eq!(
            at("at 2026/11/24 10:32 on web-1"),
            Some((utc(2026, 11, 24, 10, 32, 0), 0.8))
        );
        assert_eq!(
            at("2026年11月24日 10:32 支付服务异常"),
            Some((utc(2026, 11, 24, 10, 32, 0), 0.8))
        );
    }

    #[test]
    fn absolute_times_with_zones() {
        let want = utc(2026, 11, 24, 2, 32, 5);
        for text in [
            "2026-11-24T10:32:05+08:00 payment down",
            "2026-11-24 10:32:05 +0800 payment down",
            "2026-11-24 10:32:05 UTC+8 payment down",
            "2026-11-24 10:32:05 (UTC+8)",
            "2026-11-24 10:32:05 GMT+08:00",
            "北京时间 2026-11-24 10:32:05",
            "开始时间：2026-11-24 10:32:05（北京时间）",
            "2026-11-24 10:32:05 北京时间",
            "2026-11-24T02:32:05Z",
            "2026-11-24T02:32:05.000Z",
            "2026-11-24 02:32:05 UTC",
        ] {
            assert_eq!(at(text), Some((want, 0.9)), "{text}");
        }
        assert_eq!(at("2026-11-24 10:32:05 CST"), Some((want, 0.8)));
        assert_eq!(
            at("2026-11-24T05:32:05-05:00"),
            Some((utc(2026, 11, 24, 10, 32, 5), 0.9))
        );
    }

    #[test]
    fn absolute_wins_over_earlier_clock_and_relative() {
        assert_eq!(
            at("5 minutes ago, at 10:00, since 2026-11-23 08:00:00Z"),
            Some((utc(2026, 11, 23, 8, 0, 0), 0.9))
        );
    }

    #[test]
    fn clock_times_today_or_yesterday() {
        assert_eq!(
            at("since 10:32 errors"),
            Some((utc(2026, 11, 24, 10, 32, 0), 0.75))
        );
        // 13:00 would be in the future: yesterday.
        assert_eq!(at("since 13:00"), Some((utc(2026, 11, 23, 13, 0, 0), 0.75)));
        // A few minutes ahead is clock skew, not yesterday.
        assert_eq!(at("12:03 告警"), Some((utc(2026, 11, 24, 12, 3, 0), 0.75)));
        assert_eq!(at("at 9:05 am"), Some((utc(2026, 11, 24, 9, 5, 0), 0.75)));
        assert_eq!(at("at 1:05 pm"), Some((utc(2026, 11, 23, 13, 5, 0), 0.75)));
        // 18:30 in UTC+8 is 10:30 UTC.
        assert_eq!(
            at("18:30 CST 支付失败"),
            Some((utc(2026, 11, 24, 10, 30, 0), 0.75))
        );
    }

    #[test]
    fn clock_times_on_a_date_written_apart() {
        let jan29 = |h, m| utc(2023, 1, 29, h, m, 0);
        assert_eq!(
            at("ts-ui-dashboard SLO degraded since 10:05 UTC on 2023-01-29"),
            Some((jan29(10, 5), 0.9))
        );
        assert_eq!(at("on 2023/01/29, 10:05 errors"), Some((jan29(10, 5), 0.8)));
        assert_eq!(
            at("2023年1月29日，18:05 北京时间"),
            Some((jan29(10, 5), 0.9))
        );
        assert_eq!(at("Jan 29 2023 10:05 +08:00"), Some((jan29(2, 5), 0.9)));
        assert_eq!(
            at("since January 29th, 2023 at 10:05"),
            Some((jan29(10, 5), 0.8))
        );
        assert_eq!(at("29 Jan 2023 10:05 UTC"), Some((jan29(10, 5), 0.9)));
        // No year: the latest such day not in the future (now is 2026-11-24 12:00).
        assert_eq!(at("Jan 29 10:05"), Some((utc(2026, 1, 29, 10, 5, 0), 0.8)));
        assert_eq!(at("Dec 24 10:05"), Some((utc(2025, 12, 24, 10, 5, 0), 0.8)));
        assert_eq!(
            at("11月24日 10:05"),
            Some((utc(2026, 11, 24, 10, 5, 0), 0.8))
        );
        // Day words, in the clock's zone.
        assert_eq!(at("昨天 10:05"), Some((utc(2026, 11, 23, 10, 5, 0), 0.8)));
        assert_eq!(
            at("前天10:05开始"),
            Some((utc(2026, 11, 22, 10, 5, 0), 0.8))
        );
        assert_eq!(
            at("北京时间 昨天 18:05"),
            Some((utc(2026, 11, 23, 10, 5, 0), 0.9))
        );
        assert_eq!(
            at("yesterday at 9:05 pm UTC"),
            Some((utc(2026, 11, 23, 21, 5, 0), 0.9))
        );
        assert_eq!(at("today 11:00"), Some((utc(2026, 11, 24, 11, 0, 0), 0.8)));
        // Month words that are not dates, and dates inside identifiers.
        assert_eq!(
            at("errors may 5 times a day at 10:05"),
            Some((utc(2026, 11, 24, 10, 5, 0), 0.75))
        );
        assert_eq!(
            at("build 2023-01-29-abc since 10:05"),
            Some((utc(2026, 11, 24, 10, 5, 0), 0.75))
        );
    }

    #[test]
    fn not_times() {
        assert_eq!(at("instance 10.0.0.1:9100 down"), None);
        assert_eq!(at("ratio 25:61 and 1:2"), None);
        assert_eq!(at("version 2026.11.24 released"), None);
        assert_eq!(at("no time here"), None);
        assert_eq!(at("99:99"), None);
    }

    #[test]
    fn relative_times() {
        let ago = |m: i64| Some((now() - Duration::minutes(m), 0.7));
        assert_eq!(at("5 分钟前 支付服务报错"), ago(5));
        assert_eq!(at("支付服务5分钟之前开始报错"), ago(5));
        assert_eq!(at("半小时前开始"), ago(30));
        assert_eq!(at("两个小时前"), ago(120));
        assert_eq!(at("十五分钟前"), ago(15));
        assert_eq!(at("刚刚 订单服务挂了"), ago(0));
        assert_eq!(at("5 minutes ago the API"), ago(5));
        assert_eq!(at("started 5m ago"), ago(5));
        assert_eq!(at("1 hour ago"), ago(60));
        assert_eq!(at("an hour ago"), ago(60));
        assert_eq!(at("half an hour ago"), ago(30));
        assert_eq!(at("just now"), ago(0));
        assert_eq!(
            at("30 seconds ago"),
            Some((now() - Duration::seconds(30), 0.7))
        );
        assert_eq!(at("long ago"), None);
        assert_eq!(at("前端报错"), None);
        // The first relative time wins.
        assert_eq!(at("10 minutes ago, then 刚刚"), ago(10));
    }
}
