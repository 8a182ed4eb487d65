-- Weapon mentions (lexicon WEAPON entities) per month of publication.
-- Grain: month x weapon_class. Undated documents fall under a null month.
SELECT
    CAST(date_trunc('month', d.published_date) AS DATE) AS month,
    e.weapon_class,
    count(*) AS mentions,
    count(DISTINCT e.doc_id) AS documents
FROM entities AS e
JOIN documents AS d ON d.doc_id = e.doc_id
WHERE e.label = 'WEAPON'
GROUP BY ALL
ORDER BY month NULLS LAST, mentions DESC, weapon_class
