"""deploy_local_once (the demo's and the latency bench's deploy): deploys only an environment whose
stacks are absent, and never over resources created by name earlier."""
from contextlib import contextmanager
from pathlib import Path

import pytest

from aml.infra import deploy


@pytest.fixture()
def deployed(monkeypatch):
    calls = []
    monkeypatch.setattr(deploy, "deploy_local", lambda env, output: calls.append((env, output)))
    return calls


def _state(monkeypatch, discovered, by_name):
    monkeypatch.setattr(deploy.resources, "discover", lambda env: object() if discovered else None)
    monkeypatch.setattr(deploy.resources, "created_by_name", lambda env: by_name)


def test_absent_stacks_are_deployed_inside_the_callers_context(monkeypatch, deployed):
    _state(monkeypatch, discovered=False, by_name=False)
    entered = []

    @contextmanager
    def stage():
        entered.append("in")
        yield
        entered.append("out")

    assert deploy.deploy_local_once("bench", Path("out"), stage) is None
    assert deployed == [("bench", Path("out"))] and entered == ["in", "out"]


def test_deployed_stacks_are_reused(monkeypatch, deployed):
    _state(monkeypatch, discovered=True, by_name=False)
    assert deploy.deploy_local_once("bench", Path("out")) is None
    assert deployed == []


def test_resources_created_by_name_are_used_as_they_are(monkeypatch, deployed):
    _state(monkeypatch, discovered=False, by_name=True)
    note = deploy.deploy_local_once("bench", Path("out"))
    assert "created by name earlier" in note and deployed == []
