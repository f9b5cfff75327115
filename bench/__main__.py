"""`python -m bench [NAME ...]`: run every benchmark of the package, or the named ones."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import time

from bench import FIGURES, benchmarks, table


def run(argv: list[str]) -> int:
    known = benchmarks()
    names = [a for a in argv if not a.startswith("-")] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        main = getattr(module, "main", None)
        if main is not None and inspect.iscoroutinefunction(main):
            asyncio.run(main(argv))
        elif callable(getattr(module, "run", None)):
            module.run()
        else:
            print(f"bench.{name} has neither `async def main(argv)` nor `def run()`", file=sys.stderr)
            return 2
    print(f"\n== all figures ({time.perf_counter() - started:.0f} s)", flush=True)
    print(table(FIGURES))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
