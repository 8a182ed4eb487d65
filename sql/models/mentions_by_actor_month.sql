-- How often each actor is named, month by month: one row per month x actor_code, counting
-- the lexicon's ACTOR mentions (states by ISO code, groups such as NATO or HAMAS) in the
-- documents published that month, and the documents and independent stories they are in.
-- month is the first day of the publication month; undated and year-only documents fall
-- under a null month, never dropped.
WITH per_document AS (
    -- Counted per document first, then per month: two count(DISTINCT) over every
    -- mention cost more than one over a row per document (0.06 s, 0.04 s at 10k).
    SELECT
        CASE
            WHEN d.date_precision IS DISTINCT FROM 'year'
                THEN CAST(date_trunc('month', d.published_date) AS DATE)
        END AS month,
        e.actor_code,
        e.doc_id,
        coalesce(st.story_id, e.doc_id) AS story,
        count(*) AS mentions
    FROM entities AS e
    JOIN documents AS d ON d.doc_id = e.doc_id
    LEFT JOIN document_stories AS st ON st.doc_id = e.doc_id
    WHERE e.label = 'ACTOR'
    GROUP BY ALL
)
SELECT
    month,
    actor_code,
    CAST(sum(mentions) AS BIGINT) AS mentions,
    count(*) AS documents,
    count(DISTINCT story) AS independent_stories
FROM per_document
GROUP BY ALL
ORDER BY month NULLS LAST, mentions DESC, actor_code
