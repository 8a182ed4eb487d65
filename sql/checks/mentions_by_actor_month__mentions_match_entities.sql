-- The mart's mentions add up to the ACTOR mentions in entities, undated documents
-- included. Offending row: the two totals, when they differ.
SELECT mart.mentions AS mart_mentions, base.mentions AS entity_mentions
FROM
    (SELECT coalesce(sum(mentions), 0) AS mentions FROM mentions_by_actor_month) AS mart,
    (SELECT count(*) AS mentions FROM entities WHERE label = 'ACTOR') AS base
WHERE mart.mentions <> base.mentions
