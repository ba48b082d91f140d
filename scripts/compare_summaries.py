"""Which summary.json figures are stable under a fixed seed (equal in two runs of the same code),
and whether a third run keeps exactly those. Usage: compare_summaries.py A B [C]"""
import json
import sys
from pathlib import Path


def flat(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flat(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: json.dumps(value, sort_keys=True)}


a, b = (flat(json.loads(Path(p).read_text())) for p in sys.argv[1:3])
stable = sorted(k for k in a.keys() & b.keys() if a[k] == b[k])
varying = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(f"stable figures: {len(stable)}; varying: {len(varying)}")
for k in varying:
    print("  varies:", k, a.get(k, "-")[:60], "|", b.get(k, "-")[:60])
if len(sys.argv) > 3:
    c = flat(json.loads(Path(sys.argv[3]).read_text()))
    changed = [k for k in stable if c.get(k) != a[k]]
    print(f"third run: {len(stable) - len(changed)} of {len(stable)} stable figures kept")
    for k in changed:
        print("  CHANGED:", k, a[k][:80], "->", c.get(k, "-")[:80])
    sys.exit(1 if changed else 0)
