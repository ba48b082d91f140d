#!/usr/bin/env bash
# Run checkov over the synthesized templates (cdk.out/) with the skips justified in .checkov.yaml.
# checkov's dependencies conflict with the project venv's, so it lives in its own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
VENV=.venv-checkov
if [ ! -x "$VENV/bin/checkov" ] || ! "$VENV/bin/checkov" --version | grep -qx "$CHECKOV_VERSION"; then
  "$(readlink -f .venv/bin/python)" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
[ -d cdk.out ] || .venv/bin/aml synth
exec "$VENV/bin/checkov" --config-file .checkov.yaml --directory cdk.out "$@"
