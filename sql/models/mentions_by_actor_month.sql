-- Actor mentions (lexicon ACTOR entities) per month of publication.
-- Grain: month x actor_code. Undated documents fall under a null month, never dropped.
SELECT
    CAST(date_trunc('month', d.published_date) AS DATE) AS month,
    e.actor_code,
    count(*) AS mentions,
    count(DISTINCT e.doc_id) AS documents
FROM entities AS e
JOIN documents AS d ON d.doc_id = e.doc_id
WHERE e.label = 'ACTOR'
GROUP BY ALL
ORDER BY month NULLS LAST, mentions DESC, actor_code
