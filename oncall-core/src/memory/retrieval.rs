//! Retrieval: the stored signatures most similar to a new one, read through the
//! inverted index so the work is bounded by the constants below, not by how many
//! signatures are stored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::signature::describe_term;
use super::similarity::{Vector, cosine, shared_terms, vector};
use super::{PastIncident, Signature};
use crate::error::Result;
use crate::store::MemoryStore;

/// How many of the query's rarest terms are looked up in the index.
pub const PROBE_TERMS: usize = 8;
/// Most recent postings read per probed term.
pub const POSTINGS_PER_TERM: u32 = 200;
/// Candidates (by partial score over the probed terms) scored exactly.
pub const CANDIDATES: usize = 32;
/// Past incidents shown ("seen before").
pub const SHOWN: usize = 3;
/// Shared facts listed per past incident ("what the two have in common").
pub const SHARED_SHOWN: usize = 6;
/// Below this similarity a past incident is not shown at all.
pub const MIN_SHOWN: f64 = 0.2;

/// The past incidents most similar to `query`, best first: at most `limit`, at
/// least [`MIN_SHOWN`] similar, each older than `before` (the new incident's start:
/// nothing "in the future" of it), never `exclude` (the analysis itself), with the
/// current state of their tickets.
pub async fn recall<S: MemoryStore + ?Sized>(
    store: &S,
    query: &Signature,
    exclude: Uuid,
    before: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<PastIncident>> {
    let terms = query.terms();
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let names: Vec<String> = terms.iter().map(|(t, _)| t.clone()).collect();
    let (n, df) = store.document_frequencies(&names).await?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let df: HashMap<String, u64> = df.into_iter().collect();
    let q: Vector = vector(terms.iter().map(|(t, w)| (t.as_str(), *w)), n, |t| {
        df.get(t).copied().unwrap_or(0)
    });

    // Probe the rarest terms any signature holds: a term few signatures share says
    // most, and its postings are short.
    let mut probe: Vec<(&String, u64)> = names
        .iter()
        .filter_map(|t| df.get(t).map(|d| (t, *d)))
        .collect();
    probe.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    probe.truncate(PROBE_TERMS);
    let mut partial: HashMap<Uuid, f64> = HashMap::new();
    for (term, _) in probe {
        let qw = q.get(term.as_str()).copied().unwrap_or(0.0);
        let idf = super::similarity::idf(n, df.get(term.as_str()).copied().unwrap_or(0));
        for (id, w) in store
            .postings(term, before, exclude, POSTINGS_PER_TERM)
            .await?
        {
            *partial.entry(id).or_insert(0.0) += qw * w * idf;
        }
    }
    if partial.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates: Vec<(Uuid, f64)> = partial.into_iter().collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    candidates.truncate(CANDIDATES);
    let ids: Vec<Uuid> = candidates.iter().map(|c| c.0).collect();

    // Exact cosine over the candidates' whole signatures.
    let mut docs: HashMap<Uuid, Vector> = HashMap::new();
    for (id, term, w, d) in store.signature_terms(&ids).await? {
        let v = w * super::similarity::idf(n, d);
        docs.entry(id).or_default().insert(term, v);
    }
    let mut scored: Vec<(Uuid, f64)> = docs
        .iter()
        .map(|(id, d)| (*id, cosine(&q, d)))
        .filter(|(_, s)| *s >= MIN_SHOWN)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    scored.truncate(limit);
    if scored.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = scored.iter().map(|s| s.0).collect();
    let mut recalled: HashMap<Uuid, crate::store::RecalledSignature> = store
        .recall_signatures(&ids)
        .await?
        .into_iter()
        .map(|r| (r.analysis_id, r))
        .collect();
    let mut out = Vec::new();
    for (id, similarity) in scored {
        let Some(r) = recalled.remove(&id) else {
            continue; // forgotten meanwhile
        };
        let shared = docs
            .get(&id)
            .map(|d| {
                shared_terms(&q, d)
                    .into_iter()
                    .take(SHARED_SHOWN)
                    .map(|(t, _)| describe_term(&t))
                    .collect()
            })
            .unwrap_or_default();
        let ticket = r.ticket;
        out.push(PastIncident {
            analysis_id: id,
            title: r.title,
            alert_name: r.signature.alert_name.clone(),
            incident_at: r.incident_at,
            similarity: (similarity * 1000.0).round() / 1000.0,
            shared,
            top_suspect: r.signature.top_suspect().map(str::to_owned),
            ticket_no: ticket.as_ref().map(|t| t.no.clone()),
            ticket_status: ticket.as_ref().map(|t| t.status.clone()),
            confirmed_root_cause: ticket.as_ref().and_then(|t| t.confirmed_root_cause.clone()),
            resolution: ticket.and_then(|t| t.resolution),
        });
    }
    Ok(out)
}
