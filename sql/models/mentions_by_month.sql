-- How often each actor and each weapon class is named, month by month: one row per month x
-- label x code, where label is ACTOR (code: the actor_code) or WEAPON (code: the
-- weapon_class), counting the lexicon's mentions in the documents published that month,
-- and the documents and independent stories they are in. month is the first day of the
-- publication month; undated and year-only documents fall under a null month, never
-- dropped. mentions_by_actor_month and mentions_by_weapon_month are its two halves.
-- Updated by group: a new or changed document computes again only the months, labels and
-- codes its rows of mentions_by_document fall in.
-- @update: groups
SELECT
    month,  -- first day of the publication month; null: undated or year only
    label,  -- ACTOR or WEAPON
    code,  -- the actor_code or weapon_class
    CAST(sum(mentions) AS BIGINT) AS mentions,  -- mentions in that month's documents
    count(*) AS documents,  -- documents naming it
    count(DISTINCT story) AS independent_stories  -- stories naming it
FROM mentions_by_document
GROUP BY ALL
ORDER BY label, month NULLS LAST, mentions DESC, code
