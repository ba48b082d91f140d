#!/usr/bin/env python3
"""The AML platform's CDK app: one stack per concern, wired top to bottom like the data flow
(network -> data lake -> {database, etl, streaming, analytics} -> replication -> monitoring ->
daily pipeline, which runs the ETL job, the analysts' queries and alerts to both topics),
from one typed settings object (cdk.json context `aml`), checked by five cdk-nag packs."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import aws_cdk as cdk

from aml import processes
from aml.reference import build as reference_build
from aml_contract import reference
from stacks import local_mode, nag_suppressions
from stacks.analytics import AnalyticsStack
from stacks.daily_pipeline import DailyPipelineStack
from stacks.data_lake import DataLakeStack
from stacks.database import DatabaseStack
from stacks.etl import EtlStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.replication import ReplicationStack
from stacks.settings import Settings
from stacks.streaming import StreamingStack

REFERENCE_BUILD = Path(__file__).resolve().parent / ".synth"  # gitignored: rebuilt by every synth


def reference_folder(root: Path = REFERENCE_BUILD) -> Path:
    """The reference datasets built afresh under root/<process id>/reference/ (no file of an older
    build left to deploy), which the data lake stack publishes (stacks/reference_data.py). The app
    builds them, not a stack: the builder is local tooling (pycountry, the ECB file), which stacks
    do not import. A folder per process, so two syntheses at once (two shells, the test processes of
    `make test`) never delete each other's files; the folders of processes that have ended go."""
    for folder in root.glob("*"):
        if folder.name.isdigit() and not processes.running(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
    mine = root / str(os.getpid())
    shutil.rmtree(mine / reference.PREFIX, ignore_errors=True)
    reference_build.write(mine)
    return mine / reference.PREFIX


def build(app: cdk.App, settings: Settings) -> dict[str, cdk.Stack]:
    env = cdk.Environment(account=settings.account, region=settings.region)

    def name(concern: str) -> str:
        return f"aml-{settings.env_name}-{concern}"  # discover() finds stacks by this prefix

    common = {"settings": settings, "env": env}
    network = NetworkStack(app, name("network"), **common)
    folder = None if local_mode.omitted(settings.local, "reference-deployment") else reference_folder()
    lake = DataLakeStack(app, name("data-lake"), reference_folder=folder, **common)
    database = DatabaseStack(app, name("database"), network=network, **common)
    etl = EtlStack(app, name("etl"), lake=lake, **common)
    streaming = StreamingStack(app, name("streaming"), network=network, lake=lake, **common)
    analytics = AnalyticsStack(app, name("analytics"), lake=lake, **common)
    replication = ReplicationStack(app, name("replication"), network=network, lake=lake, database=database,
                                   streaming=streaming, **common)
    monitoring = MonitoringStack(app, name("monitoring"), streaming=streaming, etl=etl,
                                 replication=replication, **common)
    pipeline = DailyPipelineStack(app, name("pipeline"), network=network, lake=lake, database=database, etl=etl,
                                  analytics=analytics, streaming=streaming, monitoring=monitoring, **common)
    stacks = {"network": network, "data-lake": lake, "database": database, "etl": etl, "streaming": streaming,
              "analytics": analytics, "replication": replication, "monitoring": monitoring, "pipeline": pipeline}
    untagged = ["AWS::KMS::Key"] if local_mode.omitted(settings.local, "kms-key-tags") else []
    for concern, stack in stacks.items():
        for key, value in (("project", "aml"), ("environment", settings.env_name), ("concern", concern)):
            cdk.Tags.of(stack).add(key, value, exclude_resource_types=untagged)
    return stacks


def main() -> cdk.App:
    app = cdk.App()
    try:
        settings = Settings.from_node(app.node)
    except ValueError as err:  # one line a user can act on, not a traceback
        sys.exit(f"aml: error: {err} (settings: cdk.json `aml` context and -c aml:<key>=VALUE; "
                 "README, Configuration)")
    build(app, settings)
    nag_suppressions.register(app, local=settings.local)
    app.synth()
    return app


if __name__ == "__main__":
    main()
