#!/usr/bin/env bash
# Install mirror into .venv and run the main job on the sample collection in seeds/:
# make a demo key if there is none, bundle seeds/ into bundles/, verify the result.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q .
mirror=.venv/bin/mirror

# mirror.toml makes this folder a workspace: seeds/ in, bundles/ out, keys/ keyring.
if [ ! -f keys/demo.key ]; then
    # A demo key only: real keys get a passphrase (drop --no-passphrase).
    "$mirror" keys new demo --no-passphrase
fi
"$mirror" create seeds -o bundles/almaty-january-2022.7z --key demo \
    --title "Almaty, January 2022 (sample collection)" --force
# --keys: this run's own keyring, named, whether or not this computer has worked in this folder before
"$mirror" verify bundles/almaty-january-2022.7z --keys keys
