"""Named queries on Amazon Athena through awswrangler, in the project's workgroup.

The workgroup enforces its own result location and SSE-KMS encryption, so none is passed here;
values go as Athena execution parameters (one SQL literal per `?`), never spliced into the text.
"""
from __future__ import annotations

import time

from aml.errors import AmlError
from aml.query.result import QueryResult
from aml_contract import schema
from aml_contract.named_queries import NamedQuery


class AthenaEngine:
    name = "athena"

    def __init__(self, workgroup: str | None = None, database: str = schema.CURATED_DATABASE):
        self.workgroup = workgroup
        self.database = database

    def _workgroup(self) -> str:
        if self.workgroup:
            return self.workgroup
        from aml.local import resources

        return resources.existing().athena_workgroup

    def run(self, query: NamedQuery, values: dict[str, str]) -> QueryResult:
        import awswrangler as wr
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.perf_counter()
        try:
            frame = wr.athena.read_sql_query(
                query.sql, database=self.database, workgroup=self._workgroup(), ctas_approach=False,
                params=query.execution_parameters(values), paramstyle="qmark")
        except (BotoCoreError, ClientError, wr.exceptions.QueryFailed) as err:
            raise AmlError(f"query {query.name} failed on Athena: {err}",
                           "check credentials, the workgroup and that the Glue job has curated the data") from err
        elapsed = time.perf_counter() - started
        stats = getattr(frame, "query_metadata", {}).get("Statistics", {})
        return QueryResult(query.name, self.name, frame, int(stats.get("DataScannedInBytes", 0)), elapsed)
