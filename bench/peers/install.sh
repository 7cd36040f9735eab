#!/usr/bin/env bash
# Installs the benchmark peers' programs from Debian's packages, only those
# missing: etcd and etcdctl (etcd-server, etcd-client), redis-server, wrk.
# Idempotent: with everything present it installs nothing and needs no root.
# Debian's redis-server (and etcd-server) packages may start a system service
# on the default port (6379, 2379); the peers run their own processes on
# their own ports and neither use nor touch those services.
set -euo pipefail

declare -A package_of=([etcd]=etcd-server [etcdctl]=etcd-client [redis-server]=redis-server [wrk]=wrk)
missing=()
for binary in etcd etcdctl redis-server wrk; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("${package_of[$binary]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench/peers/install.sh: etcd, etcdctl, redis-server and wrk are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/peers/install.sh: missing Debian packages: ${missing[*]}" >&2
  echo "  run as root: sudo bench/peers/install.sh  (or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "bench/peers/install.sh: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
