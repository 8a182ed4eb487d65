-- One row per relation x supplier x recipient x weapon_class (nulls compare equal), and
-- no claim counted by more documents or stories than it has claims. Offending rows: the
-- repeated or impossible combinations.
SELECT relation, supplier, recipient, weapon_class, count(*) AS rows, 'repeated' AS problem
FROM claim_corroboration
GROUP BY ALL
HAVING count(*) > 1
UNION ALL
SELECT relation, supplier, recipient, weapon_class, 1 AS rows, 'counts' AS problem
FROM claim_corroboration
WHERE documents > claims OR independent_stories > documents OR outlets > documents
