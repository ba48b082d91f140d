"""Athena's query result files: the CSV Athena writes to the query's OutputLocation.

Athena writes a header row and every value double-quoted; a NULL is an empty unquoted field
(https://docs.aws.amazon.com/athena/latest/ug/querying.html, "Working with query results, recent
queries, and output files"). Python's csv module (3.11) cannot tell an empty quoted string from an
unquoted empty field, so both read as None here: no scenario column distinguishes them.
"""
from __future__ import annotations

import csv
import io
from urllib.parse import urlparse


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key)."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def parse_csv(text: str) -> list[dict[str, str | None]]:
    """Rows of an Athena result CSV, by column name; empty fields as None."""
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def read(s3, output_location: str) -> list[dict[str, str | None]]:
    """The rows of the result file at `output_location` (GetQueryExecution's
    ResultConfiguration.OutputLocation)."""
    bucket, key = split_s3_uri(output_location)
    return parse_csv(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
