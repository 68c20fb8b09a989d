//! Incident memory in the engine: the two pipeline hooks (recall before the
//! result is written, remember once the analysis completed) and "seen before" for
//! front ends. The rules live in [`crate::memory`].

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::OnCall;
use crate::alert::Alert;
use crate::analysis::reduce::Evidence;
use crate::error::Result;
use crate::memory::{MemoryDigest, PastIncident, Signature, apply_prior, recall, retrieval};
use crate::users::{Role, User};

impl OnCall {
    /// "Seen before": the past incidents most similar to analysis `id` (at most
    /// three, best first), each older than it, with the current state of its ticket
    /// (any role). Empty while the analysis has no signature (not completed yet, or
    /// incident memory is off); [`crate::Error::NotFound`] for an unknown id.
    pub async fn similar_analyses(&self, actor: &User, id: Uuid) -> Result<Vec<PastIncident>> {
        actor.require(Role::Viewer)?;
        self.store.analysis(id).await?;
        if self.settings.memory_retention_days == 0 {
            return Ok(Vec::new());
        }
        let Some((incident_at, signature)) = self.store.signature(id).await? else {
            return Ok(Vec::new());
        };
        recall(
            self.store.as_ref(),
            &signature,
            id,
            incident_at,
            retrieval::SHOWN,
        )
        .await
    }

    /// Forgets analysis `id`'s incident signature (engineers and admins): it is no
    /// longer found as "seen before" nor lends a prior. False if it had none;
    /// [`crate::Error::NotFound`] for an unknown analysis.
    pub async fn forget_analysis_memory(&self, actor: &User, id: Uuid) -> Result<bool> {
        actor.require(Role::Engineer)?;
        self.store.analysis(id).await?;
        self.store.forget_signature(id).await
    }
}

/// Pipeline hook, after the statistical ranking: recalls the past incidents most
/// like this one, applies the bounded prior to `evidence.suspects` and stores the
/// digest in `evidence.memory`. Returns the signature (taken before the prior) for
/// [`remember`]. Memory never fails an analysis: an error is logged and skipped.
pub(crate) async fn recall_into(
    engine: &OnCall,
    analysis_id: Uuid,
    alert: &Alert,
    evidence: &mut Evidence,
) -> Option<Signature> {
    if engine.settings.memory_retention_days == 0 {
        return None;
    }
    let signature = Signature::of(alert, evidence);
    match recall(
        engine.store.as_ref(),
        &signature,
        analysis_id,
        alert.starts_at,
        retrieval::SHOWN,
    )
    .await
    {
        Ok(similar) => {
            let (raised, hints) = apply_prior(&mut evidence.suspects, &similar);
            if !similar.is_empty() {
                evidence.memory = Some(MemoryDigest {
                    similar,
                    raised,
                    hints,
                });
            }
        }
        Err(e) => {
            tracing::warn!(analysis = %analysis_id, error = %e, "recalling similar incidents")
        }
    }
    Some(signature)
}

/// Pipeline hook, once the analysis is stored as completed: stores its signature
/// and prunes signatures older than the retention. Errors are logged, not raised.
pub(crate) async fn remember(
    engine: &OnCall,
    analysis_id: Uuid,
    alert: &Alert,
    signature: Option<Signature>,
) {
    let Some(signature) = signature else { return };
    let now = Utc::now();
    if let Err(e) = engine
        .store
        .remember_signature(analysis_id, alert.starts_at, now, &signature)
        .await
    {
        tracing::warn!(analysis = %analysis_id, error = %e, "storing the incident signature");
        return;
    }
    let keep = Duration::days(i64::from(engine.settings.memory_retention_days));
    if let Err(e) = engine.store.prune_signatures(now - keep).await {
        tracing::warn!(error = %e, "pruning incident signatures");
    }
}
