-- The mart's mentions add up, label by label, to the ACTOR and WEAPON mentions in
-- entities, undated documents included. Offending row: a label whose two totals differ.
SELECT label, mart.mentions AS mart_mentions, base.mentions AS entity_mentions
FROM
    (SELECT label, sum(mentions) AS mentions FROM mentions_by_month GROUP BY label) AS mart
FULL JOIN
    (
        SELECT label, count(*) AS mentions FROM entities
        WHERE label IN ('ACTOR', 'WEAPON') GROUP BY label
    ) AS base
    USING (label)
WHERE mart.mentions IS DISTINCT FROM base.mentions
