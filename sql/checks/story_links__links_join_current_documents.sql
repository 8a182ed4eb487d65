-- Every link joins two different current documents, smaller doc_id first, with an
-- overlap between 0 and 1. Offending rows: the links that break this.
SELECT l.doc_id, l.other_doc_id, l.overlap
FROM story_links AS l
WHERE l.doc_id >= l.other_doc_id
    OR l.overlap NOT BETWEEN 0 AND 1
    OR l.doc_id NOT IN (SELECT doc_id FROM documents)
    OR l.other_doc_id NOT IN (SELECT doc_id FROM documents)
