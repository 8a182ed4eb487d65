"""`make dev`: the Dagster UI and daemon (`dg dev`), stopped cleanly by Ctrl-C or SIGTERM.

A command started in the background by a shell inherits SIGINT ignored, and `dg dev` stops
on SIGTERM by interrupting itself with SIGINT: it would never stop. Here the child starts
with SIGINT restored, and both signals reach it as the interrupt it stops on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    dg = Path(sys.executable).with_name("dg")
    child = subprocess.Popen(
        [str(dg), "dev", *argv],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )

    def stop(signum: int, frame: object) -> None:
        child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
