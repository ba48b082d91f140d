"""The curated zone's Glue Data Catalog: the database, one table per curated contract table
(aml_contract.schema.CURATED_TABLES, partition projection on `dt`) and one per reference dataset
(aml_contract.reference: JSON Lines under reference/<dataset>/), derived ones included (the segment
statistics the Glue job publishes under statistics/<dataset>/). It sits beside the lake's
storage (DataLakeStack), and readers in other stacks get their access from it (`grant_read`)
rather than by formatting Glue ARNs themselves."""
from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from aml_contract import reference, schema
from stacks.settings import Settings

# What a reader of table definitions asks Glue for.
QUERY_ACTIONS = ("glue:GetDatabase", "glue:GetTable", "glue:GetTables")  # Athena: list and read tables
SCHEMA_ACTIONS = ("glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions")  # Firehose: a table's schema

_GLUE_SCHEMA = {
    schema.STRING: glue.Schema.STRING, schema.DATE: glue.Schema.DATE, schema.TIMESTAMP: glue.Schema.TIMESTAMP,
    schema.BOOLEAN: glue.Schema.BOOLEAN, schema.INT: glue.Schema.INTEGER,
    schema.DECIMAL: glue.Schema.decimal(schema.DECIMAL_PRECISION, schema.DECIMAL_SCALE),
    "array<string>": glue.Schema.array(glue.Schema.STRING),
    "decimal_rate": glue.Schema.decimal(reference.RATE_PRECISION, reference.RATE_SCALE),  # reference.COLUMNS
}
# Every table the database holds: the curated tables, then the reference datasets (published by
# deployment, then derived by the Glue job).
REFERENCE_TABLES = (*reference.DATASETS, *reference.DERIVED_DATASETS)
TABLES = (*schema.CURATED_TABLES, *REFERENCE_TABLES)


def glue_type(logical: str) -> glue.Type:
    """The L2 type of a logical type; its text equals aml_contract.schema.glue_type (tested)."""
    return _GLUE_SCHEMA[logical]


class CuratedCatalog(Construct):
    """The Glue database and tables of the curated zone, from aml_contract.schema.CURATED_TABLES.

    Everything is named literally (the database by settings.curated_database, the ARNs from
    pseudo parameters), so a reader in another stack is granted access without a cross-stack
    reference."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, curated: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.database_name = settings.curated_database
        self.database = glue.Database(self, "Database", database_name=self.database_name,
                                      description="AML curated zone: pseudonymised, partitioned Parquet")
        self.tables: dict[str, glue.S3Table] = {}
        for name, columns in schema.CURATED_TABLES.items():
            partitioned = name in schema.PARTITIONED_TABLES
            projection = {schema.PARTITION_COLUMN: glue.PartitionProjectionConfiguration.date(
                min=settings.etl.projection_start_date, max="NOW", format="yyyy-MM-dd",
                step=glue.DateProjectionStep(interval=1, interval_unit=glue.DateIntervalUnit.DAYS))}
            self.tables[name] = glue.S3Table(
                self, name.title(), database=self.database, table_name=name,
                storage=glue.S3TableStorage.from_bucket(curated), s3_prefix=f"{name}/",
                data_format=glue.DataFormat.PARQUET,
                columns=[glue.Column(name=c, type=glue_type(t)) for c, t in columns],
                partition_keys=[glue.Column(name=schema.PARTITION_COLUMN, type=glue.Schema.STRING)]
                if partitioned else None,
                # Projection computes partitions from the path: no crawler, no MSCK REPAIR, no
                # partition writes from the job or Firehose.
                partition_projection=projection if partitioned else None,
                parameters={"parquet.compression": "SNAPPY"},
                description=f"Curated {name} (contract: aml_contract.schema.CURATED_TABLES)",
            )
            # The database's literal name instead of a Ref: other stacks (Firehose's schema, the
            # analyst policy) then name the table without a cross-stack import.
            self._name_database_literally(self.tables[name])
        for dataset in REFERENCE_TABLES:
            self.tables[dataset] = self._reference_table(dataset, curated)

    def _reference_table(self, dataset: str, curated: s3.IBucket) -> glue.S3Table:
        """A reference dataset as a table: gzip JSON Lines read by the OpenX JSON SerDe (Athena
        decompresses .gz by its extension). The manifest beside the rows is not read: "Athena
        treats source files that start with an underscore (_) or a dot (.) as hidden"
        (https://docs.aws.amazon.com/athena/latest/ug/other-notable-limitations.html), and the
        manifest is `_manifest.json` (aml_contract.reference.manifest_key)."""
        table = glue.S3Table(
            self, f"Reference{dataset.title().replace('_', '')}", database=self.database, table_name=dataset,
            storage=glue.S3TableStorage.from_bucket(curated), s3_prefix=reference.table_prefix(dataset),
            data_format=glue.DataFormat.JSON,  # org.openx.data.jsonserde.JsonSerDe
            columns=[glue.Column(name=c, type=glue_type(t)) for c, t in reference.COLUMNS[dataset]],
            description=f"{'Derived by the Glue job' if dataset in reference.DERIVED_DATASETS else 'Reference data'} "
                        f"{dataset} (contract: aml_contract.reference.COLUMNS; version and review date in "
                        "_manifest.json beside the rows)")
        self._name_database_literally(table)
        return table

    def _name_database_literally(self, table: glue.S3Table) -> None:
        cfn_table = table.node.default_child
        cfn_table.database_name = self.database_name
        cfn_table.add_resource_dependency(self.database.node.default_child)

    @property
    def catalog_arn(self) -> str:
        return f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:catalog"

    @property
    def database_arn(self) -> str:
        return f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:database/{self.database_name}"

    def table_arn(self, name: str) -> str:
        if name not in TABLES:
            raise KeyError(f"{name!r} is not a table of the curated database ({sorted(TABLES)})")
        return f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:table/{self.database_name}/{name}"

    def read_arns(self, tables: Iterable[str]) -> list[str]:
        """What Glue authorises a table read on: the catalog, the database and each table."""
        return [self.catalog_arn, self.database_arn, *[self.table_arn(t) for t in tables]]

    def grant_read(self, grantee: iam.IGrantable | iam.Policy | iam.ManagedPolicy, tables: Iterable[str], *,
                   actions: Iterable[str] = QUERY_ACTIONS, sid: str | None = None) -> iam.PolicyStatement:
        """Read these tables' definitions (never the data: that is the bucket's and key's grant).

        The grantee is a principal (the statement joins its default policy) or a policy of its
        own (a managed policy for people; an inline policy beside a role whose default policy is
        set elsewhere). Returns the statement added."""
        statement = iam.PolicyStatement(sid=sid, actions=list(actions), resources=self.read_arns(tables))
        if isinstance(grantee, iam.Policy | iam.ManagedPolicy):
            grantee.add_statements(statement)
        else:
            grantee.grant_principal.add_to_principal_policy(statement)
        return statement
