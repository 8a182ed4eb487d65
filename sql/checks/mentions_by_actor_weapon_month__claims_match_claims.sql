-- For each role, the mart's claims add up to the claims in `claims` naming an actor in
-- that role (supplier, recipient). Offending rows: roles whose totals differ.
WITH base AS (
    SELECT 'supplier' AS role, count(*) AS claims FROM claims WHERE supplier IS NOT NULL
    UNION ALL
    SELECT 'recipient' AS role, count(*) AS claims FROM claims WHERE recipient IS NOT NULL
),
mart AS (
    SELECT role, sum(claims) AS claims FROM mentions_by_actor_weapon_month GROUP BY role
)
SELECT
    coalesce(base.role, mart.role) AS role,
    coalesce(mart.claims, 0) AS mart_claims,
    coalesce(base.claims, 0) AS base_claims
FROM base
FULL JOIN mart ON mart.role = base.role
WHERE coalesce(mart.claims, 0) <> coalesce(base.claims, 0)
