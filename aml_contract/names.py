"""Resource names shared by the CDK stacks and the local runtime (which otherwise reads what
was deployed from the stacks' outputs)."""

PROJECT = "aml"
STREAM_NAME_SUFFIX = "transactions"
REALTIME_PARTITION_KEY = "originator_account_id"  # DMS task 2 partitions the stream by it
ATHENA_WORKGROUP_SUFFIX = "analysts"
PSEUDONYMIZATION_SECRET_SUFFIX = "pseudonymization-key"  # noqa: S105 (a name, not a secret)


def resource_name(env_name: str, suffix: str) -> str:
    """aml-<env>-<suffix>: every physical name the project chooses."""
    return f"{PROJECT}-{env_name}-{suffix}"
