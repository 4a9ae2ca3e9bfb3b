"""Hostile and careless inputs (issue 25): every case a user met, run as a real process, one row each.

    python benchmarks/robustness.py        # about a minute on 2 cores

Each probe (tests/probes.py, which tests/test_robustness.py runs too) writes the exact input into an empty
folder and runs the command there. A row passes when the command answers as it must (a refusal: exit 2
and one line naming the problem, no traceback; or done, exit 0) and every file of the user's it must not
touch comes through byte for byte. The cases that take several steps (plans edited between makes, a make
beside a prune, the studio's requests) are tests only: tests/test_robustness.py, tests/test_studio_api.py.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.probes import PROBES, run_probe  # noqa: E402


def main() -> int:
    rows = []
    for name, probe in PROBES.items():
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_probe(probe, Path(folder))
        first = outcome.first_line.removeprefix("storyteller: error: ")
        rows.append(
            (
                name,
                str(outcome.exit),
                first[:70],
                "yes" if outcome.intact else "NO",
                "pass" if outcome.passed else "FAIL",
            )
        )
    header = ("probe", "exit", "first line", "files intact", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
    failed = sum(row[-1] != "pass" for row in rows)
    print(f"\n{len(rows) - failed} of {len(rows)} probes pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
