-- How often each actor is named, month by month: one row per month x actor_code, counting
-- the lexicon's ACTOR mentions (states by ISO code, groups such as NATO or HAMAS) in the
-- documents published that month, and the documents and independent stories they are in.
-- month is the first day of the publication month; undated and year-only documents fall
-- under a null month, never dropped.
SELECT
    month,
    code AS actor_code,  -- the actor named
    mentions,
    documents,
    independent_stories
FROM mentions_by_month
WHERE label = 'ACTOR'
ORDER BY month NULLS LAST, mentions DESC, actor_code
