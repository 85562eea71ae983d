#!/usr/bin/env bash
# Installs what replication needs (Debian's etcd-server, protobuf-compiler
# for the etcd-client crate's build, curl for `make cluster-demo`) when
# missing and this user is root;
# otherwise says why ward-node's `etcd` feature and its tests are left out.
# Idempotent: nothing happens when both are there.
set -euo pipefail
if [ -x /usr/bin/etcd ] && command -v protoc >/dev/null && command -v curl >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "cluster: etcd-server or protobuf-compiler is missing and this is not root with apt-get:" >&2
  echo "cluster: ward-node's etcd feature and the etcd tests are left out (install them to run them)" >&2
  exit 0
fi
echo "cluster: installing Debian's etcd-server, protobuf-compiler and curl" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq etcd-server protobuf-compiler curl >/dev/null
