"""The personal-data guard's cost: validate + load of the bench table with the guard and
without it, in turns in fresh child processes (the same moments of a shared machine), best of
N each. `personal_data_guard_overhead` is (with − without) / without in CPU time of the whole
processes (in wall time too, as `..._wall`), target ≤ 0.25.

Run as a child (`python -m gongkai.bench.personal_data run on|off FOLDER DB`), it loads one
dataset as `gongkai.bench.load`'s child does, the guard switched as told, and prints one
`BENCH-RESULT {json}` line. The switch (`personal_data.ENABLED`) exists for this A/B only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import load


def run_child(guard: bool, folder: Path, db: Path) -> dict:
    run = load.measure(
        [sys.executable, "-m", "gongkai.bench.personal_data", "run", "on" if guard else "off", str(folder), str(db)]
    )
    for line in reversed(run.stdout.splitlines()):
        if line.startswith(load.RESULT_PREFIX):
            return json.loads(line[len(load.RESULT_PREFIX) :]) | {"cpu_s": run.cpu_s}
    raise RuntimeError(f"gongkai load failed (exit {run.returncode}):\n{run.stderr[-2000:]}")


def guard_overhead(folder: Path, dbs: Path, repeats: int) -> dict:
    """The figures: seconds (wall and CPU) with and without the guard, and the overheads."""
    runs: dict[bool, list[dict]] = {True: [], False: []}
    for _ in range(max(repeats, 1)):
        for guard in (True, False):
            report = run_child(guard, folder, load._fresh_db(dbs / f"guard-{'on' if guard else 'off'}.db"))
            if not report.get("valid"):
                errors = report.get("errors", [])[:5]
                raise RuntimeError(f"the bench table did not validate with guard={guard}: {errors}")
            runs[guard].append(report)
    with_s, without_s = (min(r["seconds"] for r in runs[g]) for g in (True, False))
    with_cpu, without_cpu = (min(r["cpu_s"] for r in runs[g]) for g in (True, False))
    return {
        "personal_data_guard_s": round(with_s, 3),
        "personal_data_unguarded_s": round(without_s, 3),
        "personal_data_guard_overhead_wall": _overhead(with_s, without_s),
        "personal_data_guard_cpu_s": round(with_cpu, 3),
        "personal_data_unguarded_cpu_s": round(without_cpu, 3),
        # the headline: CPU time of the whole processes (both halves of the split), steadier
        # than wall time on a shared machine, where runs seconds apart see different contention
        "personal_data_guard_overhead": _overhead(with_cpu, without_cpu),
    }


def _overhead(with_s: float, without_s: float) -> float | None:
    return round((with_s - without_s) / without_s, 3) if without_s else None


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "run" or argv[1] not in ("on", "off"):
        print("usage: python -m gongkai.bench.personal_data run on|off FOLDER DB", file=sys.stderr)
        return 2
    from gongkai.validate import personal_data

    personal_data.ENABLED = argv[1] == "on"
    report = load._child_run(Path(argv[2]), Path(argv[3]))
    print(load.RESULT_PREFIX + json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
