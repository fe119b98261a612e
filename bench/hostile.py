"""The worst links against the page's work budget: server CPU for one run, and another
visitor's time to first chart while it runs.

    python bench/hostile.py                          # this checkout
    python bench/hostile.py /tmp/before .            # an older checkout first, then this one

For each checkout: starts `streamlit run app.py` (a free loopback port), lets the first
visit's warm-up finish (every named surface compiled, as before a class), and measures
an ordinary visitor's time to first chart on an idle server. Then, for each hostile link:
opens it (the same protocol client as bench/classroom.py), and 2 s later an ordinary
visitor opens the default page; it prints the server's CPU seconds (user + system, from
/proc) from the link's first message to its run's end, the link's wall time, and the
ordinary visitor's time to first chart during it (against the idle figure). The budget
(README, "What a visitor can make the server do"): at most ~10 s of CPU beyond a cold
page for any link, and no wait for the ordinary visitor.

The links, all fourteen optimizers at 2000 steps on the Tuning tab:
- `issue`: the typed formula of nested hyperbolic functions (under 200 characters) that
  issue #30 found taking minutes; refused as too costly since the formula cost cap;
- `at-cap`: the costliest formula the cap admits (12 costly operations, in three chains);
- `named`: Rastrigin, no formula (the map and the curves alone).

Servers stopped by their PIDs; loopback only; bounded waits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classroom  # noqa: E402  (bench/classroom.py: the protocol client and the server helpers)

classroom.TIMEOUT = 900.0  # a hostile run sends nothing for minutes before the fix

ALL = "sgd,nesterov,adagrad,rmsprop,adam,adamax,adamw,nadam,adadelta,lion,ftrl,lamb,adafactor,schedulefreeadamw"


def _chain(depth: int, inner: str) -> str:
    for k in range(depth):
        inner = ("tanh", "sinh", "cosh", "sin")[k % 4] + f"({inner})"
    return inner


LINKS = {
    "issue": _chain(27, "x*y") + "+x**2",
    "at-cap": "+".join(_chain(4, v) for v in ("x*y", "x-y", "x+y")) + "+x**2+y**2",
    "named": None,
}


def query(formula: str | None) -> str:
    fields = {"opt": ALL, "steps": "2000", "tab": "tune"}
    fields.update({"surface": "custom", "f": formula} if formula else {"surface": "rastrigin"})
    return urlencode(fields)


async def first_chart(url: str) -> float:
    session = classroom.Session(url)
    try:
        return await session.open()
    finally:
        await session.close()


async def hostile_run(url: str, pid: int, formula: str | None) -> dict:
    session = classroom.Session(url, query=query(formula))
    before = classroom.cpu_seconds(pid)
    started = time.perf_counter()
    run = asyncio.create_task(session.open())
    await asyncio.sleep(2.0)
    other = await first_chart(url)
    await run
    out = {"cpu": classroom.cpu_seconds(pid) - before, "wall": time.perf_counter() - started, "other": other,
           "exception": session.exception_text}
    await session.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=[str(classroom.ROOT)],
                        help="directories holding app.py (default: this checkout)")
    parser.add_argument("--links", nargs="*", default=list(LINKS), choices=list(LINKS))
    args = parser.parse_args()
    for checkout in args.checkouts:
        root = Path(checkout).resolve()
        if not (root / "app.py").is_file():
            print(f"{checkout}: no app.py there", file=sys.stderr)
            return 2
        classroom.ROOT = root
        port = classroom.free_port()
        proc = classroom.start_server(port)
        url = f"ws://127.0.0.1:{port}/_stcore/stream"
        try:
            asyncio.run(first_chart(url))  # starts the warm-up
            classroom.wait_until_idle(proc.pid, limit=300)
            idle = asyncio.run(first_chart(url))
            print(f"{root}: an ordinary visitor's first chart on the idle server {idle:.2f} s")
            for name in args.links:
                result = asyncio.run(hostile_run(url, proc.pid, LINKS[name]))
                note = f"  (page said: {result['exception'][:80]})" if result["exception"] else ""
                print(f"  {name:7s} server CPU {result['cpu']:6.1f} s, wall {result['wall']:6.1f} s; "
                      f"another visitor's first chart meanwhile {result['other']:5.2f} s{note}")
                classroom.wait_until_idle(proc.pid, limit=300)
        finally:
            classroom.stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
