"""`aml stream replay`: input it cannot use is one clear error before anything reaches the stream."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from aml import cli


@pytest.mark.parametrize("value", ["0", "-5", "10001", "ten"])
def test_batch_size_outside_what_kinesis_takes_is_one_error_line(capsys, tmp_path, value):
    records = tmp_path / "r.jsonl"
    records.write_text("{}\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stream", "replay", str(records), "--batch-size", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and ": error: argument --batch-size" in err.strip().splitlines()[-1]
    assert "1 to 10,000 records" in err


def _csv(path):
    path.write_text("transaction_id,amount\nt1,10\nt2,20\n")


def _json_array(path):
    path.write_text(json.dumps([{"transaction_id": "t1"}, {"transaction_id": "t2"}], indent=2))


def _one_line_array(path):
    path.write_text(json.dumps([{"transaction_id": "t1"}]) + "\n")


def _parquet(path):
    pd.DataFrame({"transaction_id": ["t1", "t2"]}).to_parquet(path)


@pytest.mark.parametrize("write", [_csv, _json_array, _one_line_array, _parquet])
def test_a_file_with_no_json_object_line_is_refused_before_the_emulator(capsys, tmp_path, monkeypatch, write):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")  # never reached: the file is refused first
    path = tmp_path / "records.data"
    write(path)
    assert cli.main(["stream", "replay", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no JSON Lines record" in err[0] and "convert a CSV" in err[0]
