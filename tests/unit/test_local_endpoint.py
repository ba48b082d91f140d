"""Where local AWS calls go: AWS_ENDPOINT_URL, else LocalStack's LOCALSTACK_HOST, else moto."""
from aml.local import aws


def test_explicit_endpoint_wins(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    monkeypatch.setenv("LOCALSTACK_HOST", "elsewhere:4566")
    assert aws.endpoint_url() == "http://127.0.0.1:4999"
    assert aws.endpoint_host_port() == ("127.0.0.1", 4999)


def test_localstack_host_is_honoured(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", "ls.internal:4510")
    assert aws.endpoint_url() == "http://ls.internal:4510"


def test_default_is_the_local_moto_server(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    assert aws.endpoint_url() == f"http://localhost:{aws.DEFAULT_PORT}"
    env = aws.local_env()
    assert env["AWS_ENDPOINT_URL"] == aws.endpoint_url() and env["AWS_DEFAULT_REGION"]
