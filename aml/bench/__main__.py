"""Run every benchmark module in this package (or those named on the command line), print
their figures and write them to out/bench.json."""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import aml.bench as package
from aml import REPO_ROOT


def main(names: list[str]) -> int:
    modules = names or sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    results = {}
    for name in modules:
        print(f"== bench {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        results[name] = importlib.import_module(f"aml.bench.{name}").run()
        results[name]["bench_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps({name: results[name]}, indent=2, default=str), flush=True)
    out = Path(REPO_ROOT / "out" / "bench.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"figures written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
