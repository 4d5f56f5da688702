# The restore's key, for the action script: <criu pid>.<criu start time>, the name of the restore's
# directory, as criu-plugin/restore-key.c and hooks/restore-key.ts make it (the parity test holds the
# three to the same keys). Sourced after contract.sh; forks nothing.

# hc_restore_key STAT: hc_key from a /proc/<pid>/stat line; false when the line has no such fields.
# The command name (field 2) may hold anything: the fields are counted after its last ')'.
hc_restore_key() {
	case $1 in *') '*) ;; *) return 1 ;; esac
	set -- "${1%% *}" ${1##*) }
	[ $# -ge $((HC_RESTORE_START_TIME_FIELD - 1)) ] || return 1
	hc_key=$1
	shift $((HC_RESTORE_START_TIME_FIELD - 2))
	case $hc_key.$1 in *[!0-9.]* | .* | *.) return 1 ;; esac
	hc_key=$hc_key.$1
}
