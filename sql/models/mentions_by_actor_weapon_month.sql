-- Claims per actor, role and weapon class per month of publication.
-- Grain: month x actor_code x role (supplier | recipient) x weapon_class.
WITH roles AS (
    SELECT claim_id, doc_id, weapon_class, supplier AS actor_code, 'supplier' AS role
    FROM claims
    WHERE supplier IS NOT NULL
    UNION ALL
    SELECT claim_id, doc_id, weapon_class, recipient AS actor_code, 'recipient' AS role
    FROM claims
    WHERE recipient IS NOT NULL
)
SELECT
    CAST(date_trunc('month', d.published_date) AS DATE) AS month,
    r.actor_code,
    r.role,
    r.weapon_class,
    count(*) AS claims,
    count(DISTINCT r.doc_id) AS documents
FROM roles AS r
JOIN documents AS d ON d.doc_id = r.doc_id
GROUP BY ALL
ORDER BY month NULLS LAST, claims DESC, actor_code, role, weapon_class
