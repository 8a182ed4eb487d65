-- How often each document names each actor and each weapon class: one row per document x
-- label x code, where label is ACTOR (code: the actor_code) or WEAPON (code: the
-- weapon_class), counting the lexicon's mentions, with the document's publication month
-- and its story. mentions_by_month adds these rows up month by month. Updated by
-- document: the rows of documents that are new or changed are appended, so ORDER BY when
-- the order matters.
-- @update: documents
SELECT
    e.doc_id,
    CASE
        WHEN d.date_precision IS DISTINCT FROM 'year'
            THEN CAST(date_trunc('month', d.published_date) AS DATE)
    END AS month,  -- first day of the publication month; null: undated or year only
    e.label,  -- ACTOR or WEAPON
    -- the actor_code or weapon_class
    CASE e.label WHEN 'ACTOR' THEN e.actor_code ELSE e.weapon_class END AS code,
    coalesce(st.story_id, e.doc_id) AS story,  -- the document's story (itself when it has none)
    count(*) AS mentions  -- mentions in the document
FROM entities AS e
JOIN documents AS d ON d.doc_id = e.doc_id
LEFT JOIN document_stories AS st ON st.doc_id = e.doc_id
WHERE e.label IN ('ACTOR', 'WEAPON')
GROUP BY ALL
ORDER BY e.doc_id, e.label, code
