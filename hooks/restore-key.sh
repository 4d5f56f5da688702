# The restore's key, for the action script: <criu pid>.<criu start time>, the name of the restore's
# directory, as criu-plugin/lib/restore-key.c and hooks/restore-key.ts make it (the parity test holds the
# three to the same keys). Sourced after contract.sh; forks nothing.

# hc_restore_key STAT: hc_key from the text of /proc/<pid>/stat: the pid (up to the first space),
# a dot, then field HC_RESTORE_START_TIME_FIELD, counted from field 3 just after the last ") " (the
# command name in field 2 may hold anything). False unless both are numbers (at most 10 and 20 digits).
hc_restore_key() {
	case $1 in *') '*) ;; *) return 1 ;; esac
	set -- "${1%% *}" ${1##*) }
	[ $# -ge $((HC_RESTORE_START_TIME_FIELD - 1)) ] || return 1
	hc_key=$1
	shift $((HC_RESTORE_START_TIME_FIELD - 2))
	case $hc_key in '' | *[!0-9]*) return 1 ;; esac
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ ${#hc_key} -le 10 ] && [ ${#1} -le 20 ] || return 1
	hc_key=$hc_key.$1
}
