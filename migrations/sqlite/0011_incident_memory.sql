-- Incident memory (oncall-core/src/memory): one signature per completed analysis and
-- an inverted index over its terms. Keep in step with ../mysql/0011_incident_memory.sql.
--
-- memory_signatures: the signature (JSON: alert name, scope labels, suspects with their
--   evidence kind, hashes of normalized log templates, metric shifts; never a raw log
--   line), when its incident began (incident_at: retrieval only looks back from there)
--   and when it was stored (stored_at: retention). Deleted with its analysis.
-- memory_terms: term → analyses (the inverted index), with the term's weight in the
--   signature; keyed by (term, incident_at, analysis_id) so a term's most recent
--   postings before a time are one index range.
-- memory_term_counts: how many signatures hold each term (document frequency), kept
--   in the transaction that stores or forgets a signature; the row `#signatures`
--   counts the signatures.

CREATE TABLE memory_signatures (
    analysis_id TEXT NOT NULL PRIMARY KEY REFERENCES analyses (id) ON DELETE CASCADE,
    incident_at TEXT NOT NULL,
    stored_at   TEXT NOT NULL,
    alert_name  TEXT NOT NULL,
    signature   TEXT NOT NULL
);
CREATE INDEX memory_signatures_stored_at ON memory_signatures (stored_at);

CREATE TABLE memory_terms (
    term        TEXT NOT NULL,
    incident_at TEXT NOT NULL,
    analysis_id TEXT NOT NULL REFERENCES memory_signatures (analysis_id) ON DELETE CASCADE,
    weight      REAL NOT NULL,
    PRIMARY KEY (term, incident_at, analysis_id)
);
CREATE INDEX memory_terms_analysis ON memory_terms (analysis_id);

CREATE TABLE memory_term_counts (
    term      TEXT    NOT NULL PRIMARY KEY,
    documents INTEGER NOT NULL
);
