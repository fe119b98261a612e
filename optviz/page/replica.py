"""One replica of ``optviz serve --replicas N``: ``python -m optviz.page.replica run SCRIPT [options]``.

Warms the process up first (every surface's race program compiled, its picture drawn), then
runs Streamlit in this same process with the arguments given (as ``streamlit run`` would).
Streamlit answers /_stcore/health only once it runs, so the supervisor (optviz/serving.py),
which enables a replica in nginx on its first healthy answer, gives it students only once it
is warm: no student's click waits for a compile, and the warm-up runs once per replica.
"""

from __future__ import annotations

import os
import sys
import threading


def main() -> None:
    import optviz.xla

    optviz.xla.configure()  # before anything starts JAX, as the page's own set-up would
    if os.environ.get("OPTVIZ_WARM_UP", "1") != "0":
        from optviz.page import main as page  # noqa: F401  (the page's imports: a first visit's second)
        from optviz.page import setup

        setup._warm_all_surfaces(threading.Event())
    # Done here: the page's own warm-up thread (started on a first visit) would find it all
    # compiled and only repeat the walk.
    os.environ["OPTVIZ_WARM_UP"] = "0"
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
