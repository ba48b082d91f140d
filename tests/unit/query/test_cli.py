"""`aml query`: listing, showing, running, and one clear error for each kind of bad input."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from aml.cli import main

WINDOW = ["--param", "start_date=2025-01-01", "--param", "end_date=2025-04-20"]


def run(capsys, *argv):
    code = main(["query", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_show(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "structuring" in out and "cycles" in out
    code, out, _ = run(capsys, "show", "structuring")
    assert code == 0 and ">= 8000" in out and "dt BETWEEN ? AND ?" in out
    code, out, _ = run(capsys, "show", "structuring", "--engine", "local")
    assert code == 0 and "INTERVAL" in out


def test_run_json_reports_rows_and_bytes(capsys, curated_dir, pid):
    code, out, err = run(capsys, "run", "structuring", *WINDOW, "--data-dir", str(curated_dir), "--output", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["subject_account_pid"] for r in rows] == [pid("S1")]
    assert "1 rows" in err and "bytes scanned" in err


def test_run_parquet_and_csv(capsys, curated_dir, tmp_path):
    target = tmp_path / "out.parquet"
    code, _, _ = run(capsys, "run", "fan_in", *WINDOW, "--data-dir", str(curated_dir), "--output", "parquet",
                     "--out", str(target))
    assert code == 0 and len(pd.read_parquet(target)) == 1
    code, out, _ = run(capsys, "run", "fan_in", *WINDOW, "--data-dir", str(curated_dir), "--output", "csv")
    assert code == 0 and out.splitlines()[0].startswith("subject_account_pid,")


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "no_such_query", *WINDOW], "unknown query 'no_such_query'"),
    (["show", "no_such_query"], "unknown query"),
    (["run", "structuring", "--param", "start_date=2025-01-01"], "needs parameter(s) end_date"),
    (["run", "structuring", *WINDOW, "--param", "oops"], "malformed parameter 'oops'"),
    (["run", "structuring", *WINDOW, "--param", "colour=red"], "has no parameter(s) colour"),
    (["run", "structuring", "--param", "start_date=2025-02-30", "--param", "end_date=2025-03-01"], "is not a date"),
    (["run", "structuring", "--param", "start_date=2025-03-02", "--param", "end_date=2025-03-01"],
     "start_date 2025-03-02 is after end_date 2025-03-01"),
])
def test_bad_input_one_clear_error(capsys, curated_dir, argv, message):
    code, out, err = run(capsys, *argv, "--data-dir", str(curated_dir)) if argv[0] == "run" else run(capsys, *argv)
    assert code != 0 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_or_empty_data_dir(capsys, tmp_path):
    code, _, err = run(capsys, "run", "structuring", *WINDOW, "--data-dir", str(tmp_path / "absent"))
    assert code != 0 and "does not exist" in err
    code, _, err = run(capsys, "run", "structuring", *WINDOW, "--data-dir", str(tmp_path))
    assert code != 0 and "holds no curated tables" in err


def test_missing_table(capsys, curated_dir, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(curated_dir / "transactions", partial / "transactions")
    code, _, err = run(capsys, "run", "pep_high_risk_activity", *WINDOW, "--data-dir", str(partial))
    assert code != 0 and "reads table(s) accounts, customers, missing from" in err


def test_without_data_dir_the_demos_curated_zone_is_found(monkeypatch, tmp_path):
    """Issue 28: after `make demo`, `aml query run` finds the demo's data without flags."""
    from aml.query import run as query_run

    local, demo = tmp_path / "local-curated", tmp_path / "demo-curated"
    monkeypatch.delenv(query_run.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(query_run, "data_dir_candidates", lambda: [local, demo])
    assert query_run.default_data_dir() == local  # neither exists: the first, named in the error
    demo.mkdir()
    assert query_run.default_data_dir() == demo
    local.mkdir()
    assert query_run.default_data_dir() == local
    monkeypatch.setenv(query_run.DATA_DIR_ENV, str(tmp_path / "chosen"))
    assert query_run.default_data_dir() == tmp_path / "chosen"


def test_a_missing_default_data_dir_names_every_place_tried_and_the_demo(capsys, monkeypatch, tmp_path):
    from aml.query import run as query_run

    monkeypatch.delenv(query_run.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(query_run, "data_dir_candidates", lambda: [tmp_path / "a", tmp_path / "b"])
    code, _, err = run(capsys, "run", "structuring", *WINDOW)
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "a") in err and str(tmp_path / "b") in err and "make demo" in err


@pytest.mark.parametrize(("name", "check"), [
    ("rows.csv", lambda text: text.splitlines()[0].startswith("subject_account_pid,")),
    ("rows.json", lambda text: json.loads(text.splitlines()[0])["subject_account_pid"]),
    ("rows.jsonl", lambda text: json.loads(text.splitlines()[0])["subject_account_pid"]),
])
def test_out_without_output_takes_the_format_from_the_suffix(capsys, curated_dir, tmp_path, name, check):
    target = tmp_path / "new" / "folder" / name  # a missing folder is created, as for parquet
    code, _, _ = run(capsys, "run", "structuring", *WINDOW, "--data-dir", str(curated_dir), "--out", str(target))
    assert code == 0 and check(target.read_text())


@pytest.mark.parametrize(("extra", "message"), [
    (["--out", "rows.txt"], "cannot tell the format of rows.txt"),
    (["--output", "csv", "--out", "."], "is a folder"),
    (["--output", "table", "--out", "rows.txt"], "--output table prints to the terminal"),
])
def test_bad_out_one_clear_error(capsys, curated_dir, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "run", "structuring", *WINDOW, "--data-dir", str(curated_dir), *extra)
    assert code != 0 and out == "" and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "rows.txt").exists()
