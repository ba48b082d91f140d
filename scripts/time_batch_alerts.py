"""Time the batch-alert step's writes on the running emulator: N structuring hits into a fresh
alerts table (first run: all new), then the same hits again (a rerun: all already raised).

    .venv/bin/aml local up && .venv/bin/python scripts/time_batch_alerts.py [N]
"""
from __future__ import annotations

import sys
import time
import uuid
from datetime import date

from aml.local import aws
from aml_contract import names, rules
from aml_contract.named_queries import load_all
from lambdas.daily_pipeline import batch_alerts as batch


def main(hits_wanted: int = 2100) -> None:
    aws.use_local_endpoint()
    ddb, sns, firehose, s3 = (aws.client(s) for s in ("dynamodb", "sns", "firehose", "s3"))
    name = "timing" + uuid.uuid4().hex[:6]
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **names.table_definition("alerts_table"))
    topic = sns.create_topic(Name=name)["TopicArn"]
    s3.create_bucket(Bucket=name)
    firehose.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                                    ExtendedS3DestinationConfiguration={
                                        "RoleARN": f"arn:aws:iam::{aws.ACCOUNT_ID}:role/f",
                                        "BucketARN": f"arn:aws:s3:::{name}", "Prefix": "alerts/"})
    query = next(q for q in load_all() if q.name == "structuring")
    rows = [{"subject_account_pid": f"P{i}", "first_window_start": "2025-03-01 09:00:00",
             "last_window_end": "2025-03-02 10:00:00"} for i in range(hits_wanted)]
    writer = batch.BatchAlertWriter(ddb, sns, firehose, table=name, topic_arn=topic, delivery_stream=name,
                                    ttl_days=400, params=rules.load())
    run = batch.Run("timing", date(2025, 3, 5), {"start_date": "2025-02-01", "end_date": "2025-03-05"})
    for label in ("first run", "rerun"):
        outcome = batch.Outcome()
        hits = batch.hits_of(query, rows, outcome)
        started = time.perf_counter()
        writer.write(hits, run, outcome)
        print(f"{label}: {len(hits)} hits in {time.perf_counter() - started:.1f} s "
              f"(new {outcome.new}, already raised {outcome.already_raised})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2100)
