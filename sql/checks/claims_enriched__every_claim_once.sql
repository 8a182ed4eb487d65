-- Each claim of `claims` appears exactly once. Offending rows: claims missing from
-- claims_enriched, repeated in it, or present in it only.
WITH enriched AS (
    SELECT claim_id, count(*) AS copies FROM claims_enriched GROUP BY claim_id
)
SELECT coalesce(c.claim_id, e.claim_id) AS claim_id, coalesce(e.copies, 0) AS copies
FROM claims AS c
FULL JOIN enriched AS e ON e.claim_id = c.claim_id
WHERE c.claim_id IS NULL OR e.copies IS DISTINCT FROM 1
