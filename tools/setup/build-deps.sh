#!/bin/sh
# Debian packages that `npm ci` needs to build the plugin and the native addon.
# Installed here when run as root; otherwise named in a clear error.
set -eu

missing=""
need() { # need PACKAGE PROBE...: the package is missing when any probe fails
	pkg=$1; shift
	for probe in "$@"; do
		case $probe in
		/*) [ -e "$probe" ] || { missing="$missing $pkg"; return; } ;;
		*) command -v "$probe" >/dev/null 2>&1 || { missing="$missing $pkg"; return; } ;;
		esac
	done
}

need gcc gcc
need make make
need g++ g++
need python3 python3
need protobuf-c-compiler protoc-c
need libprotobuf-c-dev /usr/include/protobuf-c/protobuf-c.h
need pkgconf pkg-config

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "criu-hotcache: installing build packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2
	exit 0
fi

echo "criu-hotcache: missing build packages:$missing" >&2
echo "  install them with: sudo apt-get install$missing" >&2
exit 1
