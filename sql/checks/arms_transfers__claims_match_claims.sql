-- Supporting plus denied claims in the register add up to the transfer claims in `claims`
-- (supply, purchase or use, from one named actor to another). Offending row: the two
-- totals, when they differ.
SELECT mart.claims AS register_claims, base.claims AS transfer_claims
FROM
    (SELECT coalesce(sum(claims + denied_claims), 0) AS claims FROM arms_transfers) AS mart,
    (
        SELECT count(*) AS claims
        FROM claims
        WHERE relation IN ('supply', 'purchase', 'use')
            AND supplier IS NOT NULL
            AND recipient IS NOT NULL
            AND supplier <> recipient
    ) AS base
WHERE mart.claims <> base.claims
