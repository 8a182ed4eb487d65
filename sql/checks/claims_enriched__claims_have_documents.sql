-- No claim without a document: every claim has its document (a seed file) and its
-- evidence sentence. Offending rows: the claims whose document or sentence is missing.
SELECT
    claim_id,
    doc_id,
    sentence_id,
    CASE WHEN source_file IS NULL THEN 'no document' ELSE 'no sentence' END AS problem
FROM claims_enriched
WHERE source_file IS NULL OR sentence IS NULL
