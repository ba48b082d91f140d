#!/usr/bin/env bash
# The Lambdas' tests (rules, daily pipeline) on the Lambda runtime's Python (make test): a small venv of its own
# (requirements-lambda-test.txt, nothing of the project's 3.11 venv), the tests that import only
# lambdas/, aml_contract and in-process moto. Skips, loudly and successfully, where that Python is
# absent. Usage: scripts/lambda_tests.sh 3.13
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
venv=".venv-lambda${version//./}"
requirements=(requirements-lambda.txt requirements-lambda-pipeline.txt requirements-lambda-test.txt)
tests=(tests/unit/rules tests/unit/daily_pipeline tests/unit/test_contract.py)
# Cross-engine tests beside the rules compare the Lambda with DuckDB: they need the 3.11 venv's
# query engine (pandas, DuckDB) and run there; the Lambda's side of them runs here too, through
# the other rule tests. (The key reconciliation's queries on DuckDB are under tests/unit/query; its
# pure logic's tests run here.)
ignore=(--ignore=tests/unit/rules/test_threshold_boundaries.py --ignore=tests/unit/rules/test_case_decimal_division.py
        --ignore=tests/unit/rules/test_reference_both_paths.py --ignore=tests/unit/rules/test_segment_floors_both_paths.py)

py=""
if command -v pyenv >/dev/null 2>&1 && prefix=$(pyenv prefix "$version" 2>/dev/null); then
  py="$prefix/bin/python$version"
elif command -v "python$version" >/dev/null 2>&1; then
  py="$(command -v "python$version")"
fi
if [ -z "$py" ] || ! "$py" -c 'import sys' >/dev/null 2>&1; then
  cat >&2 <<MSG

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! SKIPPED: the rules Lambda's tests on Python $version (the Lambda runtime's version).
!! No Python $version here (neither 'pyenv prefix $version' nor 'python$version' on PATH).
!! The Lambda code was tested on the project's 3.11 only. Install Python $version to run them.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

MSG
  exit 0
fi

stamp="$venv/.installed"
uv=$(scripts/uv.sh "$py")  # uv fills this venv in about 2 s, pip took 47 s (scripts/uv.sh)
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))"; then
  rm -rf "$venv"
  "$uv" venv --quiet --python "$py" "$venv"
fi
for req in "${requirements[@]}"; do
  if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ]; then
    "$uv" pip install --quiet --python "$venv/bin/python" -r requirements-lambda-test.txt
    touch "$stamp"
    break
  fi
done
echo "Lambda tests on $("$venv/bin/python" -VV | head -1) ($venv)"
# The repository root on the path, as the bundle's root holds lambdas/ and aml_contract/.
PYTHONPATH="$PWD" "$venv/bin/python" -m pytest -p no:cacheprovider "${tests[@]}" "${ignore[@]}" "${@:2}"
