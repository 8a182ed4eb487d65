"""The marts: SQL models in `sql/models/` kept up to date in the warehouse, the checks of
`sql/checks/`, and the monthly charts."""
