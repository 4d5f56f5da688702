# hotcache.conf, then the environment, for the action script: read from the contract's table
# (contract.sh: hc_config_key, hc_config_bool) by the rules of criu-plugin/lib/config.c and hooks/config.ts,
# which the parity test holds to the same values and warnings. Sourced after contract.sh; POSIX sh that
# forks nothing (the script runs at every restore action). Its variables all start with hc_.

# hc_config_load: sets hc_cfg_<KEY> for every key of the contract: defaults, then the file
# ($HOTCACHE_CONFIG, else /etc/criu/hotcache.conf), then the environment. Each bad line or value is
# passed to hc_warn FORMAT ARG... (the caller's) and ignored.
hc_config_load() {
	for hc_k in $HC_CONFIG_KEYS; do
		hc_config_key "$hc_k"
		eval "hc_cfg_$hc_k=\$hc_default"
	done
	eval "hc_file=\${$HC_CONFIG_FILE_VARIABLE:-\$HC_CONFIG_FILE}"
	# Whatever keeps test -e from finding it, it is absent (as for stat() in C and TypeScript).
	if [ -e "$hc_file" ]; then
		if [ ! -f "$hc_file" ]; then
			hc_warn "$HC_MSG_NOT_REGULAR" "$hc_file"
		elif [ ! -r "$hc_file" ]; then
			hc_warn "$HC_MSG_UNREADABLE" "$hc_file"
		else
			hc_n=0
			# read drops NUL bytes; '|| [ -n ... ]': a last line without its newline still counts.
			while IFS= read -r hc_line || [ -n "$hc_line" ]; do
				hc_n=$((hc_n + 1))
				hc_config_line "$hc_line"
			done <"$hc_file"
		fi
	fi
	for hc_k in $HC_CONFIG_KEYS; do
		eval "hc_v=\${$hc_k-}"
		hc_config_set "$hc_k" "$hc_v" "$HC_MSG_ENVIRONMENT"
	done
}

# hc_config_line LINE: line $hc_n of the file.
hc_config_line() {
	hc_msg_line "$hc_file" "$hc_n"
	hc_l=${1%%#*}
	hc_l=${hc_l#"${hc_l%%[! 	]*}"}
	hc_l=${hc_l%"${hc_l##*[! 	]}"}
	[ -n "$hc_l" ] || return 0
	case $hc_l in
	*[!"	 "-~]*)
		hc_warn "$HC_MSG_NOT_TEXT" "$hc_where"
		return 0
		;;
	*=*) ;;
	*)
		hc_warn "$HC_MSG_NOT_KEY_VALUE" "$hc_where"
		return 0
		;;
	esac
	hc_key=${hc_l%%=*}
	hc_key=${hc_key%"${hc_key##*[! 	]}"}
	if [ -z "$hc_key" ]; then
		hc_warn "$HC_MSG_NOT_KEY_VALUE" "$hc_where"
	elif ! hc_config_key "$hc_key"; then
		hc_warn "$HC_MSG_UNKNOWN_KEY" "$hc_where" "$hc_key"
	else
		hc_v=${hc_l#*=}
		hc_config_set "$hc_key" "${hc_v#"${hc_v%%[! 	]*}"}" "$hc_where"
	fi
}

# hc_config_set KEY VALUE WHERE: an empty value sets nothing; a bad one is a warning.
hc_config_set() {
	[ -n "$2" ] || return 0
	hc_config_key "$1"
	if hc_config_value "$2"; then
		eval "hc_cfg_$1=\$hc_value"
	else
		hc_warn "$HC_MSG_BAD_VALUE" "$3" "$1" "$hc_expected"
	fi
}

# hc_config_digits TEXT: hc_value is TEXT without leading zeros; false unless digits, at most 15 of them.
hc_config_digits() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	hc_value=${1#"${1%%[!0]*}"}
	hc_value=${hc_value:-0}
	[ ${#hc_value} -le 15 ]
}

# hc_config_value TEXT: hc_value is TEXT as a value of the key hc_config_key last described; false
# when it does not fit. A decimal is scaled to an integer, its whole part checked before scaling.
hc_config_value() {
	case $1 in *[!" "-~]*) return 1 ;; esac
	case $hc_type in
	bool) hc_config_bool "$1" ;;
	int) hc_config_digits "$1" && [ "$hc_value" -ge "$hc_min" ] && [ "$hc_value" -le "$hc_max" ] ;;
	decimal)
		hc_frac=0
		case $1 in *.*) hc_frac=${1#*.} && [ -n "$hc_frac" ] || return 1 ;; esac
		hc_config_digits "${1%%.*}" && [ "$hc_value" -le "$hc_max" ] || return 1
		hc_whole=$hc_value
		[ ${#hc_frac} -le "$hc_decimals" ] || return 1
		while [ ${#hc_frac} -lt "$hc_decimals" ]; do hc_frac=${hc_frac}0; done
		hc_config_digits "$hc_frac" || return 1
		hc_value=$((hc_whole * hc_scale + hc_value))
		[ "$hc_value" -ge $((hc_min * hc_scale)) ] && [ "$hc_value" -le $((hc_max * hc_scale)) ]
		;;
	enum)
		for hc_c in $hc_choices; do
			[ "$hc_c" = "$1" ] && hc_value=$1 && return 0
		done
		return 1
		;;
	path)
		case $1 in /*) ;; *) return 1 ;; esac
		[ ${#1} -le "$HC_CONFIG_PATH_BYTES" ] && hc_value=$1
		;;
	command) [ ${#1} -le "$HC_CONFIG_PATH_BYTES" ] && hc_value=$1 ;;
	*) return 1 ;;
	esac
}
