-- How often each weapon class is named, month by month: one row per month x weapon_class,
-- counting the lexicon's WEAPON mentions ("shells", "Shahed drones", "KN-23") in the
-- documents published that month, and the documents and independent stories they are in.
-- month is the first day of the publication month; undated and year-only documents fall
-- under a null month, never dropped.
SELECT
    month,
    code AS weapon_class,  -- the weapon class named
    mentions,
    documents,
    independent_stories
FROM mentions_by_month
WHERE label = 'WEAPON'
ORDER BY month NULLS LAST, mentions DESC, weapon_class
