"""Pure text functions: decode bytes, clean articles, resolve dates and metadata.

No Dagster imports and no file-system access here: every function takes and returns plain
values, so the ingest assets stay thin and these rules are unit-tested on literal strings.
"""
