"""`aml report` end to end on the hand-made zone, and its errors: one `aml: error:` line each."""
from __future__ import annotations

import pytest

from aml.cli import main


def test_writes_one_html_file(zone_dir, tmp_path, capsys):
    out = tmp_path / "deep" / "report.html"
    assert main(["report", "--from", "2025-03-01", "--to", "2025-03-10", "--data-dir", str(zone_dir),
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}: 2025-03-01 to 2025-03-10 on local, 4 alerts, 2 accounts alerted, 1 curation run(s), " \
           "1 daily run report(s)" in err
    text = out.read_text()
    for title in ("Alerts per rule per day, by source", "Top subjects by risk score", "Detection quality",
                  "Pipeline health"):
        assert f"<h2>{title}</h2>" in text
    assert text.count("Plotly.newPlot(") == 4  # alerts, risk, rows per zone, quarantine (no labels: no scores chart)
    assert "No labels for this period" in text


def test_scores_add_the_detection_chart(zone_dir, tmp_path):
    scores = tmp_path / "summary.json"
    scores.write_text('{"detection": {"structuring": {"recall": 0.5, "precision": 1.0}}}')
    out = tmp_path / "r.html"
    assert main(["report", "--from", "2025-03-01", "--to", "2025-03-10", "--data-dir", str(zone_dir),
                 "--scores", str(scores), "--out", str(out)]) == 0
    assert out.read_text().count("Plotly.newPlot(") == 5


@pytest.mark.parametrize(("extra", "message"), [
    (["--from", "2025-13-01", "--to", "2025-03-10"], "--from '2025-13-01' is not a date"),
    (["--from", "2025-03-10", "--to", "2025-03-01"], "--from 2025-03-10 is after --to 2025-03-01"),
    (["--from", "2025-03-01", "--to", "2025-03-10", "--data-dir", "{tmp}/nowhere"], "does not exist"),
    (["--from", "2025-03-01", "--to", "2025-03-10", "--scores", "{tmp}/none.json"], "cannot read scores"),
])
def test_bad_input_one_error_line(extra, message, tmp_path, capsys):
    args = ["report", *(a.replace("{tmp}", str(tmp_path)) for a in extra)]
    if "--data-dir" not in args:
        args += ["--data-dir", str(tmp_path)]
    assert main([*args, "--out", str(tmp_path / "r.html")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aml: error: ") and message in lines[0]
    assert not (tmp_path / "r.html").exists()
