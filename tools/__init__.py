"""Tools for developing Salvo, run from a checkout and not shipped in the wheel:
`make bench` (`python -m tools.bench`) and `make chaos` (`python -m tools.chaos`)."""
