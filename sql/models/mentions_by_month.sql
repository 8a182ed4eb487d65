-- How often each actor and each weapon class is named, month by month: one row per month x
-- label x code, where label is ACTOR (code: the actor_code) or WEAPON (code: the
-- weapon_class), counting the lexicon's mentions in the documents published that month,
-- and the documents and independent stories they are in. month is the first day of the
-- publication month; undated and year-only documents fall under a null month, never
-- dropped. mentions_by_actor_month and mentions_by_weapon_month are its two halves.
WITH per_document AS (
    -- Counted per document first, then per month: one count(DISTINCT) over a row per
    -- document instead of two over every mention.
    SELECT
        CASE
            WHEN d.date_precision IS DISTINCT FROM 'year'
                THEN CAST(date_trunc('month', d.published_date) AS DATE)
        END AS month,
        e.label,
        CASE e.label WHEN 'ACTOR' THEN e.actor_code ELSE e.weapon_class END AS code,
        e.doc_id,
        coalesce(st.story_id, e.doc_id) AS story,
        count(*) AS mentions
    FROM entities AS e
    JOIN documents AS d ON d.doc_id = e.doc_id
    LEFT JOIN document_stories AS st ON st.doc_id = e.doc_id
    WHERE e.label IN ('ACTOR', 'WEAPON')
    GROUP BY ALL
)
SELECT
    month,  -- first day of the publication month; null: undated or year only
    label,  -- ACTOR or WEAPON
    code,  -- the actor_code or weapon_class
    CAST(sum(mentions) AS BIGINT) AS mentions,  -- mentions in that month's documents
    count(*) AS documents,  -- documents naming it
    count(DISTINCT story) AS independent_stories  -- stories naming it
FROM per_document
GROUP BY ALL
ORDER BY label, month NULLS LAST, mentions DESC, code
