//! Evidence: what the collected logs and metrics say, reduced to facts an analyzer
//! can rank and a person can read.
//!
//! Pure code, no I/O: the collect stage hands lines and samples in, these modules
//! hand [`serde::Serialize`] values back, which the pipeline stores as the analysis'
//! evidence. That keeps every rule unit-testable and benchmarkable on its own.
//!
//! - [`templates`]: log template mining — a Drain-style online miner that groups log
//!   lines into [`LogTemplate`]s, counts them per window (baseline / incident) and per
//!   service, and flags the ones that are new, bursting or error-level.
//! - [`metrics`]: metric shifts — how far each discovered series moved in the
//!   incident window against its own baseline (median/MAD), and when it began.
//! - [`traces`]: where failing requests' first errors appeared (from trace ids).
//! - [`latency`]: which service the slowed edges of the request graph point at
//!   (spectrum-based fault localization, from trace ids).
//! - [`paths`]: where requests first left the paths the baseline's requests took, and
//!   which steps stopped following the steps they used to follow.
//! - [`resources`]: for an alert about one host, pod or instance, which of its
//!   resources (CPU, memory, disk, network, ...) moved, largest effect first.
//! - [`service_graph`]: anomaly traversal over the call graph that service-graph
//!   metrics (Tempo, Istio, Linkerd) describe, for systems without trace ids in logs.
//! - [`suspects`]: components ranked by all of the above, earliest movers first.

pub mod latency;
pub mod metrics;
pub mod paths;
pub mod resources;
pub mod service_graph;
pub mod suspects;
pub mod templates;
#[cfg(test)]
pub(crate) mod test_support;
pub mod traces;

pub use templates::{
    BurstTest, LogLevel, LogRecord, LogTemplate, MinerConfig, ServiceCount, TemplateId,
    TemplateMiner, Window, WindowSpans,
};

/// A number as a person reads it: three significant digits, with k/M/G/T for
/// large magnitudes (`6291456` → `6.29M`, `0.0512` → `0.0512`).
pub fn human_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = scaled.abs();
    let digits = if s == 0.0 || s >= 100.0 {
        0
    } else if s >= 10.0 {
        1
    } else if s >= 1.0 {
        2
    } else {
        // Three significant digits below 1.
        (2 - s.log10().floor() as i32).clamp(2, 8) as usize
    };
    format!("{scaled:.digits$}{suffix}")
}
