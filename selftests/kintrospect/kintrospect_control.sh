#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The control file rejects every malformed or unknown command with EINVAL
# and changes nothing (no snapshot is taken), and accepts the real one.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 3
ki_trap_cleanup

ki_load
ki_snapshot
ki_cpus_json
seq=$(ki_field seq)

# Each line is a printf format for one write.
bad=0
while IFS= read -r fmt; do
	err=$(printf "$fmt" | dd of="$KI/control" bs=4096 2>&1 >/dev/null)
	case "$err" in
	*"Invalid argument"*) ;;
	*) bad=1; ktap_print_msg "'$fmt' was not rejected with EINVAL: $err" ;;
	esac
done <<'CMDS'
snapshot
snapshot cpu\n
SNAPSHOT CPUS\n
snapshot cpus now\n
snapshot locks now\n
snapshot lock\n
baseline now\n
snapshot slabs\n
snapshot cpus\n\n
snapshot\tcpus\nsnapshot cpus\n
snapshot \377cpus\n
\n
snapshot cpus                                                                    \n
CMDS
ki_check "malformed and unknown commands fail with EINVAL" [ $bad -eq 0 ]

ki_cpus_json
ki_check "rejected commands took no snapshot (seq stays $seq)" [ "$(ki_field seq)" = "$seq" ]

ki_snapshot
ki_cpus_json
ki_check "'snapshot cpus' takes the next snapshot" [ "$(ki_field seq)" -eq $((seq + 1)) ]

ktap_finished
