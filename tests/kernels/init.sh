#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the kernel matrix's guest: mounts what a node has (proc, sys,
# cgroup2, bpffs; no /boot, and no kernel config file anywhere), starts two
# exporters as a user of their own (default flags: per-CPU counters; and
# --cgroup.max-per-cpu=0: the shared ones, changed with atomic adds), runs
# the workload in two cgroups, scrapes both at each step and removes a
# cgroup; then SIGTERM. Everything the host judges
# goes to the console between "@@ctcp begin NAME" and "@@ctcp end NAME"
# lines (scrapes gzipped and in base64 after "@@ctcp begin-gz NAME": the
# serial port is the slowest part of a run), or on one "@@ctcp NAME VALUE"
# line; those of the second exporter are named NAME@shared. /params
# (written by the host) sets CONNS, BYTES, REFUSED and the ports.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
. /params
# Kernel messages must not split the lines the host parses.
dmesg -n 1

say() { echo "@@ctcp $*"; }
mark() { say "at-$1" "$(cut -d' ' -f1 /proc/uptime)"; } # seconds since boot
section() { # NAME FILE
	echo "@@ctcp begin $1"
	cat "$2"
	echo "@@ctcp end $1"
}
scrape_one() { # NAME PORT
	rm -f /tmp/scrape
	if timeout 10 wget -q -O /tmp/scrape "http://127.0.0.1:$2/metrics"; then
		echo "@@ctcp begin-gz $1"
		gzip -c /tmp/scrape | base64
		echo "@@ctcp end $1"
	else
		say "$1-failed" 1
	fi
}
scrape() { # NAME: both exporters, /tmp/scrape is the first one's
	scrape_one "$1@shared" "$SHARED_PORT"
	scrape_one "$1" "$EXPORTER_PORT"
}
# NAME COUNT [PATTERN]: COUNT scrapes 0.3 s apart, NAME-1 to NAME-COUNT;
# with PATTERN, they stop at the first that has no line matching it.
scrapes() {
	n=1
	while [ $n -le $2 ]; do
		sleep 0.3
		scrape "$1-$n"
		[ -n "$3" ] && ! grep -q "$3" /tmp/scrape && break
		n=$((n + 1))
	done
}
finish() {
	section exporter-log /tmp/exporter.log
	section exporter-log@shared /tmp/exporter-shared.log
	dmesg | grep -i -E 'bpf|verifier|warn|error|bug|oops' > /tmp/dmesg
	section dmesg /tmp/dmesg
	say done 1
	sync
	poweroff -f
}
wait_line() { # FILE LINE: up to 10 s
	i=0
	until grep -qx "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

say kernel "$(uname -r)"
mark init
ip link set lo up
# The connect whose SYNs are dropped retries once (no linear timeouts, where
# the kernel has them).
[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ] &&
	echo 0 > /proc/sys/net/ipv4/tcp_syn_linear_timeouts
# What the kernel offers, for the table.
grep -q sock_send_length /sys/kernel/btf/vmlinux && say has-sock-send-length 1
[ -e /proc/config.gz ] || [ -e "/boot/config-$(uname -r)" ] && say has-kernel-config 1
mkdir /sys/fs/cgroup/client /sys/fs/cgroup/server
# The kernel's own tcp_send_reset events during the workload: whether this
# kernel's tracepoint sees the resets sent without a socket at all.
tracing=/sys/kernel/tracing
mount -t tracefs tracefs $tracing && echo 1 > $tracing/events/tcp/tcp_send_reset/enable

# The exporters, as a node runs them, then as the user of --runas.
started() { # PID PORT SUFFIX: serving within 600 tries? Reports why not
	i=0
	until answer=$(timeout 5 wget -q -O /dev/null "http://127.0.0.1:$2/metrics" 2>&1); do
		# Serving, but failing its scrapes: no point waiting.
		case $answer in *"server returned error"*)
			say "exporter-start-failed$3" "$answer"
			return 1
			;;
		esac
		if ! kill -0 $1 2>/dev/null; then
			wait $1
			say "exporter-start-failed$3" $?
			return 1
		fi
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			say "exporter-start-failed$3" timeout
			return 1
		fi
		sleep 0.1
	done
	say "exporter-started$3" 1
	say "exporter-uid$3" "$(grep '^Uid:' /proc/$1/status | tr -s '\t ' ' ')"
}
/cgroup_tcp_exporter --web.listen-address="127.0.0.1:$EXPORTER_PORT" --runas=ctcp \
	> /tmp/exporter.log 2>&1 &
exporter=$!
/cgroup_tcp_exporter --web.listen-address="127.0.0.1:$SHARED_PORT" --runas=ctcp \
	--cgroup.max-per-cpu=0 --process.attribution > /tmp/exporter-shared.log 2>&1 &
shared=$!
failed=0
started $exporter "$EXPORTER_PORT" "" || failed=1
started $shared "$SHARED_PORT" @shared || failed=1
[ $failed = 0 ] || finish
mark exporters-started
scrape baseline
cat /proc/net/snmp > /tmp/snmp-before

ports="--port=$PORT --closed-port=$CLOSED_PORT --dropped-port=$DROPPED_PORT \
	--reset-port=$RESET_PORT --hold-port=$HOLD_PORT"
counts="--conns=$CONNS --bytes=$BYTES --refused=$REFUSED --self=$SELF"
/workload $ports $counts --cgroup=/sys/fs/cgroup/server server > /tmp/server.out 2>&1 &
server=$!
wait_line /tmp/server.out ready || say workload-failed server-not-ready
/workload $ports --cgroup=/sys/fs/cgroup/client hold > /tmp/hold.out 2>&1 &
hold=$!
wait_line /tmp/hold.out held || say workload-failed hold-not-held
/workload $ports $counts --cgroup=/sys/fs/cgroup/client client > /tmp/client.out 2>&1
say client-exit $?
mark client-done
say kernel-send-reset-events "$(grep -c 'tcp_send_reset:' $tracing/trace)"
echo 0 > $tracing/events/tcp/tcp_send_reset/enable
cat /proc/net/snmp > /tmp/snmp-after
section snmp-before /tmp/snmp-before
section snmp-after /tmp/snmp-after
section client /tmp/client.out

# The held connection and the listeners are still open. State changes can
# land a few ms after the client's last call: a few scrapes, the host takes
# the first that is right.
scrapes live 3

mark scraped-live
kill -TERM $hold
wait $hold
say hold-exit $?
wait $server
say server-exit $?
section hold /tmp/hold.out
section server /tmp/server.out
scrapes closed 3

mark scraped-closed
# A removed cgroup: shown once more with its last values, then gone.
rmdir /sys/fs/cgroup/client
say client-removed $?
scrape removed
scrapes gone 10 'cgroup="/client"'

mark scraped-gone
kill -TERM $exporter $shared
wait $exporter
say exporter-exit $?
wait $shared
say exporter-exit@shared $?
mark exporters-exited
say bpffs-left "$(ls -A /sys/fs/bpf | wc -l)"
finish
