-- Every month is a DATE on the first day of its month, or null (month unknown).
-- Offending rows: months of another type or on another day.
SELECT month, typeof(month) AS month_type
FROM mentions_by_document
WHERE typeof(month) <> 'DATE' OR day(month) <> 1
