//! Incident memory: what each completed analysis looked like, so a new alert can be
//! told "seen before" and a root cause engineers confirmed last time can inform —
//! never decide — this time's ranking.
//!
//! # Signature
//!
//! Each completed analysis stores an [`Signature`] (`memory_signatures`), built from
//! its parsed alert and evidence by [`Signature::of`]:
//!
//! - **alert**: the alert's name;
//! - **scope**: the scope labels the alert names — services, namespace, job, hosts,
//!   and pods reduced to their service (`api-7d9f8c6b5-x2x4z` → `api`, so a
//!   restarted pod matches);
//! - **suspects**: the top ranked components (pods reduced to their service) with the
//!   kind of evidence behind each one's strongest reason and its relative score;
//! - **templates**: the incident's error-level, new or bursting log templates,
//!   normalized — masked again with the miner's own masking (ids, numbers, hosts,
//!   UUIDs become `<*>`), runs of wildcards collapsed, lower-cased — and stored only
//!   as the first 16 hex digits of the SHA-256 of that text. The same template
//!   matches across analyses, restarts and template ids; no log line is kept.
//! - **metric shifts**: metric family (the name without `rate(…)`, unit and type
//!   suffixes), component and direction, e.g. `pod_cpu_usage/ts-food-service/up`.
//!
//! Signatures hold no raw log lines and no alert text beyond its name and labels.
//!
//! # Similarity
//!
//! A signature is a bag of terms (`alert:…`, `scope:…`, `suspect:…`,
//! `lead:…`, `tpl:…`, `shift:…`); each term's frequency is its weight in the signature
//! (1, or a suspect's relative score). Two signatures are compared by the cosine of
//! their tf-idf vectors (Salton & Buckley, "Term-weighting approaches in automatic
//! text retrieval", Information Processing & Management 24(5), 1988) with the
//! smoothed inverse document frequency `idf(t) = ln((1 + N) / (1 + df(t))) + 1`, where
//! `N` is the number of stored signatures and `df(t)` how many of them hold `t`. So
//! a template or a suspect few past incidents share weighs much more than the alert
//! name every incident of that alert shares. See [`similarity`].
//!
//! # Retrieval
//!
//! An inverted index (`memory_terms`: term → analyses, keyed by term and incident
//! time) and document frequencies kept incrementally (`memory_term_counts`, updated
//! in the transaction that stores or forgets a signature) make retrieval read only
//! candidates: the query's [`retrieval::PROBE_TERMS`] rarest terms are looked up,
//! at most [`retrieval::POSTINGS_PER_TERM`] most recent postings each, older than the
//! incident (never anything "in the future" of it) and never the analysis itself; the
//! best [`retrieval::CANDIDATES`] by partial score are then scored exactly. The work
//! is bounded by those constants, not by how many signatures are stored
//! (`BENCHMARKS.md`: 100,000 signatures on SQLite).
//!
//! # The prior
//!
//! Matches at or above [`prior::MIN_SIMILARITY`] whose ticket has a confirmed root
//! cause lend that component a bounded prior ([`prior::apply_prior`]): its score is
//! multiplied by `1 + s` (`s` the best such match's similarity), at most doubled, with
//! a reason of its own evidence kind ([`crate::evidence::suspects::EvidenceKind::Memory`]).
//! A component with no current evidence gets no score at all: it is listed as a hint
//! in the digest, never ranked. Why the bound is 2 is argued in [`prior`].
//!
//! # Life cycle
//!
//! Signatures are written when an analysis completes (replacing an earlier one of the
//! same analysis), deleted with their analysis (foreign key, and
//! [`crate::store::MemoryStore::forget_signature`]), and pruned after
//! `ONCALL_MEMORY_RETENTION_DAYS` (0 turns memory off). Ticket state (status,
//! confirmed root cause, resolution) is never copied into a signature: it is joined
//! when read, so a deleted or edited ticket shows as it is now.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod prior;
pub mod replay;
pub mod retrieval;
pub mod signature;
pub mod similarity;

pub use prior::apply_prior;
pub use retrieval::recall;
pub use signature::{Signature, SignatureSuspect};

/// A past analysis a new one resembles, with its ticket's current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct PastIncident {
    /// The past analysis.
    pub analysis_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its alert's name.
    pub alert_name: String,
    /// When its incident began (the alert's start).
    pub incident_at: DateTime<Utc>,
    /// Cosine similarity of the two signatures, 0..1.
    pub similarity: f64,
    /// What the two have in common, in plain words, most telling first.
    pub shared: Vec<String>,
    /// Its top suspect then.
    pub top_suspect: Option<String>,
    /// The ticket made from it, if any.
    pub ticket_no: Option<String>,
    /// That ticket's status now.
    pub ticket_status: Option<String>,
    /// The root cause an engineer confirmed on that ticket.
    pub confirmed_root_cause: Option<String>,
    /// What fixed it, as written on that ticket.
    pub resolution: Option<String>,
}

/// What memory contributed to one analysis, stored with its evidence and given to
/// the LLM agent: the closest past incidents and what the prior did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct MemoryDigest {
    /// The closest past incidents, best first (at most [`retrieval::SHOWN`]).
    pub similar: Vec<PastIncident>,
    /// Suspects the prior raised.
    pub raised: Vec<PriorNote>,
    /// Confirmed past causes with no current evidence: shown, not ranked.
    pub hints: Vec<PriorNote>,
}

/// One confirmed past cause the prior looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct PriorNote {
    /// The component the past ticket confirmed.
    pub component: String,
    /// That ticket.
    pub ticket_no: String,
    /// Similarity of that past incident to this one.
    pub similarity: f64,
}

impl MemoryDigest {
    /// The digest as a few lines for a prompt (no raw log lines: there are none).
    pub fn prompt_text(&self) -> String {
        let mut out = String::new();
        for p in &self.similar {
            out.push_str(&format!(
                "- {} ({}), similarity {:.2}, ticket {} [{}], confirmed root cause: {}, resolution: {}; shared: {}\n",
                p.alert_name,
                p.incident_at.format("%Y-%m-%d %H:%M"),
                p.similarity,
                p.ticket_no.as_deref().unwrap_or("none"),
                p.ticket_status.as_deref().unwrap_or("-"),
                p.confirmed_root_cause.as_deref().unwrap_or("not confirmed"),
                p.resolution.as_deref().unwrap_or("-"),
                p.shared.join("; ")
            ));
        }
        for h in &self.hints {
            out.push_str(&format!(
                "- hint only: {} was the confirmed root cause of {} (similarity {:.2}), but no current evidence points at it\n",
                h.component, h.ticket_no, h.similarity
            ));
        }
        out
    }
}
