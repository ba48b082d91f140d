"""The Kinesis speed repair in aml.local.moto_server (which `aml evaluate`'s replay of whole
datasets needs) answers what moto answers: sequence numbers, order, records read back."""
import boto3
import pytest
from moto.kinesis.models import Shard


@pytest.fixture()
def kinesis(repaired_moto):
    client = boto3.client("kinesis", region_name="us-east-1")
    client.create_stream(StreamName="s", ShardCount=1)
    yield client


def test_sequence_numbers_and_reads_unchanged(kinesis):
    empty = Shard(0, 0, 1)
    assert (empty.get_min_sequence_number(), empty.get_max_sequence_number()) == (0, 0)
    sent = []
    for start in range(0, 1200, 400):
        response = kinesis.put_records(StreamName="s", Records=[
            {"Data": f"r{i}".encode(), "PartitionKey": "k"} for i in range(start, start + 400)])
        sent += [r["SequenceNumber"] for r in response["Records"]]
    assert [int(s) for s in sent] == list(range(1, 1201))
    shard = kinesis.list_shards(StreamName="s")["Shards"][0]
    assert shard["SequenceNumberRange"]["StartingSequenceNumber"] == "1"
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=shard["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=sent[799])["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    assert [r["Data"] for r in records] == [f"r{i}".encode() for i in range(799, 1200)]
