"""Run the benchmarks and print one table. ``python -m benchmarks [NAME ...]`` runs a subset."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


class Table:
    """Figures, each with (where it has one) its ratio to a reference measured in the same run
    and the target that ratio should meet."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(self, figure: str, value: float, unit: str, note: str = "", *, ratio: float | None = None,
            target: str = "") -> None:
        shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3f}"
        ratio_shown = "" if ratio is None else f"{ratio:,.2f}x"
        self.rows.append((figure, shown, unit, ratio_shown, target, note))
        extra = f" (ratio {ratio_shown}, target {target or '-'})" if ratio is not None else ""
        print(f"  {figure}: {shown} {unit}{extra} {note}", file=sys.stderr, flush=True)

    def render(self) -> str:
        headers = ("figure", "value", "unit", "ratio", "target", "note")
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) for i, h in enumerate(headers)] if self.rows else [len(h) for h in headers]
        line = lambda cells: " | ".join(c.ljust(w) if i not in (1, 3) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
        out = [line(headers), "-+-".join("-" * w for w in widths)]
        out += [line(r) for r in self.rows]
        return "\n".join(out)


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    table = Table()
    for name in wanted:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").run(table)
        print(f"  ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
