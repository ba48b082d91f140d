#!/usr/bin/env bash
# Prints the path of the pinned uv, installed once per machine into a folder outside the clone.
#
# Why: installing uv with pip into each fresh clone's venv took about 10 s of the set-up's 26 s
# (pip resolving and unpacking one wheel), and `python -m venv` another 3 s (ensurepip); pip took
# 47 s to fill the Lambda test venv that uv fills in 2 s. uv is one static executable: kept once,
# it creates the venvs itself (`uv venv`, well under a second) and installs into them.
#
# Usage: scripts/uv.sh PYTHON   (PYTHON bootstraps uv the first time: a venv, pip install uv)
set -euo pipefail
version=0.13.8  # the one pin of uv
python="$1"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/aml-platform"  # as the Makefile's CACHE_DIR
uv="$dir/uv-$version/uv"
if [ ! -x "$uv" ]; then
  echo "installing uv $version once into $dir/uv-$version" >&2
  mkdir -p "$dir/uv-$version"
  tmp=$(mktemp -d "$dir/.uv.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  "$python" -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "uv==$version" >&2
  cp "$tmp/venv/bin/uv" "$tmp/uv"
  mv -f "$tmp/uv" "$uv"  # one rename: a concurrent set-up sees the binary whole or not at all
fi
echo "$uv"
