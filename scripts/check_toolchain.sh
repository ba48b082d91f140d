#!/usr/bin/env bash
# Fails with one clear sentence when a toolchain the project needs is missing.
set -u
py="${PYTHON:-python3.11}"
if ! command -v "$py" >/dev/null 2>&1; then
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    py=python3
  else
    echo "error: Python 3.11 is required (Glue 5.1's version); install it and make 'python3.11' available on PATH." >&2
    exit 1
  fi
fi
if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -qE 'version "(17|21)'; then
  echo "error: Java 17 is required by local Spark (the Glue job); install a JDK 17 (e.g. 'apt-get install openjdk-17-jre-headless') and put 'java' on PATH." >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "error: Node.js 20+ with npm is required by the AWS CDK CLI; install Node.js and put 'node' and 'npm' on PATH." >&2
  exit 1
fi
echo "$py"
