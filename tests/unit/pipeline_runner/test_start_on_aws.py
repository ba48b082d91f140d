"""`aml pipeline start`: on-demand executions of the deployed state machine are named <date>-r<N>
(in-process moto Step Functions)."""
import json
from datetime import date

import boto3
from moto import mock_aws

from aml.pipeline.cli import start_execution

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def test_reruns_of_a_date_get_the_next_name(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name="aml-dev-daily-pipeline", definition=DEFINITION,
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
        first = start_execution(sfn, arn, date(2025, 3, 5), 35)
        second = start_execution(sfn, arn, date(2025, 3, 5), 35)
        other = start_execution(sfn, arn, date(2025, 3, 6), 7)
        assert (first["name"], second["name"], other["name"]) == ("2025-03-05-r1", "2025-03-05-r2", "2025-03-06-r1")
        started = sfn.describe_execution(executionArn=other["executionArn"])
        assert json.loads(started["input"]) == {"run_date": "2025-03-06", "lookback_days": 7}
