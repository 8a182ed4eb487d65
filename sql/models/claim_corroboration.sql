-- How well each distinct claim is supported.
-- Grain: relation x supplier x recipient x weapon_class. Denied (negated) claims are
-- counted apart and never as support: claims, documents, outlets and sources count only
-- claims that are not negated.
SELECT
    c.relation,
    c.supplier,
    c.recipient,
    c.weapon_class,
    count(*) FILTER (WHERE NOT c.negated) AS claims,
    count(DISTINCT c.doc_id) FILTER (WHERE NOT c.negated) AS documents,
    count(DISTINCT d.outlet) FILTER (WHERE NOT c.negated) AS outlets,
    min(d.published_date) FILTER (WHERE NOT c.negated) AS first_seen,
    max(d.published_date) FILTER (WHERE NOT c.negated) AS last_seen,
    max(c.quantity) FILTER (WHERE NOT c.negated) AS max_quantity,
    list(DISTINCT c.attributed_to ORDER BY c.attributed_to)
        FILTER (WHERE NOT c.negated AND c.attributed_to IS NOT NULL) AS sources,
    count(*) FILTER (WHERE c.hedged AND NOT c.negated) AS hedged_claims,
    count(*) FILTER (WHERE c.negated) AS negated_claims
FROM claims AS c
JOIN documents AS d ON d.doc_id = c.doc_id
GROUP BY ALL
ORDER BY documents DESC, claims DESC, relation, supplier, recipient, weapon_class
