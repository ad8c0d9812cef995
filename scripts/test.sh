#!/usr/bin/env bash
# Install everything the tests need (Debian packages included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real programs the tests run: 7-Zip, minisign and exiftool as independent judges; nginx
# (WebDAV, configured as docs/mirrors.md says, its password made with openssl), Apache httpd (mod_dav_fs, a
# second WebDAV server as shared hosts run it), OpenSSH (SFTP)
# and microsocks as servers the tests start on 127.0.0.1; zstd for the benchmark's smoke test;
# Chromium renders the room page headless; iproute2 makes the network namespaces of the LAN test;
# aria2 and Transmission are BitTorrent clients that are not ours; strace proves that the swarm sends nothing beyond
# 127.0.0.1.
packages=()
command -v 7zz >/dev/null || packages+=(7zip)
command -v minisign >/dev/null || packages+=(minisign)
command -v exiftool >/dev/null || packages+=(libimage-exiftool-perl)
command -v zstd >/dev/null || packages+=(zstd)
command -v openssl >/dev/null || packages+=(openssl)
command -v microsocks >/dev/null || packages+=(microsocks)
command -v aria2c >/dev/null || packages+=(aria2)
command -v transmission-cli >/dev/null || packages+=(transmission-cli)
command -v strace >/dev/null || packages+=(strace)
[ -x /usr/sbin/nginx ] || packages+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ] || packages+=(libnginx-mod-http-dav-ext)
[ -x /usr/sbin/sshd ] || packages+=(openssh-server)
[ -e /usr/lib/apache2/modules/mod_dav_fs.so ] || packages+=(apache2)
command -v chromium >/dev/null || packages+=(chromium)
command -v ip >/dev/null || packages+=(iproute2)
[ -e /usr/share/i18n/charmaps/CP1251.gz ] || packages+=(locales)  # a legacy code page, compiled by a test
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
if [ ${#packages[@]} -gt 0 ]; then
    # Without systemd, install scripts would start nginx and Apache on port 80 and sshd on 22: forbid that.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
    [ -z "$made_policy" ] || rm -f "$policy"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,sftp,s3]'

.venv/bin/ruff check
.venv/bin/mypy src
# Four workers on CI's two cores: about half the suite's time is spent waiting on real clocks (slow peers, a
# room's windows, budgets), not computing; two workers left a core idle through those waits (8.5 minutes, where four
# took 5.3-5.8 on the same machine, every test passing in three runs). A test is free to take the next from
# another's queue, so the slowest few do not end the run on one worker. `bash scripts/test.sh -n 0 ...` runs in one
# process.
.venv/bin/python -m pytest -n 4 --dist worksteal "$@"
