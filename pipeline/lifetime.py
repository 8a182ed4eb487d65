"""Objects that live as long as the process, kept out of the garbage collector's way.

A run builds a few million objects that are never freed: the modules Dagster, DuckDB,
polars, spaCy and matplotlib import, the definitions, the loaded spaCy model.
Every full collection of the cyclic garbage collector walks all of them again, a visible
share of a short run (docs/performance.md). Built inside `long_lived()`,
they are frozen (`gc.freeze`): later collections skip them. Python's documentation
recommends the same before `fork`, so that collections in the children do not write to
the pages they share with the parent.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# At exit the frozen objects are handed back to the collector, so that interpreter shutdown
# frees them as it frees the rest (DuckDB's bindings report the ones it could not free).
atexit.register(gc.unfreeze)


@contextmanager
def long_lived() -> Iterator[None]:
    """Pause the collector while the block builds long-lived objects (imports, a model),
    then freeze everything alive. Frozen objects are still freed when their last reference
    goes; only cycles among them wait until `gc.unfreeze()`. Use it once per kind of
    object (behind a cache), not around work that makes garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
