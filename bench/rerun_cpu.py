"""Server CPU per slider rerun, for one checkout or several side by side.

    python bench/rerun_cpu.py                        # this checkout
    python bench/rerun_cpu.py . /tmp/old-checkout    # compare (e.g. a `git worktree` of an older commit)

Starts `streamlit run app.py` for each checkout given (a free loopback port each), lets
each one's background warm-up finish, opens one session on each with the same client as
bench/classroom.py (Streamlit's websocket protocol), then runs rounds of 40 learning-rate
slider moves, alternating between the servers, and prints each server's CPU time per
rerun (from /proc, user + system) for every round and its median.

Why alternate: this machine's speed drifts by ±30 % within minutes, so two runs one after
the other cannot tell a 10 % change from the drift; rounds taken in turn see the same drift.
Servers stopped by their PIDs; loopback only; bounded loops.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classroom  # noqa: E402  (bench/classroom.py: the protocol client and the server helpers)

RERUNS_PER_ROUND = 40


async def measure(servers: list, rounds: int) -> dict:
    sessions = []
    for _, port, _ in servers:
        session = classroom.Session(f"ws://127.0.0.1:{port}/_stcore/stream")
        await session.open()
        for i in range(10):  # warm: every cache and code path touched once
            await session.rerun(session.lr_id, session.lr_options[(i * 7) % len(session.lr_options)])
        sessions.append(session)
    per_round = {root: [] for root, _, _ in servers}
    for r in range(rounds):
        for (root, _, proc), session in zip(servers, sessions):
            before = classroom.cpu_seconds(proc.pid)
            for i in range(RERUNS_PER_ROUND):
                # Values not seen in the warm-up, so each rerun computes a new race and figure.
                await session.rerun(session.lr_id,
                                    session.lr_options[(i * 7 + r * 3 + 1) % len(session.lr_options)])
            per_round[root].append(1000 * (classroom.cpu_seconds(proc.pid) - before) / RERUNS_PER_ROUND)
    for (root, _, _), session in zip(servers, sessions):
        if session.exception:  # a rerun that raised costs nothing like one that drew the page
            print(f"  {root}: the page showed an exception during the rounds: figures not comparable")
        await session.close()
    return per_round


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=[str(classroom.ROOT)],
                        help="directories holding app.py (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    servers = []
    try:
        for checkout in args.checkouts:
            root = Path(checkout).resolve()
            if not (root / "app.py").is_file():
                print(f"{checkout}: no app.py there", file=sys.stderr)
                return 2
            classroom.ROOT = root  # start_server runs app.py from here
            port = classroom.free_port()
            servers.append((str(root), port, classroom.start_server(port)))
        for root, port, proc in servers:  # the first visit starts the warm-up; wait for it
            asyncio.run(classroom.classroom(f"ws://127.0.0.1:{port}/_stcore/stream", 1, proc.pid))
        for _, _, proc in servers:
            classroom.wait_until_idle(proc.pid)
        per_round = asyncio.run(measure(servers, args.rounds))
    finally:
        for _, _, proc in servers:
            classroom.stop_server(proc)
    print(f"server CPU per slider rerun, {args.rounds} rounds of {RERUNS_PER_ROUND} reruns, taken in turn:")
    for root, values in per_round.items():
        print(f"  {root}: median {statistics.median(values):.1f} ms  (rounds: "
              f"{', '.join(f'{v:.1f}' for v in values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
