-- How well each distinct claim is supported: one row per relation x supplier x recipient x
-- weapon_class. claims, documents, independent_stories (near-copies of one wire story
-- count once), outlets, first_seen / last_seen (publication dates), max_quantity and
-- sources (who the claims are attributed to) count only claims that are not denied;
-- denied (negated) claims are counted apart in negated_claims and never as support.
-- Updated by group: the rows of the groups whose claims changed are replaced (appended
-- last), so ORDER BY when the order matters.
-- @update: groups
SELECT
    relation,
    supplier,
    recipient,
    weapon_class,
    count(*) FILTER (WHERE NOT negated) AS claims,  -- claims that are not denied
    count(DISTINCT doc_id) FILTER (WHERE NOT negated) AS documents,  -- documents stating it
    -- stories stating it (near-copies of one wire story count once)
    count(DISTINCT story_id) FILTER (WHERE NOT negated) AS independent_stories,
    count(DISTINCT outlet) FILTER (WHERE NOT negated) AS outlets,  -- outlets stating it
    min(published_date) FILTER (WHERE NOT negated) AS first_seen,  -- first publication date
    max(published_date) FILTER (WHERE NOT negated) AS last_seen,  -- last publication date
    max(quantity) FILTER (WHERE NOT negated) AS max_quantity,  -- largest stated number
    -- who the claims are attributed to
    list(DISTINCT attributed_to ORDER BY attributed_to)
        FILTER (WHERE NOT negated AND attributed_to IS NOT NULL) AS sources,
    count(*) FILTER (WHERE hedged AND NOT negated) AS hedged_claims,  -- of claims, hedged ones
    count(*) FILTER (WHERE negated) AS negated_claims  -- claims denying it
FROM claims_enriched
GROUP BY ALL
ORDER BY independent_stories DESC, documents DESC, claims DESC,
    relation, supplier, recipient, weapon_class
