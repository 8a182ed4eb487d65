-- The trade register: one row per supplier -> recipient -> weapon_class, from every claim
-- that something went from one actor to another (supply, purchase, or the use of a weapon
-- that came from the supplier). first_month / last_month are the first and last months it
-- was reported in (null when no claim is dated to the month); first_event / last_event span
-- what its claims say happened (null when none states a time). claims, documents,
-- independent_stories, outlets and claimants (distinct attributed_to) count claims that
-- are not denied; largest_quantity is the largest stated number with its wording;
-- hedged_share is the share of those claims reported as possible, alleged or unverified;
-- denied is true when any claim denies the transfer (denied_claims counts them).
-- Updated by group: the rows of the groups whose claims changed are replaced (appended
-- last), so ORDER BY when the order matters.
-- @update: groups
SELECT
    supplier,
    recipient,
    weapon_class,
    min(month) FILTER (WHERE NOT negated) AS first_month,  -- first month it was reported in
    max(month) FILTER (WHERE NOT negated) AS last_month,  -- last month it was reported in
    count(*) FILTER (WHERE NOT negated) AS claims,  -- claims that are not denied
    count(DISTINCT doc_id) FILTER (WHERE NOT negated) AS documents,  -- documents stating it
    -- stories stating it (near-copies of one wire story count once)
    count(DISTINCT story_id) FILTER (WHERE NOT negated) AS independent_stories,
    count(DISTINCT outlet) FILTER (WHERE NOT negated) AS outlets,  -- outlets stating it
    -- distinct sources the claims are attributed to
    count(DISTINCT attributed_to) FILTER (WHERE NOT negated) AS claimants,
    max(quantity) FILTER (WHERE NOT negated) AS largest_quantity,  -- largest stated number
    -- the wording of largest_quantity (of several, the last alphabetically)
    arg_max(quantity_text, (quantity, quantity_text))
        FILTER (WHERE NOT negated AND quantity IS NOT NULL) AS largest_quantity_text,
    -- share of the claims reported as possible, alleged or unverified
    round(avg(CAST(hedged AS INTEGER)) FILTER (WHERE NOT negated), 3) AS hedged_share,
    bool_or(negated) AS denied,  -- some claim denies the transfer
    count(*) FILTER (WHERE negated) AS denied_claims,  -- claims denying it
    list(DISTINCT relation ORDER BY relation) AS relations,  -- the relations of its claims
    -- the named systems its claims name (KN-23, Shahed-136 (Geran-2)), from weapon_system
    list(DISTINCT weapon_system ORDER BY weapon_system)
        FILTER (WHERE NOT negated AND weapon_system IS NOT NULL) AS weapon_systems,
    -- first day of what its claims say happened (event_start), where they state a time
    min(event_start) FILTER (WHERE NOT negated) AS first_event,
    -- last day of what its claims say happened (event_end, or event_start when open-ended)
    max(coalesce(event_end, event_start)) FILTER (WHERE NOT negated) AS last_event
FROM claims_enriched
WHERE relation IN ('supply', 'purchase', 'use')
    AND supplier IS NOT NULL
    AND recipient IS NOT NULL
    AND supplier <> recipient
GROUP BY ALL
ORDER BY independent_stories DESC, documents DESC, claims DESC, supplier, recipient, weapon_class
