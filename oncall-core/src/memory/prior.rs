//! The memory prior: a bounded lift for suspects that past, similar incidents'
//! tickets confirmed as the root cause.
//!
//! # Why it is bounded the way it is
//!
//! Treat the current evidence's score as the odds that a component is the cause,
//! and a confirmed cause of a similar past incident as a second, weaker piece of
//! evidence that multiplies those odds by a Bayes factor. How strong may that factor
//! be? A past incident is not an observation of this one: the same alert firing
//! again is consistent with the old cause *and* with a new one (a recurrence is
//! exactly when engineers are most often misled by "it was X last time"). Kass &
//! Raftery ("Bayes Factors", JASA 90(430), 1995) call a factor between 1 and 3 "not
//! worth more than a bare mention"; we keep memory inside that band with a factor of
//! `1 + s`, `s` being the cosine similarity (0..1) of the closest match that
//! confirmed the component — at most 2, and nearer 1 for looser matches.
//!
//! What follows from the multiplicative form, by construction rather than by
//! tuning on any scenario:
//! - a component with no current evidence (score 0) stays at 0: memory alone never
//!   ranks anything, it is only shown as a hint;
//! - memory can lift a component over the leader only when its current evidence is
//!   already more than half the leader's (`x·(1 + s) > top` needs `x > top / 2`): it
//!   breaks near-ties, it does not overturn clear evidence.
//!
//! Only matches of at least [`MIN_SIMILARITY`] count ("close" matches: the two
//! signatures' tf-idf vectors within 60° of each other), fixed before any
//! measurement.

use crate::evidence::suspects::{EvidenceKind, Suspect};

use super::{PastIncident, PriorNote};

/// Matches below this similarity lend no prior.
pub const MIN_SIMILARITY: f64 = 0.5;
/// The largest factor memory multiplies a suspect's score by.
pub const MAX_FACTOR: f64 = 2.0;

/// True when `component` and a ticket's confirmed root cause name the same thing
/// (the rule the tickets' accuracy report uses).
pub use crate::tickets::same_component;

/// Applies the prior to ranked `suspects` (see the [module docs](self)) from
/// `similar` past incidents: returns (suspects raised, hints: confirmed causes with
/// no current evidence). Scores keep the leader's absolute level; the order is
/// re-sorted.
pub fn apply_prior(
    suspects: &mut [Suspect],
    similar: &[PastIncident],
) -> (Vec<PriorNote>, Vec<PriorNote>) {
    // The closest confirming match per confirmed component.
    let mut best: Vec<PriorNote> = Vec::new();
    for p in similar.iter().filter(|p| p.similarity >= MIN_SIMILARITY) {
        let (Some(cause), Some(no)) = (&p.confirmed_root_cause, &p.ticket_no) else {
            continue;
        };
        match best
            .iter_mut()
            .find(|b| same_component(&b.component, cause))
        {
            Some(b) if b.similarity >= p.similarity => {}
            Some(b) => {
                b.similarity = p.similarity;
                b.ticket_no = no.clone();
            }
            None => best.push(PriorNote {
                component: cause.trim().to_owned(),
                ticket_no: no.clone(),
                similarity: p.similarity,
            }),
        }
    }
    let old_top = suspects.iter().map(|s| s.score).fold(0.0, f64::max);
    let (mut raised, mut hints) = (Vec::new(), Vec::new());
    for note in best {
        let hit = suspects
            .iter_mut()
            .find(|s| s.score > 0.0 && same_component(&s.component, &note.component));
        match hit {
            Some(s) => {
                let factor = (1.0 + note.similarity.clamp(0.0, 1.0)).min(MAX_FACTOR);
                s.score *= factor;
                s.reasons.push(format!(
                    "root cause of {} (similarity {:.2}) was this {}; memory multiplies its score by {:.2}",
                    note.ticket_no,
                    note.similarity,
                    match s.kind {
                        crate::evidence::suspects::ComponentKind::Host => "host",
                        _ => "service",
                    },
                    factor
                ));
                if s.lead.is_none() {
                    s.lead = Some(EvidenceKind::Memory);
                }
                raised.push(note);
            }
            None => hints.push(note),
        }
    }
    if !raised.is_empty() {
        suspects.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.component.cmp(&b.component))
        });
        let new_top = suspects.first().map_or(0.0, |s| s.score);
        if new_top > 0.0 {
            for s in suspects.iter_mut() {
                s.score = (s.score * old_top / new_top).clamp(0.0, 1.0);
            }
        }
    }
    (raised, hints)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::evidence::suspects::ComponentKind;

    fn suspect(c: &str, score: f64) -> Suspect {
        Suspect {
            component: c.into(),
            kind: ComponentKind::Service,
            score,
            reasons: vec!["current evidence".into()],
            first_anomaly_at: None,
            pods: vec![],
            lead: Some(EvidenceKind::Metrics),
        }
    }

    fn past(cause: &str, similarity: f64) -> PastIncident {
        PastIncident {
            analysis_id: Uuid::now_v7(),
            title: "t".into(),
            alert_name: "a".into(),
            incident_at: Utc::now(),
            similarity,
            shared: vec![],
            top_suspect: None,
            ticket_no: Some("INC-20260101-0001".into()),
            ticket_status: Some("resolved".into()),
            confirmed_root_cause: Some(cause.into()),
            resolution: None,
        }
    }

    #[test]
    fn a_near_tie_is_broken_with_a_visible_reason() {
        let mut s = vec![suspect("api", 0.9), suspect("db", 0.6)];
        let (raised, hints) = apply_prior(&mut s, &[past("db", 0.82)]);
        assert_eq!(s[0].component, "db");
        assert!(
            (s[0].score - 0.9).abs() < 1e-9,
            "the leader's level is kept"
        );
        assert!(
            s[0].reasons
                .last()
                .unwrap()
                .contains("root cause of INC-20260101-0001 (similarity 0.82) was this service"),
            "{:?}",
            s[0].reasons
        );
        assert_eq!(raised.len(), 1);
        assert!(hints.is_empty());
    }

    #[test]
    fn memory_alone_never_ranks_first() {
        // `cache` has no current evidence at all: it stays out of the ranking.
        let mut s = vec![suspect("api", 0.9), suspect("db", 0.3)];
        let (raised, hints) = apply_prior(&mut s, &[past("cache", 1.0)]);
        assert!(raised.is_empty());
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].component, "cache");
        assert_eq!(s[0].component, "api");
        assert!(s.iter().all(|x| x.component != "cache"));
        // weak current evidence (under half the leader's) is not lifted over it
        let (raised, _) = apply_prior(&mut s, &[past("db", 1.0)]);
        assert_eq!(raised.len(), 1);
        assert_eq!(s[0].component, "api");
        assert!(s[1].score <= 0.6 + 1e-9);
    }

    #[test]
    fn loose_matches_lend_nothing_and_pods_match_services() {
        let mut s = vec![suspect("api", 0.9), suspect("db", 0.8)];
        let (raised, hints) = apply_prior(&mut s, &[past("db", 0.49)]);
        assert!(raised.is_empty() && hints.is_empty());
        assert_eq!(s[0].component, "api");
        assert!(same_component(
            "ts-food-service-7d9f8c6b5-x2x4z",
            "ts-food-service"
        ));
        assert!(!same_component("carts-db", "carts"));
    }
}
