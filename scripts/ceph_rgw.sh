#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with its RADOS Gateway (S3) on
# 127.0.0.1, for the object-storage tests and the ship bench. Everything
# lives in one directory; nothing touches /etc/ceph or systemd. The facts
# that make it start in about 2.5 s are in ../shared/PITFALLS.md.
#
#   scripts/ceph_rgw.sh install            install the Debian packages when missing (root)
#   scripts/ceph_rgw.sh start DIR [PORT]   new cluster in DIR (must not exist), S3 on PORT
#                                          (default 7480); prints the AWS_* variables to use,
#                                          also written to DIR/env
#   scripts/ceph_rgw.sh stop-rgw DIR       SIGKILL the gateway only (the data stays)
#   scripts/ceph_rgw.sh start-rgw DIR      start the gateway again on the same port
#   scripts/ceph_rgw.sh stop DIR           SIGKILL every daemon and remove DIR
#
# The monitor's ports (3300 and 6789) are fixed, so one cluster per machine at
# a time: `start` fails with exit 3 when they are taken. Keys are fixed test
# keys (the cluster is loopback-only and thrown away).
set -euo pipefail

readonly PACKAGES=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common)
readonly ACCESS_KEY="LEDGERTESTACCESSKEY0"
readonly SECRET_KEY="ledger-test-secret-key-0000000000000000"
# Bounded waits, in seconds.
readonly RGW_START_SECONDS_MAX=60
readonly MON_START_SECONDS_MAX=30

die() {
  echo "ceph_rgw.sh: $*" >&2
  exit 1
}

have_ceph() {
  command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null &&
    command -v radosgw >/dev/null && command -v radosgw-admin >/dev/null &&
    command -v monmaptool >/dev/null && command -v ceph >/dev/null
}

cmd_install() {
  if have_ceph; then return 0; fi
  [[ $(id -u) -eq 0 ]] || die "Ceph is not installed and this is not root: apt-get install -y ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" </dev/null >/dev/null
  have_ceph || die "the packages installed but a Ceph program is still missing"
}

port_taken() {
  # bash's /dev/tcp connects; success means something listens.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_conf() {
  local dir=$1 port=$2 fsid=$3
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:3300
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd objectstore = memstore
memstore device bytes = 8589934592
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon data avail warn = 1
mon warn on pool no redundancy = false
paxos propose interval = 0.1
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
keyring = $dir/keyring
crash dir = $dir/crash
[client.rgw.ledger]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw enable usage log = false
EOF
  echo "$port" >"$dir/port"
}

wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what did not come up within ${seconds} s (logs in $DIR/log)"
    sleep 0.1
  done
}

start_rgw() {
  local port
  port=$(cat "$DIR/port")
  # radosgw daemonizes only after it reached the cluster: bound the wait.
  timeout "$RGW_START_SECONDS_MAX" radosgw -c "$DIR/ceph.conf" -n client.rgw.ledger ||
    die "radosgw did not start within ${RGW_START_SECONDS_MAX} s (logs in $DIR/log)"
  wait_for "the gateway on port $port" "$RGW_START_SECONDS_MAX" port_taken "$port"
}

cmd_start() {
  local port=${2:-7480}
  DIR=$1
  [[ ! -e $DIR ]] || die "$DIR already exists: give a new directory"
  have_ceph || die "Ceph is not installed: run scripts/ceph_rgw.sh install"
  if port_taken 3300 || port_taken 6789; then
    echo "ceph_rgw.sh: the monitor ports 3300/6789 are taken (another cluster runs?)" >&2
    exit 3
  fi
  port_taken "$port" && die "port $port is taken"
  mkdir -p "$DIR"/{run,log,mon,osd,rgw,crash}
  DIR=$(cd "$DIR" && pwd)
  local fsid osd_uuid osd_id
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$DIR" "$port" "$fsid"
  local conf=(-c "$DIR/ceph.conf")
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:3300]" "$DIR/monmap" >/dev/null
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$DIR/monmap"
  ceph-mon "${conf[@]}" -i a
  wait_for "the monitor" "$MON_START_SECONDS_MAX" timeout 5 ceph "${conf[@]}" mon stat
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph "${conf[@]}" osd new "$osd_uuid")
  mkdir -p "$DIR/osd/ceph-$osd_id"
  ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>/dev/null
  ceph-osd "${conf[@]}" -i "$osd_id"
  start_rgw
  radosgw-admin "${conf[@]}" -n client.rgw.ledger user create --uid=ledger \
    --display-name=ledger --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  # The first bucket and object create three more pools (2-3 s): make them now.
  for pool in default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
    ceph "${conf[@]}" osd pool create "$pool" 8 >/dev/null 2>&1
    ceph "${conf[@]}" osd pool application enable "$pool" rgw >/dev/null 2>&1
  done
  cat >"$DIR/env" <<EOF
AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
AWS_REGION=us-east-1
EOF
  cat "$DIR/env"
}

kill_pidfile() {
  local file=$1
  [[ -f $file ]] || return 0
  local pid
  pid=$(cat "$file")
  # SIGKILL by pid: SIGTERM on radosgw can take 10 s, and all state is throwaway.
  kill -KILL "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  rm -f "$file"
}

cmd_stop_rgw() {
  DIR=$1
  kill_pidfile "$DIR/run/client.rgw.ledger.pid"
}

cmd_start_rgw() {
  DIR=$1
  [[ -f $DIR/ceph.conf ]] || die "$DIR is not a cluster made by this script"
  start_rgw
}

cmd_stop() {
  DIR=$1
  [[ -f $DIR/ceph.conf ]] || die "$DIR is not a cluster made by this script"
  local f
  for f in "$DIR"/run/client.rgw.*.pid "$DIR"/run/osd.*.pid "$DIR"/run/mon.*.pid; do
    [[ -e $f ]] && kill_pidfile "$f"
  done
  rm -rf "$DIR"
}

case ${1:-} in
  install) cmd_install ;;
  start) [[ $# -ge 2 ]] || die "usage: start DIR [PORT]"; cmd_start "$2" "${3:-}" ;;
  stop) [[ $# -eq 2 ]] || die "usage: stop DIR"; cmd_stop "$2" ;;
  stop-rgw) [[ $# -eq 2 ]] || die "usage: stop-rgw DIR"; cmd_stop_rgw "$2" ;;
  start-rgw) [[ $# -eq 2 ]] || die "usage: start-rgw DIR"; cmd_start_rgw "$2" ;;
  *) die "usage: install | start DIR [PORT] | stop DIR | stop-rgw DIR | start-rgw DIR" ;;
esac
