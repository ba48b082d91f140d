"""Issue 28, "the CLI keeps its promise": a bad command line (what argparse refuses) ends, like every
other bad input, in one `aml: error:` line naming the fix, and exit 2: no usage block to read."""
from __future__ import annotations

import pytest

from aml.cli import main


@pytest.mark.parametrize(("argv", "message", "help_of"), [
    (["stream", "replay", "r.jsonl", "--batch-size", "0"], "argument --batch-size: '0' is not a batch size",
     "aml stream replay"),
    ([], "the following arguments are required: COMMAND", "aml"),
    (["query", "run"], "the following arguments are required: name", "aml query run"),
    (["query", "run", "structuring", "--engine", "bigquery"], "argument --engine: invalid choice", "aml query run"),
    (["local", "status", "--colour", "blue"], "unrecognized arguments: --colour blue", "aml"),
])
def test_a_refused_command_line_is_one_error_line(capsys, argv, message, help_of):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err.startswith(f"aml: error: {message}") and f"(see `{help_of} --help`)" in err
    assert len(err.strip().splitlines()) == 1
