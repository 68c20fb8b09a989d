//! Request paths from traces: where requests of the incident window first left the
//! paths that requests of the baseline took.
//!
//! When log lines carry a trace id, the lines of one request, in time order, are the
//! path it took through the services: `(service, log template, error or not)` steps.
//! The baseline's requests are put in a prefix tree. Every request that began in the
//! incident window is walked down that tree; where it first takes a step the
//! baseline never took after the same steps, the request *diverged*. A code fault
//! shows there even when nobody logs an error: a service that throws or returns a
//! wrong value makes its caller take another branch, and the services that should
//! have come next go silent. Each divergence is charged to
//!
//! - the service of the last step that went as usual (whose answer sent the request
//!   elsewhere) — the strongest share;
//! - the service of the unexpected step;
//! - the services the baseline went to next (now missing), sharing one part.
//!
//! This is the idea of comparing expected with actual event patterns (Nezha, ESEC/FSE
//! 2023), on logs alone and without any knowledge of the system.
//!
//! The prefix tree sees only a request's *first* divergence, and anything new earlier
//! in a long request (another loop count, another branch) hides what comes later.
//! [`missing_steps`] looks at each pair of consecutive steps on its own instead: a
//! step that used to follow another and no longer does is where a callee failed
//! before it logged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::TimeWindow;
use super::templates::TemplateId;

/// One log line of a request, as path analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathEvent<'a> {
    /// Trace (request) id; lines without one are not given.
    pub trace: &'a str,
    /// Service that logged it.
    pub service: &'a str,
    /// Its log template (resolved, after mining finished).
    pub template: TemplateId,
    /// Error-level (or an exception) line.
    pub is_error: bool,
    /// When.
    pub time: DateTime<Utc>,
}

/// How often requests left their usual path at a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathDivergence {
    /// The service.
    pub service: String,
    /// Blame for diverging requests, summed over them: 1 for the last usual step,
    /// ½ for the unexpected step, ½ shared among the steps that went missing.
    pub weight: f64,
    /// Diverging requests in which the service took any part of the blame.
    pub requests: u64,
    /// Requests of the incident window that were compared (had a baseline to go by).
    pub compared: u64,
    /// The commonest divergence it was blamed for.
    pub example: Option<PathExample>,
}

/// One divergence, as the log templates of its steps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PathExample {
    /// The last step that went as usual (`None`: the first step was already new).
    pub last_usual: Option<String>,
    /// The step taken instead (`None`: the request ended there).
    pub unexpected: Option<String>,
    /// One step the baseline took next instead (`None`: it used to end there).
    pub expected: Option<String>,
}

/// A divergence as template ids, while counting.
type StepIds = (Option<TemplateId>, Option<TemplateId>, Option<TemplateId>);

/// Share of the blame for the last step that went as usual.
const BLAME_LAST_USUAL: f64 = 1.0;
/// Share for the unexpected step.
const BLAME_UNEXPECTED: f64 = 0.5;
/// Share for the steps the baseline took next, split among them.
const BLAME_MISSING: f64 = 0.5;
/// Requests of the baseline needed before divergences mean anything.
const MIN_BASELINE_REQUESTS: usize = 20;

/// One step of a path. Services are interned to `u32`.
type Step = (u32, TemplateId, bool);
/// A request's lines: (time, position in the input, step).
type Lines = Vec<(DateTime<Utc>, usize, Step)>;

/// Finds where the incident window's requests left the baseline's paths; `describe`
/// gives a template's text for the examples. A request
/// belongs to the window in which its first line was logged; every request that
/// began before the incident window counts as baseline, however old (the paths
/// a system's requests take change with deployments, not by the hour, and sparse
/// logs may hold only a few minutes of normal traffic long before the incident).
pub fn path_divergences(
    events: &[PathEvent<'_>],
    window: &TimeWindow,
    describe: impl Fn(TemplateId) -> String,
) -> Vec<PathDivergence> {
    let Some(Requests {
        services,
        baseline,
        incident,
    }) = requests(events, window)
    else {
        return Vec::new();
    };
    let tree = PathTree::from_paths(&baseline);

    #[derive(Default)]
    struct Blame {
        weight: f64,
        requests: u64,
        examples: HashMap<StepIds, u64>,
    }
    let mut blame: HashMap<u32, Blame> = HashMap::new();
    for path in &incident {
        let Some(d) = tree.diverge(path) else {
            continue;
        };
        let example: StepIds = (
            d.last_usual.map(|s| s.1),
            d.unexpected.map(|s| s.1),
            d.expected.first().map(|s| s.1),
        );
        let mut shares: Vec<(u32, f64)> = Vec::with_capacity(2 + d.expected.len());
        if let Some(s) = d.last_usual {
            shares.push((s.0, BLAME_LAST_USUAL));
        }
        if let Some(s) = d.unexpected {
            shares.push((s.0, BLAME_UNEXPECTED));
        }
        for s in &d.expected {
            shares.push((s.0, BLAME_MISSING / d.expected.len() as f64));
        }
        let mut charged: Vec<u32> = Vec::with_capacity(shares.len());
        for (service, share) in shares {
            let b = blame.entry(service).or_default();
            b.weight += share;
            if !charged.contains(&service) {
                charged.push(service);
                b.requests += 1;
                *b.examples.entry(example).or_default() += 1;
            }
        }
    }
    let compared = incident.len() as u64;
    let mut out: Vec<PathDivergence> = blame
        .into_iter()
        .map(|(service, b)| PathDivergence {
            service: services[service as usize].to_owned(),
            weight: b.weight,
            requests: b.requests,
            compared,
            example: b
                .examples
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|((last, unexpected, expected), _)| PathExample {
                    last_usual: last.map(&describe),
                    unexpected: unexpected.map(&describe),
                    expected: expected.map(&describe),
                }),
        })
        .collect();
    out.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

/// A step that used to follow another and stopped doing so: the strongest such
/// step of one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingStep {
    /// The service whose step went missing.
    pub service: String,
    /// How surprising the shortfall is: `(expected − seen) / √(expected + 1)`.
    pub surprise: f64,
    /// How often the step would have followed in the incident window, at the
    /// baseline's rate.
    pub expected: f64,
    /// How often it did.
    pub seen: u64,
    /// The service of the step it used to follow.
    pub after_service: String,
    /// The step it used to follow, as its log template.
    pub after: String,
    /// The missing step, as its log template.
    pub step: String,
}

/// Finds the steps that stopped following the steps they used to follow: for every
/// step `a` of the baseline's requests and every step `b` that came right after it,
/// the incident window's requests should show `a → b` about as often as `a`, times
/// the baseline's share of `b` after `a`. A callee that fails before it logs (an
/// exception thrown on entry, a call that never reaches it) is seen by nobody's
/// errors — its callers report the failure in words every other fault produces too —
/// but its lines stop coming right after the caller's line that calls it, and only
/// there. Each service is given its most surprising shortfall, strongest first.
/// Transitions out of a request's start are left out: which entry points users hit
/// is traffic, not a fault.
pub fn missing_steps(
    events: &[PathEvent<'_>],
    window: &TimeWindow,
    describe: impl Fn(TemplateId) -> String,
) -> Vec<MissingStep> {
    let Some(Requests {
        services,
        baseline,
        incident,
    }) = requests(events, window)
    else {
        return Vec::new();
    };
    /// How often each step occurred and each step followed it.
    #[derive(Default)]
    struct Counts {
        from: HashMap<Step, u64>,
        pairs: HashMap<(Step, Step), u64>,
    }
    let count = |paths: &[Vec<Step>]| {
        let mut c = Counts::default();
        for path in paths {
            for (k, &a) in path.iter().enumerate() {
                // a step followed by the request's end still had its chance
                *c.from.entry(a).or_default() += 1;
                if let Some(&b) = path.get(k + 1) {
                    *c.pairs.entry((a, b)).or_default() += 1;
                }
            }
        }
        c
    };
    let before = count(&baseline);
    let during = count(&incident);
    let mut best: HashMap<u32, (f64, f64, u64, Step, Step)> = HashMap::new();
    for (&(a, b), &n) in &before.pairs {
        let Some(&trials) = during.from.get(&a) else {
            continue;
        };
        let share = (n as f64 + 0.5) / (before.from.get(&a).copied().unwrap_or(0) as f64 + 1.0);
        let expected = trials as f64 * share;
        let seen = during.pairs.get(&(a, b)).copied().unwrap_or(0);
        let surprise = (expected - seen as f64) / (expected + 1.0).sqrt();
        if surprise <= 0.0 {
            continue;
        }
        let entry = best.entry(b.0).or_insert((0.0, 0.0, 0, a, b));
        // ties: the commoner step, then the smaller ids, so the result is stable
        if (surprise, expected, std::cmp::Reverse((a, b)))
            > (entry.0, entry.1, std::cmp::Reverse((entry.3, entry.4)))
        {
            *entry = (surprise, expected, seen, a, b);
        }
    }
    let mut out: Vec<MissingStep> = best
        .into_iter()
        .map(|(service, (surprise, expected, seen, a, b))| MissingStep {
            service: services[service as usize].to_owned(),
            surprise,
            expected,
            seen,
            after_service: services[a.0 as usize].to_owned(),
            after: describe(a.1),
            step: describe(b.1),
        })
        .collect();
    out.sort_by(|a, b| {
        b.surprise
            .total_cmp(&a.surprise)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

/// The requests of both windows, as paths of interned steps.
struct Requests<'a> {
    /// Service names by interned id.
    services: Vec<&'a str>,
    /// Requests that began before the incident window.
    baseline: Vec<Vec<Step>>,
    /// Requests that began in the incident window.
    incident: Vec<Vec<Step>>,
}

/// Groups the lines by trace into requests, each in logged order (time, then input
/// order), and sorts them into the windows by their first line. `None` when the
/// baseline is too thin to go by or the incident window holds no request.
fn requests<'a>(events: &[PathEvent<'a>], window: &TimeWindow) -> Option<Requests<'a>> {
    let mut services: Vec<&str> = Vec::new();
    let mut service_ids: HashMap<&str, u32> = HashMap::new();
    let mut traces: HashMap<&str, Lines> = HashMap::new();
    for (i, e) in events
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.trace.is_empty())
    {
        let sid = *service_ids.entry(e.service).or_insert_with(|| {
            services.push(e.service);
            (services.len() - 1) as u32
        });
        traces
            .entry(e.trace)
            .or_default()
            .push((e.time, i, (sid, e.template, e.is_error)));
    }
    let mut baseline: Vec<Vec<Step>> = Vec::new();
    let mut incident: Vec<Vec<Step>> = Vec::new();
    for mut lines in traces.into_values() {
        lines.sort_by_key(|&(t, i, _)| (t, i));
        let start = lines[0].0;
        let path = lines.into_iter().map(|(_, _, s)| s).collect();
        if window.in_incident(start) {
            incident.push(path);
        } else if start < window.incident_start {
            baseline.push(path);
        }
    }
    if baseline.len() < MIN_BASELINE_REQUESTS || incident.is_empty() {
        return None;
    }
    Some(Requests {
        services,
        baseline,
        incident,
    })
}

/// Where one path left the tree.
struct Divergence {
    /// The last step the tree knew (None: the very first step was unknown).
    last_usual: Option<Step>,
    /// The step taken instead (None: the request ended where it never did).
    unexpected: Option<Step>,
    /// Steps the baseline took at that point (the request ending excluded).
    expected: Vec<Step>,
}

/// A prefix tree of paths; `None` as a step marks a path's end.
struct PathTree {
    children: Vec<HashMap<Option<Step>, usize>>,
}

impl PathTree {
    fn from_paths(paths: &[Vec<Step>]) -> PathTree {
        let mut tree = PathTree {
            children: vec![HashMap::new()],
        };
        for path in paths {
            let mut node = 0;
            for step in path.iter().copied().map(Some).chain([None]) {
                let next = tree.children.len();
                node = *tree.children[node].entry(step).or_insert(next);
                if node == next {
                    tree.children.push(HashMap::new());
                }
            }
        }
        tree
    }

    fn diverge(&self, path: &[Step]) -> Option<Divergence> {
        let mut node = 0;
        let mut last = None;
        for step in path.iter().copied().map(Some).chain([None]) {
            match self.children[node].get(&step) {
                Some(&next) => {
                    node = next;
                    last = step;
                }
                None => {
                    let mut expected: Vec<Step> =
                        self.children[node].keys().filter_map(|s| *s).collect();
                    expected.sort_unstable();
                    return Some(Divergence {
                        last_usual: last,
                        unexpected: step,
                        expected,
                    });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::test_support::{t0, window};
    use chrono::Duration;

    /// A test request: id, (service, template, error) steps, start.
    type Request = (String, Vec<(&'static str, u32, bool)>, DateTime<Utc>);

    /// Requests `gateway → orders → db → orders (reply)`; in the incident window
    /// `db` answers wrongly in `bad` of them and `orders` logs something else.
    fn requests(n: usize, bad: usize, start_min: i64) -> Vec<Request> {
        (0..n)
            .map(|i| {
                let steps = if i < bad {
                    vec![
                        ("gateway", 1, false),
                        ("orders", 2, false),
                        ("db", 3, false),
                        ("orders", 9, true),
                    ]
                } else {
                    vec![
                        ("gateway", 1, false),
                        ("orders", 2, false),
                        ("db", 3, false),
                        ("orders", 4, false),
                    ]
                };
                (
                    format!("t{start_min}-{i}"),
                    steps,
                    t0() + Duration::minutes(start_min) + Duration::seconds(i as i64),
                )
            })
            .collect()
    }

    fn events<'a>(reqs: &'a [Request]) -> Vec<PathEvent<'a>> {
        reqs.iter()
            .flat_map(|(trace, steps, at)| {
                steps
                    .iter()
                    .enumerate()
                    .map(move |(k, &(service, tpl, err))| PathEvent {
                        trace,
                        service,
                        template: TemplateId(tpl),
                        is_error: err,
                        time: *at + Duration::milliseconds(k as i64),
                    })
            })
            .collect()
    }

    #[test]
    fn the_last_usual_step_takes_the_blame() {
        let mut reqs = requests(40, 0, 1);
        reqs.extend(requests(30, 12, 32));
        let ev = events(&reqs);
        let d = path_divergences(&ev, &window(), |id| format!("t{}", id.0));
        assert_eq!(d[0].service, "db", "{d:?}");
        assert_eq!(d[0].requests, 12);
        assert_eq!(d[0].compared, 30);
        assert!((d[0].weight - 12.0).abs() < 1e-9);
        // orders took the unexpected step and missed its usual one: ½ + ½ per request
        let orders = d.iter().find(|x| x.service == "orders").unwrap();
        assert!((orders.weight - 12.0).abs() < 1e-9, "{orders:?}");
        assert!(d.iter().all(|x| x.service != "gateway"));
        assert_eq!(
            d[0].example,
            Some(PathExample {
                last_usual: Some("t3".into()),
                unexpected: Some("t9".into()),
                expected: Some("t4".into()),
            })
        );
    }

    #[test]
    fn requests_on_known_paths_do_not_diverge() {
        let mut reqs = requests(40, 0, 1);
        reqs.extend(requests(30, 0, 32));
        let ev = events(&reqs);
        assert!(path_divergences(&ev, &window(), |id| format!("t{}", id.0)).is_empty());
    }

    #[test]
    fn a_thin_baseline_says_nothing() {
        let mut reqs = requests(5, 0, 1);
        reqs.extend(requests(30, 12, 32));
        let ev = events(&reqs);
        assert!(path_divergences(&ev, &window(), |id| format!("t{}", id.0)).is_empty());
    }

    #[test]
    fn a_request_that_stops_early_blames_where_it_stopped() {
        let mut reqs = requests(40, 0, 1);
        // the incident requests end after db: orders never replies
        for i in 0..10 {
            reqs.push((
                format!("cut-{i}"),
                vec![
                    ("gateway", 1, false),
                    ("orders", 2, false),
                    ("db", 3, false),
                ],
                t0() + Duration::minutes(33) + Duration::seconds(i),
            ));
        }
        let ev = events(&reqs);
        let d = path_divergences(&ev, &window(), |id| format!("t{}", id.0));
        assert_eq!(d[0].service, "db");
        assert!((d[0].weight - 10.0).abs() < 1e-9);
        let orders = d.iter().find(|x| x.service == "orders").unwrap();
        assert!(
            (orders.weight - 5.0).abs() < 1e-9,
            "missing step only: {orders:?}"
        );
    }

    /// Requests `gateway → orders → stock → orders (reply)`; in `skipped` of them
    /// `stock` never logs (it throws on entry) and `orders` replies all the same.
    fn requests_past(n: usize, skipped: usize, start_min: i64) -> Vec<Request> {
        (0..n)
            .map(|i| {
                let mut steps = vec![("gateway", 1, false), ("orders", 2, false)];
                if i >= skipped {
                    steps.push(("stock", 5, false));
                }
                steps.push(("orders", 4, false));
                (
                    format!("s{start_min}-{i}"),
                    steps,
                    t0() + Duration::minutes(start_min) + Duration::seconds(i as i64),
                )
            })
            .collect()
    }

    #[test]
    fn a_step_that_stops_following_its_caller_is_missing() {
        let mut reqs = requests_past(40, 0, 1);
        reqs.extend(requests_past(30, 30, 32));
        let ev = events(&reqs);
        let m = missing_steps(&ev, &window(), |id| format!("t{}", id.0));
        assert_eq!(m[0].service, "stock", "{m:?}");
        assert_eq!(m[0].seen, 0);
        assert_eq!(m[0].after_service, "orders");
        assert_eq!((m[0].after.as_str(), m[0].step.as_str()), ("t2", "t5"));
        // 30 requests, each used to call stock after t2: (30·40.5/41 − 0) / √(e + 1)
        let e = 30.0 * 40.5 / 41.0;
        assert!((m[0].expected - e).abs() < 1e-9);
        assert!((m[0].surprise - e / (e + 1.0).sqrt()).abs() < 1e-9);
        // orders still replies; its reply now follows its own call instead of
        // stock, which is no shortfall of orders' steps
        assert!(m.iter().all(|x| x.service != "gateway"), "{m:?}");
        assert!(
            m.iter()
                .filter(|x| x.service != "stock")
                .all(|x| x.surprise < 1.0),
            "{m:?}"
        );
    }

    #[test]
    fn steps_that_keep_their_rate_are_not_missing() {
        let mut reqs = requests_past(40, 10, 1);
        reqs.extend(requests_past(30, 8, 32));
        let ev = events(&reqs);
        let m = missing_steps(&ev, &window(), |id| format!("t{}", id.0));
        assert!(m.iter().all(|x| x.surprise < 1.0), "{m:?}");
        let mut thin = requests_past(5, 0, 1);
        thin.extend(requests_past(30, 30, 32));
        let ev = events(&thin);
        assert!(missing_steps(&ev, &window(), |id| format!("t{}", id.0)).is_empty());
    }
}
