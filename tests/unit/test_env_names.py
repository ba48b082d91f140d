"""An environment name breaks the one rule (aml_contract.names.ENV_NAME) in every command that
takes one: one `aml: error:` line before anything is read, created or called."""
import json

import pytest

from aml import cli
from aml_contract import names
from stacks.settings import Settings


@pytest.mark.parametrize("bad", ["Prod", "dev-1", "", "a" * 17, "prod\u00e9"])
def test_the_rule_refuses_what_no_bucket_name_allows(bad):
    with pytest.raises(ValueError, match="invalid environment name"):
        names.check_env_name(bad)


@pytest.mark.parametrize("good", ["local", "prod", "dev2", "a" * 16])
def test_the_rule_keeps_lowercase_letters_and_digits(good):
    assert names.check_env_name(good) == good


def test_the_stacks_settings_use_the_same_rule():
    with pytest.raises(ValueError, match="invalid environment name 'Prod'"):
        Settings.from_dict({"env_name": "Prod"}).validate()


@pytest.mark.parametrize("argv", [["stream", "replay", "{file}", "--env", "Prod"],
                                  ["replicate", "cdc", "--env", "Prod"],
                                  ["replicate", "full-load", "--env", "Prod"],
                                  ["deploy-local", "--env-name", "Prod"]])
def test_every_command_refuses_a_name_with_capitals_in_one_line(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: no call may be made
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps({"transaction_id": "t-1"}) + "\n")
    assert cli.main([a.format(file=records) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("aml: error: invalid environment name 'Prod'"), err
