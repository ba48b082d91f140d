"""Every documented shape of a Kinesis partial-batch response (Lambda developer guide, "Configuring
partial batch response with Kinesis Data Streams and Lambda"), and the malformed ones."""
from __future__ import annotations

import pytest

from aml.stream.batch_response import FAILURE, PARTIAL, SUCCESS, read_response

BATCH = ["49590000000000000000000000000000000000000000000000000001",
         "49590000000000000000000000000000000000000000000000000002",
         "49590000000000000000000000000000000000000000000000000010"]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
                         ids=["null_response", "empty_response", "empty_list", "null_list"])
def test_complete_success(response):
    assert read_response(response, BATCH).kind == SUCCESS


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"ItemIdentifier": BATCH[1]}]},  # a wrong key name
    {"batchItemFailures": [{"itemIdentifier": "12345"}]},  # no sequence number of the batch
    {"batchItemFailures": [{"itemIdentifier": BATCH[2]}, {"itemIdentifier": None}]},
    {"batchItemFailures": "49590000000000000000000000000000000000000000000000000001"},
    {"batchItemFailures": [BATCH[1]]},
    "not a JSON object",
    [{"itemIdentifier": BATCH[1]}],
], ids=["null_identifier", "empty_identifier", "bad_key_name", "unknown_identifier", "one_null_among_good",
        "list_is_a_string", "entry_is_not_an_object", "body_is_a_string", "body_is_a_list"])
def test_complete_failure(response):
    outcome = read_response(response, BATCH)
    assert (outcome.kind, outcome.retry_from) == (FAILURE, None) and outcome.reason


def test_partial_failure_checkpoints_at_the_lowest_sequence_number_as_a_number():
    # "10" sorts before "2" as text: the checkpoint is the numerically lowest
    outcome = read_response({"batchItemFailures": [{"itemIdentifier": BATCH[2]}, {"itemIdentifier": BATCH[1]}]},
                            BATCH)
    assert (outcome.kind, outcome.retry_from) == (PARTIAL, BATCH[1])
