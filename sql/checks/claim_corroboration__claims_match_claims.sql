-- For each relation, supporting plus denied claims in the mart add up to the claims in
-- `claims`: no claim is lost or counted twice. Offending rows: relations whose totals
-- differ.
WITH base AS (
    SELECT relation, count(*) AS claims FROM claims GROUP BY relation
),
mart AS (
    SELECT relation, sum(claims + negated_claims) AS claims
    FROM claim_corroboration
    GROUP BY relation
)
SELECT
    coalesce(base.relation, mart.relation) AS relation,
    coalesce(mart.claims, 0) AS mart_claims,
    coalesce(base.claims, 0) AS base_claims
FROM base
FULL JOIN mart ON mart.relation = base.relation
WHERE coalesce(mart.claims, 0) <> coalesce(base.claims, 0)
