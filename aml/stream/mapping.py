"""The settings of the rules Lambda's Kinesis event source mapping, as the synthesized template
declares them (AWS::Lambda::EventSourceMapping), so the local poller retries, bisects, drops old
records and reports to the on-failure destination as the deployed mapping does
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Error handling"; the property
names: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aml.errors import AmlError

RESOURCE_TYPE = "AWS::Lambda::EventSourceMapping"
UNLIMITED = -1  # MaximumRetryAttempts / MaximumRecordAgeInSeconds: retry until the record expires


@dataclass(frozen=True)
class MappingSettings:
    batch_size: int = 100  # Lambda's defaults for a Kinesis mapping
    bisect_on_error: bool = False
    max_retry_attempts: int = UNLIMITED
    max_record_age_seconds: int = UNLIMITED
    report_batch_item_failures: bool = False
    on_failure_destination: bool = False  # the deployed mapping names one (locally: the rules DLQ)

    @classmethod
    def from_template(cls, template: dict) -> MappingSettings:
        """The one Kinesis event source mapping of a CloudFormation template."""
        found = [r["Properties"] for r in template.get("Resources", {}).values() if r.get("Type") == RESOURCE_TYPE]
        if len(found) != 1:
            raise AmlError(f"expected one {RESOURCE_TYPE} in the template, found {len(found)}")
        p = found[0]
        return cls(
            batch_size=int(p.get("BatchSize", cls.batch_size)),
            bisect_on_error=bool(p.get("BisectBatchOnFunctionError", False)),
            max_retry_attempts=int(p.get("MaximumRetryAttempts", UNLIMITED)),
            max_record_age_seconds=int(p.get("MaximumRecordAgeInSeconds", UNLIMITED)),
            report_batch_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
            on_failure_destination=bool(p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")),
        )

    @classmethod
    def from_cloud_assembly(cls, outdir: str | Path) -> MappingSettings:
        """From the templates `cdk synth` (or `aml deploy-local`) wrote to `outdir`."""
        for path in sorted(Path(outdir).glob("*.template.json")):
            template = json.loads(path.read_text())
            if any(r.get("Type") == RESOURCE_TYPE for r in template.get("Resources", {}).values()):
                return cls.from_template(template)
        raise AmlError(f"no template in {outdir} declares a {RESOURCE_TYPE}", "run `aml synth` first")

    def retries_left(self, retries_done: int) -> bool:
        return self.max_retry_attempts == UNLIMITED or retries_done < self.max_retry_attempts

    def too_old(self, age_seconds: float) -> bool:
        return self.max_record_age_seconds != UNLIMITED and age_seconds > self.max_record_age_seconds
