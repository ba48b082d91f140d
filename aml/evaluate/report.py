"""evaluation.json as concise tables: plain text for stdout, Markdown for the README."""
from __future__ import annotations


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _render(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    return [_row(header, widths), *(_row(r, widths) for r in rows)]


def _figures(m: dict) -> list[str]:
    return [f"{m['flagged']:,}", pct(m["share_flagged"], 2), f"{pct(m['recall'])} ({m['true_positives']})",
            pct(m["precision"], 2)]


def detectors_table(summary: dict, markdown: bool = False) -> list[str]:
    det = summary["detection"]
    header = ["detector", "family", "flagged", "share", "recall (TP)", "precision"]
    rows = []
    order = {"batch": 0, "stream": 1, "baseline": 2, "listing": 3}
    for name, m in sorted(det["detectors"].items(), key=lambda kv: (order[kv[1]["family"]], kv[0])):
        if m["flagged"] == 0 and m["family"] == "stream" and not m.get("rows"):
            continue  # a rule that raised nothing: the batch row says as much
        family = m["family"] + (" (shown, not counted)" if m["family"] == "listing" else "")
        rows.append([name, family, *_figures(m)])
    for group, label in (("ours", "ours: scenarios + rules"), ("baseline", "naive baseline")):
        u = det["unions"][group]
        rows.append([f"union, {label}", "all", *_figures(u["all"])])
        rows.append([f"union, {label}", f"at budget {pct(det['budget'], 2)}", *_figures(u["at_budget"])])
    return _render(header, rows, markdown)


def typology_table(summary: dict, markdown: bool = False) -> list[str]:
    det = summary["detection"]
    ours, base = det["unions"]["ours"], det["unions"]["baseline"]
    header = ["typology", "accounts", "same-name detector: recall / precision / share",
              "ours at budget: recall / precision", "baseline at budget: recall / precision", "ours (all): recall"]
    rows = []
    for t, n in det["typologies"].items():
        same = det["detectors"].get(t)
        same_text = (f"{pct(same['per_typology'][t]['recall'])} / "
                     f"{pct(same['precision'], 2)} / {pct(same['share_flagged'], 2)}") if same else "-"
        o, b = ours["at_budget"]["per_typology"][t], base["at_budget"]["per_typology"][t]
        rows.append([t, f"{n:,}", same_text, f"{pct(o['recall'])} / {pct(o['precision'], 2)}",
                     f"{pct(b['recall'])} / {pct(b['precision'], 2)}", pct(ours["all"]["per_typology"][t]["recall"])])
    return _render(header, rows, markdown)


def text(summary: dict, markdown: bool = False) -> str:
    ds, det, budget = summary["dataset"], summary["detection"], summary["budget"]
    lines = [
        f"aml evaluate: {ds['source']}: {ds['transactions']:,} transactions, {det['accounts']:,} accounts, "
        f"{det['laundering_accounts']:,} laundering accounts ({pct(det['prevalence'], 2)}), "
        f"window {summary['window']['start_date']}..{summary['window']['end_date']}",
        f"alert budget: {pct(budget['share'], 2)} of {budget.get('active_accounts', det['accounts']):,} active "
        f"accounts = {budget['accounts']:,} accounts ({budget['source']}); ranking: risk score (weights of the "
        f"distinct scenarios hit), then detectors hit",
        "",
        *detectors_table(summary, markdown),
        "",
        *typology_table(summary, markdown),
    ]
    if ds.get("left_out"):
        lines += ["", f"left out on import: {ds['left_out']}"]
    if ds.get("currencies", {}).get("without_rate"):
        lines += [f"no USD rate on import (amount_base left to the pipeline): {ds['currencies']['without_rate']}"]
    if summary.get("zones", {}).get("quarantine.rows"):
        lines += [f"quarantined by the Glue job: {summary['zones']['quarantine.rows']:,} rows"]
    lines += ["", f"stages (s): {summary['stages']}  total {summary['total_seconds']:.1f}s"]
    return "\n".join(lines)
