"""Server CPU per slider rerun, for one checkout or several side by side.

    python bench/rerun_cpu.py                        # this checkout
    python bench/rerun_cpu.py . /tmp/old-checkout    # compare (e.g. a `git worktree` of an older commit)
    python bench/rerun_cpu.py . /tmp/old --students 30 --moves same   # a class told "set 0.01"

Starts `streamlit run app.py` for each checkout given (a free loopback port each), lets
each one's background warm-up finish, opens ``--students`` sessions on each with the same
client as bench/classroom.py (Streamlit's websocket protocol), then runs rounds of 40
learning-rate slider moves per student, alternating between the servers, and prints each
server's CPU time per rerun (from /proc, user + system) for every round and its median.

``--moves``: ``jump`` (each move to a value not seen before, each student its own: a new
race and figure every rerun), ``step`` (one notch up or down from where the student is, as
the arrow keys move it: the commonest move), ``same`` (every student to the same new value
at once, as when the teacher names one). With more than one student, the class moves at
once, then waits for every answer, 40 times a round.

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
MOVES = ("jump", "step", "same")


def option(moves: str, student: int, i: int, r: int, n: int, at: int) -> int:
    """The option index a student moves the learning-rate slider to: the ``i``-th move of
    round ``r`` (``at``: where that student's slider is; ``n`` options)."""
    if moves == "step":  # up for a while, then down: each student from its own notch
        return min(max(at + (1 if (i // 8 + student) % 2 == 0 else -1), 0), n - 1)
    if moves == "same":
        return (i * 7 + r * 3 + 1) % n
    # Values not seen in the warm-up, and each student's its own: a new race and figure each rerun.
    return (i * 7 + r * 3 + 1 + 41 * student) % n


async def measure(servers: list, rounds: int, students: int, moves: str) -> dict:
    classes = []
    for _, port, _ in servers:
        sessions = [classroom.Session(f"ws://127.0.0.1:{port}/_stcore/stream") for _ in range(students)]
        await asyncio.gather(*(s.open() for s in sessions))
        for i in range(10):  # warm: every cache and code path touched once
            await asyncio.gather(*(s.rerun(s.lr_id, s.lr_options[(i * 7 + 3 * k) % len(s.lr_options)])
                                   for k, s in enumerate(sessions)))
        classes.append(sessions)
    # Where each slider is: its last warm-up move.
    at = {id(s): (9 * 7 + 3 * k) % len(s.lr_options) for c in classes for k, s in enumerate(c)}
    per_round = {root: [] for root, _, _ in servers}
    for r in range(rounds):
        for (root, _, proc), sessions in zip(servers, classes):
            before = classroom.cpu_seconds(proc.pid)
            for i in range(RERUNS_PER_ROUND):
                targets = [option(moves, k, i, r, len(s.lr_options), at[id(s)]) for k, s in enumerate(sessions)]
                for s, j in zip(sessions, targets):
                    at[id(s)] = j
                await asyncio.gather(*(s.rerun(s.lr_id, s.lr_options[j]) for s, j in zip(sessions, targets)))
            reruns = RERUNS_PER_ROUND * len(sessions)
            per_round[root].append(1000 * (classroom.cpu_seconds(proc.pid) - before) / reruns)
    for (root, _, _), sessions in zip(servers, classes):
        if any(s.exception for s in sessions):  # a rerun that raised costs nothing like one that drew the page
            print(f"  {root}: the page showed an exception during the rounds: figures not comparable")
        await asyncio.gather(*(s.close() for s in sessions))
    return per_round


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", default=[str(classroom.ROOT)],
                        help="directories holding app.py (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--students", type=int, default=1, help="sessions per server, moving at once")
    parser.add_argument("--moves", choices=MOVES, default="jump", help="where each move goes (see above)")
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
        per_round = asyncio.run(measure(servers, args.rounds, args.students, args.moves))
    finally:
        for _, _, proc in servers:
            classroom.stop_server(proc)
    print(f"server CPU per slider rerun, {args.students} student(s), moves {args.moves}, {args.rounds} rounds of "
          f"{RERUNS_PER_ROUND} moves each, taken in turn:")
    for root, values in per_round.items():
        print(f"  {root}: median {statistics.median(values):.1f} ms  (rounds: "
              f"{', '.join(f'{v:.1f}' for v in values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
