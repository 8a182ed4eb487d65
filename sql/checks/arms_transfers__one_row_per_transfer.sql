-- One row per supplier -> recipient -> weapon_class, and consistent counts: no more
-- documents than claims, stories or outlets than documents, a hedged share between 0
-- and 1. Offending rows: the repeated or inconsistent transfers.
SELECT supplier, recipient, weapon_class, count(*) AS rows, 'repeated' AS problem
FROM arms_transfers
GROUP BY ALL
HAVING count(*) > 1
UNION ALL
SELECT supplier, recipient, weapon_class, 1 AS rows, 'counts' AS problem
FROM arms_transfers
WHERE documents > claims
    OR independent_stories > documents
    OR outlets > documents
    OR claimants > claims
    OR hedged_share NOT BETWEEN 0 AND 1
