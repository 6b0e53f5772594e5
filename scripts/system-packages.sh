#!/usr/bin/env bash
# Installs what the tests need from Debian when it is missing: a PostgreSQL server (initdb,
# pg_ctl), etcd (server and etcdctl, for the local Patroni cluster) and Chromium for the
# browser tests. Needs root and apt-get; otherwise says what is
# missing and leaves it to the tests to skip.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]} from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core fonts-noto-core >/dev/null
else
  echo "missing ${need[*]} (install them to run every test; their tests skip otherwise)" >&2
fi
