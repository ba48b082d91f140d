"""Named queries on Amazon Athena through awswrangler, in the project's workgroup.

The account and region are the caller's (aml.aws_account: the credential chain, AWS_REGION). The
workgroup is the deployed environment's, `aml-<env>-analysts` (aml_contract.names), unless one is
named. It enforces its own result location and SSE-KMS encryption, so none is passed here; values go
as Athena execution parameters (one SQL literal per `?`), never spliced into the text.
"""
from __future__ import annotations

import time
from functools import cached_property

from aml import aws_account
from aml.errors import AmlError
from aml.query.result import QueryResult
from aml_contract import names, schema
from aml_contract.named_queries import NamedQuery

DEFAULT_ENV = "dev"  # the env_name setting's default (stacks/settings.py), as `aml pipeline start`


def workgroup_of(env_name: str) -> str:
    """The analysts' workgroup a deployment of `env_name` creates."""
    try:
        return names.name_of(names.check_env_name(env_name), "athena_workgroup")
    except ValueError as err:
        raise AmlError(str(err), "pass the --env the app was deployed with (the env_name setting)") from None


class AthenaEngine:
    name = "athena"

    def __init__(self, workgroup: str | None = None, database: str | None = None, env_name: str | None = None):
        self.workgroup = workgroup or workgroup_of(env_name or DEFAULT_ENV)
        self.database = database or schema.CURATED_DATABASE

    @cached_property
    def session(self):
        """One boto3 session for every query this engine runs (made on the first, so a missing
        region is that query's error)."""
        return aws_account.session("--engine athena")

    def run(self, query: NamedQuery, values: dict[str, str]) -> QueryResult:
        import awswrangler as wr
        from botocore.exceptions import BotoCoreError, ClientError

        session = self.session
        started = time.perf_counter()
        try:
            frame = wr.athena.read_sql_query(
                query.sql, database=self.database, workgroup=self.workgroup, ctas_approach=False,
                params=query.execution_parameters(values), paramstyle="qmark", boto3_session=session)
        except (BotoCoreError, ClientError, wr.exceptions.QueryFailed) as err:
            raise AmlError(f"query {query.name} failed on Athena (workgroup {self.workgroup}, database "
                           f"{self.database}, region {session.region_name}): {err}",
                           "check the credentials, that the app is deployed there (--env, --workgroup, --database) "
                           "and that the Glue job has curated the data") from err
        elapsed = time.perf_counter() - started
        stats = getattr(frame, "query_metadata", {}).get("Statistics", {})
        return QueryResult(query.name, self.name, frame, int(stats.get("DataScannedInBytes", 0)), elapsed)
