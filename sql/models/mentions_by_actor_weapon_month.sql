-- Claims per actor, role and weapon class per month of publication: one row per month x
-- actor_code x role (supplier | recipient) x weapon_class. A claim with both a supplier and
-- a recipient counts once for each. claims counts every claim, denied ones included
-- (negated_claims says how many were denials); documents and independent_stories count
-- where they were read. month is null when the month is unknown (never dropped).
-- Updated by group: the rows of the groups whose claims changed are replaced (appended
-- last), so ORDER BY when the order matters.
-- @update: groups
WITH roles AS (
    SELECT month, doc_id, story_id, negated, weapon_class, supplier AS actor_code,
        'supplier' AS role
    FROM claims_enriched
    WHERE supplier IS NOT NULL
    UNION ALL
    SELECT month, doc_id, story_id, negated, weapon_class, recipient AS actor_code,
        'recipient' AS role
    FROM claims_enriched
    WHERE recipient IS NOT NULL
)
SELECT
    month,
    actor_code,  -- the supplier's or the recipient's actor code
    role,  -- supplier or recipient
    weapon_class,
    count(*) AS claims,  -- claims, denied ones included
    count(DISTINCT doc_id) AS documents,  -- documents the claims were read in
    count(DISTINCT story_id) AS independent_stories,  -- stories they were read in
    count(*) FILTER (WHERE negated) AS negated_claims  -- of claims, denials
FROM roles
GROUP BY ALL
ORDER BY month NULLS LAST, claims DESC, actor_code, role, weapon_class
