-- Every claim with its evidence, the table to read first. One row per claim (key:
-- claim_id): who supplied what to whom (relation, supplier, recipient, weapon_class and
-- the words used), the quantity, who says so (attributed_to), whether it is hedged or
-- denied (negated), the sentence it was read in, and the document it comes from (title,
-- outlet, published_date with its precision, seed file, url) with its story. month is the
-- first day of the publication month, null when the month is unknown (an undated or a
-- year-only document). Updated by document: the rows of documents that are new or changed
-- are appended, so ORDER BY when the order matters.
-- @update: documents
SELECT
    c.claim_id,
    c.relation,
    c.supplier,
    c.recipient,
    c.weapon_class,
    c.weapon_text,
    c.quantity,
    c.quantity_text,
    c.attributed_to,
    c.hedged,
    c.negated,
    s.text AS sentence,  -- the sentence it was read in
    d.title,
    d.outlet,
    d.published_date,
    d.date_precision,
    CASE
        WHEN d.date_precision IS DISTINCT FROM 'year'
            THEN CAST(date_trunc('month', d.published_date) AS DATE)
    END AS month,  -- first day of the publication month; null: unknown or year only
    d.source_file,
    d.url,
    coalesce(st.story_id, c.doc_id) AS story_id,  -- the story its document belongs to
    c.doc_id,
    c.sentence_id,
    s.start_char AS sentence_start_char,  -- the sentence's offset in clean_text
    s.end_char AS sentence_end_char,  -- its end offset (exclusive)
    c.trigger_text,
    c.extractor_version,
    c.rule,
    c.event_start,
    c.event_end,
    c.event_precision,
    c.event_text,
    c.weapon_system,
    c.system_origin
-- Left joins: a claim whose document or sentence went missing stays visible (with nulls)
-- and fails the claims_enriched checks instead of vanishing from every mart. Every join
-- matches doc_id: a document's rows come from that document's rows alone.
FROM claims AS c
LEFT JOIN documents AS d ON d.doc_id = c.doc_id
LEFT JOIN sentences AS s ON s.sentence_id = c.sentence_id AND s.doc_id = c.doc_id
LEFT JOIN document_stories AS st ON st.doc_id = c.doc_id
ORDER BY d.published_date NULLS LAST, d.source_file, s.position, c.claim_id
