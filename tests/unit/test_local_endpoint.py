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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_stopped_local_emulator_is_still_the_projects_to_start(monkeypatch, tmp_path, capsys):
    """After `aml local down` the emulator reads as stopped and managed (`aml local up` starts
    it), not as an external service that went away."""
    from aml.local import cli, services

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    status = services.Emulator(local_dir=tmp_path).status()
    assert (status.running, status.managed, status.pid) == (False, True, None)
    cli._print([status], as_json=False)  # noqa: SLF001 (the table `aml local status` prints)
    assert capsys.readouterr().out.split()[1:4:2] == ["stopped", "managed"]



def test_an_answering_endpoint_the_project_did_not_start_is_external(monkeypatch, tmp_path):
    import socket

    from aml.local import services

    monkeypatch.setattr(services.Emulator, "kind", lambda self: "unknown")  # no HTTP probe of the listener
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
        status = services.Emulator(local_dir=tmp_path).status()
    assert (status.running, status.managed, status.pid) == (True, False, None)
