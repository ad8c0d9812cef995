#!/usr/bin/env bash
# Install everything the tests need (Debian packages included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v 7zz >/dev/null || packages+=(7zip)
command -v minisign >/dev/null || packages+=(minisign)
command -v exiftool >/dev/null || packages+=(libimage-exiftool-perl)
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
if [ ${#packages[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check
.venv/bin/mypy src
.venv/bin/python -m pytest "$@"
