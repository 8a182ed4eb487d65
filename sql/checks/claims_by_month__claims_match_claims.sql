-- Both counts add up to the claims that are not denied, once each. Offending row: a basis
-- whose total differs from claims_enriched.
SELECT basis, mart_claims, claims
FROM (
    SELECT 'published' AS basis, sum(claims_published) AS mart_claims FROM claims_by_month
    UNION ALL
    SELECT 'happened', sum(claims_happened) FROM claims_by_month
) AS mart,
    (SELECT count(*) AS claims FROM claims_enriched WHERE NOT negated) AS base
WHERE mart_claims IS DISTINCT FROM claims AND NOT (mart_claims IS NULL AND claims = 0)
