-- Incident memory. Keep in step with ../sqlite/0011_incident_memory.sql, which says
-- what the tables are for.

CREATE TABLE memory_signatures (
    analysis_id CHAR(36)     NOT NULL PRIMARY KEY,
    incident_at DATETIME(6)  NOT NULL,
    stored_at   DATETIME(6)  NOT NULL,
    alert_name  VARCHAR(512) NOT NULL,
    signature   MEDIUMTEXT   NOT NULL,
    KEY memory_signatures_stored_at (stored_at),
    CONSTRAINT memory_signatures_analysis_fk FOREIGN KEY (analysis_id) REFERENCES analyses (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE memory_terms (
    term        VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    incident_at DATETIME(6)  NOT NULL,
    analysis_id CHAR(36)     NOT NULL,
    weight      DOUBLE       NOT NULL,
    PRIMARY KEY (term, incident_at, analysis_id),
    KEY memory_terms_analysis (analysis_id),
    CONSTRAINT memory_terms_signature_fk FOREIGN KEY (analysis_id) REFERENCES memory_signatures (analysis_id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE memory_term_counts (
    term      VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    documents BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
