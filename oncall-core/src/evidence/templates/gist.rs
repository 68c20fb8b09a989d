//! The gist of a log line, for a sentence a person reads at a glance: what the
//! line *says*, without what a reader skips (timestamp, level, logger, thread,
//! trace and span ids) and without ids that mean nothing to them.
//!
//! Layout-aware but not format-specific, in the spirit of the header/content split
//! of log parsers (Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
//! ICSE-SEIP 2019, whose LogHub formats all put time, level and component before
//! the content):
//! 1. only the first line counts (a stack trace's frames follow it);
//! 2. leading header tokens go: times and dates, a level word, and after the level
//!    one logger/thread token (`f.s.FoodServiceImpl#115`, `[main]`);
//! 3. `trace_id=…`, `TraceID: …`, `span-id …` and the like go;
//! 4. when the line reports an exception, the gist is the innermost one — the one
//!    after the last `nested exception is` / `Caused by:` — as `ShortName: message`;
//! 5. a content made of bracketed fields (`[getAllFood][Request Failed][x is null]`)
//!    reads as `getAllFood: Request Failed; x is null`;
//! 6. long hexadecimal runs and UUIDs become `…`, and the whole is cut at a word
//!    boundary.
//!
//! The full line stays in the evidence; this is only how sentences quote it.

use std::sync::LazyLock;

use regex::Regex;

/// Longest gist, in characters, that [`gist`] is usually asked for: a clause, not
/// a line.
pub const GIST_CHARS: usize = 100;

static ID_PAIR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:trace|span|parent|request|correlation|x-request)[_\-.]?id\b\s*[:=]\s*(?:<\*>|[\w\-]+)[,;]?\s*",
    )
    .ok()
});
static EXCEPTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[\s\[(:;])((?:[A-Za-z_][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Fault|Panic))(?::\s*([^;\]\n]*))?",
    )
    .ok()
});
static NESTED: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)(?:nested exception is|caused by:?)\s+").ok());
static LONG_ID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*)\b").ok()
});

/// Level words a header may carry.
const LEVELS: [&str; 12] = [
    "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "SEVERE", "FATAL",
    "CRITICAL", "PANIC",
];

/// The gist of `line` in at most `max` characters (see the module documentation).
pub fn gist(line: &str, max: usize) -> String {
    let first = line.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let content = strip_header(first);
    let content = match &*ID_PAIR {
        Some(re) => re.replace_all(content, "").into_owned(),
        None => content.to_owned(),
    };
    let said = innermost_exception(&content)
        .or_else(|| bracketed_fields(&content))
        .unwrap_or_else(|| content.trim().to_owned());
    let said = match &*LONG_ID {
        Some(re) => re
            .replace_all(&said, |c: &regex::Captures<'_>| {
                // Short hex-looking words (`0x1f`, `a1`) are kept: codes, not ids.
                if c[0].len() >= 8 {
                    "…".to_owned()
                } else {
                    c[0].to_owned()
                }
            })
            .into_owned(),
        None => said,
    };
    cut(said.trim(), max)
}

/// The content after the header tokens (times, dates, a level, then one logger or
/// thread token).
fn strip_header(line: &str) -> &str {
    let mut rest = line.trim_start();
    let mut seen_level = false;
    loop {
        let (token, after) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim_start()),
            None => (rest, ""),
        };
        if token.is_empty() {
            return rest;
        }
        let bare = token.trim_matches(|c: char| "[]():|".contains(c));
        let bare_upper = bare.to_ascii_uppercase();
        let level = LEVELS.contains(&bare_upper.as_str())
            || bare_upper
                .strip_prefix("LEVEL=")
                .is_some_and(|l| LEVELS.contains(&l));
        // A mined template's header fields are wildcards.
        if (is_time_or_date(bare) || bare == super::WILDCARD) && !seen_level {
            rest = after;
        } else if level && !seen_level {
            seen_level = true;
            rest = after;
        } else if seen_level && (is_logger_or_thread(token) || token == super::WILDCARD) {
            // One logger or thread token after the level, then the content.
            return after;
        } else {
            return rest;
        }
    }
}

/// `17:57:21.110`, `2023-01-29`, `2023-01-29T17:57:21Z`, `081109`, `+0000`.
fn is_time_or_date(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    !token.is_empty()
        && digits * 2 >= token.len()
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || "-:.,/+TZ".contains(c))
}

/// `f.s.FoodServiceImpl#115`, `o.a.c.c.C.[.[.[.[dispatcherServlet]#175`, `[main]`,
/// `c.e.App:42`: a token with no spaces that names code or a thread.
fn is_logger_or_thread(token: &str) -> bool {
    let bracketed = token.starts_with('[') && token.ends_with(']');
    let dotted = token.matches('.').count() >= 2 || token.contains('#');
    (bracketed || dotted) && !token.ends_with(':') && !token.contains("://")
}

/// `IllegalStateException: No instances available for x` from a line that reports
/// (possibly nested) exceptions: the innermost one, by its short name.
fn innermost_exception(content: &str) -> Option<String> {
    let re = EXCEPTION.as_ref()?;
    let from = NESTED
        .as_ref()
        .and_then(|n| n.find_iter(content).last())
        .map_or(0, |m| m.start());
    let caps = re.captures(&content[from..])?;
    let class = caps.get(1)?.as_str();
    let short = class.rsplit('.').next().unwrap_or(class).replace('$', ".");
    let message = caps
        .get(2)
        .map(|m| m.as_str().trim())
        .filter(|m| !m.is_empty() && *m != "null");
    Some(match message {
        Some(m) => format!("{short}: {m}"),
        None => short,
    })
}

/// `getAllFood: Request Failed; x is null` from
/// `[getAllFood][Request Failed][x is null]`; `None` unless the content is mostly
/// such fields.
fn bracketed_fields(content: &str) -> Option<String> {
    let content = content.trim();
    if !content.starts_with('[') {
        return None;
    }
    let mut fields = Vec::new();
    let mut rest = content;
    while let Some(open) = rest.strip_prefix('[') {
        let close = open.find(']')?;
        fields.push(open[..close].trim());
        rest = open[close + 1..].trim_start();
    }
    if fields.len() < 2 {
        return None;
    }
    let mut fields: Vec<&str> = fields.into_iter().filter(|f| !f.is_empty()).collect();
    fields.dedup();
    let is_name = |f: &str| !f.contains(' ') && f.chars().all(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::new();
    let mut i = 0;
    // Leading method names (`[getRoutesByRouteIds][getRoutesByRouteIds]…`) prefix.
    while i < fields.len() - 1 && is_name(fields[i]) {
        if i == 0 {
            out.push_str(fields[i]);
            out.push_str(": ");
        }
        i += 1;
    }
    out.push_str(&fields[i..].join("; "));
    if !rest.is_empty() {
        out.push(' ');
        out.push_str(rest);
    }
    Some(out)
}

/// `s` cut to `max` characters at a word boundary, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let hard: String = s.chars().take(max.saturating_sub(1)).collect();
    let soft = match hard.rfind(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        Some(i) if i * 3 >= hard.len() * 2 => hard[..i].trim_end_matches([',', ';', ' ']),
        _ => hard.as_str(),
    };
    format!("{soft}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_exception_reads_as_its_innermost_cause() {
        let line = "17:57:21.110 ERROR o.a.c.c.C.[.[.[.[dispatcherServlet]#175 TraceID: 3f2a9c01d4e5b6a7 SpanID: 1b2c3d4e5f607182 Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed; nested exception is java.lang.IllegalStateException: No instances available for ts-seat-service] with root cause";
        assert_eq!(
            gist(line, GIST_CHARS),
            "IllegalStateException: No instances available for ts-seat-service"
        );
        let inner = "ERROR c.e.Api - call failed: org.springframework.web.client.HttpServerErrorException$InternalServerError: 500 null";
        assert_eq!(
            gist(inner, GIST_CHARS),
            "HttpServerErrorException.InternalServerError: 500 null"
        );
    }

    #[test]
    fn header_ids_and_bracketed_fields_are_read_for_people() {
        let line = "17:57:21.110 ERROR  f.s.FoodServiceImpl#115 TraceID: 3f2a9c01d4e5b6a7 SpanID: 1b2c3d4e5f607182 [getAllFood][Get the Get Food Request Failed!][foodStoresListResult is null]";
        assert_eq!(
            gist(line, GIST_CHARS),
            "getAllFood: Get the Get Food Request Failed!; foodStoresListResult is null"
        );
        // A mined template reads the same way.
        let template = "<*> INFO t.s.TravelServiceImpl#<*> TraceID: <*> SpanID: <*> [getRestTicketNumber][Get Rest tickets num]";
        assert_eq!(
            gist(template, GIST_CHARS),
            "getRestTicketNumber: Get Rest tickets num"
        );
        let repeated = "ERROR f.m.s.BasicServiceImpl#88 [getRoutesByRouteIds][getRoutesByRouteIds][Get Route By Ids Failed]";
        assert_eq!(
            gist(repeated, GIST_CHARS),
            "getRoutesByRouteIds: Get Route By Ids Failed"
        );
    }

    #[test]
    fn plain_lines_keep_their_words_and_lose_only_ids() {
        assert_eq!(
            gist(
                "2024-05-01T10:00:00Z level=error msg=\"connection refused\" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 upstream=10.0.0.7:5432",
                GIST_CHARS
            ),
            "msg=\"connection refused\" upstream=10.0.0.7:5432"
        );
        assert_eq!(
            gist(
                "order 550e8400-e29b-41d4-a716-446655440000 not found (code 0x1f)",
                80
            ),
            "order … not found (code 0x1f)"
        );
        // No header: nothing is taken for one.
        assert_eq!(gist("Disk full on /var", 80), "Disk full on /var");
        assert_eq!(gist("", 80), "");
    }

    #[test]
    fn long_lines_are_cut_at_a_word_and_only_the_first_line_counts() {
        let long = "the quick brown fox jumps over the lazy dog ".repeat(5);
        let g = gist(&long, 40);
        assert!(g.chars().count() <= 40, "{g}");
        assert!(g.ends_with('…') && !g.ends_with(" …"), "{g}");
        let trace = "ERROR Worker crashed: ValueError: bad input\n  at foo.bar(Baz.java:1)";
        assert_eq!(gist(trace, 80), "ValueError: bad input");
    }
}
