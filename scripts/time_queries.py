"""Time every named query over a curated zone on DuckDB: the median of 3 runs, rows and files
opened per query, then one JSON line with all of them (README "Partition pruning and query time").

usage: .venv/bin/python scripts/time_queries.py CURATED_DIR START_DATE END_DATE
(set PYTHONPATH to another checkout to time that tree's queries on the same zone)"""
from __future__ import annotations

import json
import statistics
import sys
import time

from aml.query import catalog
from aml.query.run import execute


def main(data_dir: str, start: str, end: str, runs: int = 3) -> dict:
    window = {"start_date": start, "end_date": end}
    figures = {}
    for name in catalog.window_queries():
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            result = execute(name, window, data_dir=data_dir)
            seconds.append(time.perf_counter() - started)
        figures[name] = {"seconds": round(statistics.median(seconds), 2), "rows": result.rows,
                         "files": result.files_scanned}
        print(name, figures[name], file=sys.stderr, flush=True)
    return figures


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(json.dumps(main(*sys.argv[1:4])))
