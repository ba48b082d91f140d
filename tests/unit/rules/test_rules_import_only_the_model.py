"""The rules are pure functions of (transaction, window model): importing them loads neither the
DynamoDB store nor an AWS client library (issue 18: window.py apart from state_store.py)."""
import subprocess
import sys

from test_bundle_imports import REPO_ROOT

PROBE = """
import sys
import lambdas.realtime_rules.rules
print(sorted(m for m in sys.modules if m.startswith(("lambdas.", "boto3"))))
"""


def test_rules_load_the_window_model_and_no_store():
    loaded = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT)},
                            capture_output=True, text=True, check=True).stdout
    assert "lambdas.realtime_rules.window" in loaded
    for store in ("lambdas.realtime_rules.state_store", "lambdas.realtime_rules.dynamo", "boto3"):
        assert f"'{store}'" not in loaded, loaded
