-- Every document has exactly one story, every story row is a current document, and each
-- story is named by one of its own documents with the right size. Offending rows: the
-- documents that break this.
WITH sizes AS (
    SELECT story_id, count(*) AS documents, bool_or(doc_id = story_id) AS named_by_member
    FROM document_stories
    GROUP BY story_id
)
SELECT coalesce(d.doc_id, s.doc_id) AS doc_id, s.story_id, 'no story' AS problem
FROM documents AS d
FULL JOIN document_stories AS s ON s.doc_id = d.doc_id
WHERE s.doc_id IS NULL OR d.doc_id IS NULL
UNION ALL
SELECT s.doc_id, s.story_id, 'bad story' AS problem
FROM document_stories AS s
JOIN sizes USING (story_id)
WHERE NOT sizes.named_by_member OR sizes.documents <> s.story_documents
