-- When claims were reported and when what they report happened, month by month: one row
-- per month x relation x weapon_class, with the claims published that month (month of the
-- article, as in the other marts) next to the claims whose event started that month
-- (event_start, where the sentence states a day or a month). A claim reported in March about
-- shells sent "since August" counts in March as published and in August as happened. Denied
-- claims are not counted. month is null for what has no month: undated or year-only articles,
-- claims that state no time or only a year.
WITH months AS (
    SELECT month, 'published' AS basis, relation, weapon_class, doc_id
    FROM claims_enriched
    WHERE NOT negated
    UNION ALL
    SELECT
        CASE
            WHEN event_precision IN ('day', 'month')
                THEN CAST(date_trunc('month', event_start) AS DATE)
        END,
        'happened',
        relation,
        weapon_class,
        doc_id
    FROM claims_enriched
    WHERE NOT negated
)
SELECT
    month,  -- first day of the month; null: no month known
    relation,
    weapon_class,
    count(*) FILTER (WHERE basis = 'published') AS claims_published,  -- reported that month
    count(*) FILTER (WHERE basis = 'happened') AS claims_happened,  -- events started that month
    count(DISTINCT doc_id) AS documents  -- articles behind either count
FROM months
GROUP BY ALL
ORDER BY month NULLS LAST, relation, weapon_class
