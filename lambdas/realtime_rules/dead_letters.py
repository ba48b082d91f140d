"""Poison records to the dead-letter queue (SQS), with the reason and the original payload."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

SQS_BATCH = 10
MAX_PAYLOAD_CHARS = 200_000  # SQS messages are at most 256 KiB; keep room for the envelope


@dataclass(frozen=True)
class Poison:
    sequence_number: str
    event_id: str
    partition_key: str
    event_source_arn: str
    data: bytes
    reason: str

    def message(self) -> str:
        payload = base64.b64encode(self.data).decode()
        body = {"reason": self.reason, "event_id": self.event_id, "sequence_number": self.sequence_number,
                "partition_key": self.partition_key, "event_source_arn": self.event_source_arn,
                "data_base64": payload[:MAX_PAYLOAD_CHARS], "data_sha256": hashlib.sha256(self.data).hexdigest(),
                "data_bytes": len(self.data), "truncated": len(payload) > MAX_PAYLOAD_CHARS}
        return json.dumps(body)


class DeadLetters:
    def __init__(self, sqs, queue_url: str):
        self._sqs, self._url = sqs, queue_url

    def send(self, poison: list[Poison]) -> dict[str, str]:
        """Send every poison record; return sequence number -> error for those not accepted."""
        failed: dict[str, str] = {}
        for start in range(0, len(poison), SQS_BATCH):
            chunk = poison[start:start + SQS_BATCH]
            entries = [{"Id": str(i), "MessageBody": p.message(),
                        "MessageAttributes": {"reason": {"DataType": "String", "StringValue": p.reason[:256]}}}
                       for i, p in enumerate(chunk)]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            except (ClientError, BotoCoreError) as err:
                failed.update({p.sequence_number: f"SQS: {err}" for p in chunk})
                continue
            for bad in response.get("Failed", []):
                failed[chunk[int(bad["Id"])].sequence_number] = f"SQS: {bad.get('Code')} {bad.get('Message', '')}"
        return failed
