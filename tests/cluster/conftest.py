"""The cluster tests' Ray stays on this machine's loopback address: Ray otherwise binds its
processes to the machine's network address (it is told so before it is imported)."""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
