#!/usr/bin/env bash
# Builds, once per machine, a wheel for each pinned requirement that PyPI publishes only as an
# sdist (pyspark, localstack-client), into a wheelhouse outside the clone; the set-up installs
# from it with uv's --find-links.
#
# Why: uv caches the wheels it builds, but keyed by the sdist's HTTP response. An index or proxy
# that answers uv's revalidation as "modified" (this machine's does, every time) makes uv build
# pyspark again on every fresh clone: 25 of the set-up's 31 s of installing, and 630 MB more of
# uv's cache each time (65 copies were found here). A failed build only warns: uv then builds the
# sdist itself, as before.
#
# Usage: scripts/wheelhouse.sh WHEELHOUSE PYTHON NAME...   (versions read from requirements.txt)
set -uo pipefail
wheelhouse="$1" python="$2"
shift 2
mkdir -p "$wheelhouse" || { echo "warning: cannot create the wheelhouse $wheelhouse" >&2; exit 0; }
for name in "$@"; do
  pin=$(grep -iE "^${name}==" requirements.txt) || { echo "error: $name is not pinned in requirements.txt" >&2; exit 1; }
  version="${pin#*==}"
  wheel_name="${name//-/_}"  # a wheel's file name writes the project name with underscores
  if compgen -G "$wheelhouse/${wheel_name}-${version}-*.whl" >/dev/null; then
    continue
  fi
  echo "building a wheel of $pin once into $wheelhouse (pip; about 30 s for pyspark)"
  tmp=$(mktemp -d "$wheelhouse/.build.XXXXXX")
  if "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$tmp" "$pin"; then
    mv "$tmp"/*.whl "$wheelhouse"/  # one rename: a concurrent set-up sees the wheel whole or not at all
  else
    echo "warning: could not build a wheel of $pin; uv will build it from the sdist" >&2
  fi
  rm -rf "$tmp"
done
