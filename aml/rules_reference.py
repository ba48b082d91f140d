"""docs/rules.md, generated: every scenario's definition, parameters, legal or typology source, and
which path runs it (tests/unit/test_rules_reference.py keeps the file current)."""
from __future__ import annotations

from aml_contract import named_queries, risk, rules

INTRO = """# Rule reference

Generated from `aml_contract/rule_parameters.json` and the headers of `athena_queries/*.sql`
(`AML_WRITE_RULES_REFERENCE=1 .venv/bin/pytest tests/unit/test_rules_reference.py` rewrites it; a
test fails while it is stale). Amounts are USD (`amount_base`); windows run on event time
(`booked_at`), days are UTC days.

## What the fields mean

- **rule_version**: bump it whenever a parameter or the logic of a rule changes. Every alert
  carries the version that raised it, so an analyst can tell alerts from before and after a change.
- **severity** (low | medium | high) and **score** (0-100): they do not change what is detected,
  only how it ranks. A scenario's **weight** in the risk score is its score times its severity's
  multiplier ({multipliers}); an account's **risk score** is the sum of the weights of the distinct
  scenarios it hit (a batch query and the Lambda rule of one scenario count once). The work queue
  (`customer_risk_summary`, the report, `aml evaluate`) orders accounts by risk score, then by
  alerts, and keeps the top **alert_budget** ({budget}) of the period's active accounts
  (`aml_contract/risk.py`).
- **`<floor>_percentile`**: an absolute USD floor that fits the bank. The floor applied is the
  lower of the absolute value and that percentile of the amounts booked by the account's segment
  (the country on the account's side of the transaction) over the last {days} days; a segment with
  fewer than {min_transactions} amounts takes the whole bank's (`aml_contract/segments.py`; the
  Glue job publishes the statistics as `statistics/segment_amounts/`). Before the first curation
  run, the absolute floors apply. Rules without one (the $10,000 currency transaction report of 31
  CFR 1010.311 and the structuring band below it) stay absolute: the law sets them.
- **out_of_order_tolerance_hours** ({tolerance} h): how late a real-time record may arrive and still
  complete or re-evaluate a window (README "Real-time rules: late records and alert ids").
- **Reference data** (FATF lists, FX rates, currencies) are not rule parameters: they are dated
  data in S3, read by both paths (README "Currencies, FX rates and FATF lists").
- **Evidence**: every scenario query's row names the transactions that make up its hit (the
  `Evidence` line of each scenario below, from the query's `-- evidence:` header). Most give
  `transaction_ids`, an array of the first {max_ids} by `booked_at` (then id), and
  `transaction_count`, how many there are in all: a count above the list's length says the list
  was cut at {max_ids} (`aml_contract.named_queries.MAX_EVIDENCE_TRANSACTIONS`, which keeps a batch
  alert's item far inside DynamoDB's 400 KB). A batch alert carries those ids and the count
  (`details.transaction_count`); `alert_evidence` lists the named ones, then, for a list cut
  short, the account's other transactions in the alert's window.

## How a change reaches both paths

1. Edit `aml_contract/rule_parameters.json`, bump the rule's `rule_version`, and run `make test`
   (boundary tests put every threshold at its exact value through both engines).
2. `cdk deploy`: the Lambda asset ships the file, and the named queries are rendered from it when
   they are registered. Until the deployment, both paths keep running the old values; there is no
   partial state where one path has the new threshold and the other the old one, except during
   the deployment itself.
3. Regenerate this page (above).

A threshold change does not re-evaluate history: real-time alerts raised before it stay as they
were; rerun the named queries over past dates to see what the new values find.

"""


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _evidence(evidence: named_queries.Evidence) -> str:
    window = (f"`{evidence.window_start}`" if evidence.window_start == evidence.window_end
              else f"`{evidence.window_start}` to `{evidence.window_end}`")
    ids = ", ".join(f"`{c}`" for c in evidence.transactions)
    listed = (f"the transactions in {ids} (at most {named_queries.MAX_EVIDENCE_TRANSACTIONS}), "
              f"`{evidence.count}` of them in all" if evidence.is_list else f"the transaction in {ids}")
    return f"window {window}; {listed}."


def render() -> str:
    from lambdas.realtime_rules.rules import STATELESS, WINDOWED

    params = rules.load()
    queries = {q.name: q for q in named_queries.load_all(params=params)}
    multipliers = params.risk_score.severity_multipliers
    intro = INTRO
    for name, value in {"tolerance": params.out_of_order_tolerance_hours,
                        "multipliers": ", ".join(f"{s} {multipliers[s]}" for s in rules.SEVERITIES),
                        "budget": f"{float(params.risk_score.alert_budget):.2%}",
                        "days": params.segments.statistics_days,
                        "min_transactions": params.segments.min_transactions,
                        "max_ids": named_queries.MAX_EVIDENCE_TRANSACTIONS}.items():
        intro = intro.replace("{" + name + "}", str(value))
    lines = [intro, "## Scenarios", "",
             "| rule | severity | score | weight | version | real time | batch query |",
             "|---|---|---|---|---|---|---|"]
    realtime = set(STATELESS) | set(WINDOWED)
    for rule_id, rule in params.rules.items():
        batch = f"`{rule_id}.sql`" if rule_id in queries else "none"
        lines.append(f"| `{rule_id}` | {rule.severity} | {rule.score} | {risk.weight(rule_id, params)} | "
                     f"{rule.rule_version} | {'yes' if rule_id in realtime else 'no'} | {batch} |")
    for rule_id, rule in params.rules.items():
        lines += ["", f"### `{rule_id}`", "", rule.description + ".", ""]
        lines += [f"- `{name}` = {_value(value)}" for name, value in rule.params.items()]
        query = queries.get(rule_id)
        if query is not None:
            lines += ["", f"Batch (`athena_queries/{rule_id}.sql`): {query.description}", "",
                      f"Evidence: {_evidence(query.evidence)}", "", f"Source: {query.serves}"]
    others = [q for name, q in queries.items() if name not in params.rules]
    if others:
        lines += ["", "## Other named queries (no rule parameters of their own)"]
        for query in others:
            lines += ["", f"### `{query.name}`", "", query.description, "", f"Source: {query.serves}"]
    return "\n".join(lines) + "\n"
