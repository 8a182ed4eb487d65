-- first_month and last_month are DATEs on the first day of a month, or null, and the
-- first is not after the last. Offending rows: the transfers that break this.
SELECT supplier, recipient, weapon_class, first_month, last_month
FROM arms_transfers
WHERE typeof(first_month) <> 'DATE'
    OR typeof(last_month) <> 'DATE'
    OR day(first_month) <> 1
    OR day(last_month) <> 1
    OR first_month > last_month
