#!/bin/sh
# The installer image's entry point (see the Dockerfile). The host's root is at $HOST_ROOT (/host).
#   install     hotcache install into the host, for the host's CRIU version; the module with DKMS
#   uninstall   hotcache uninstall, and the module out of DKMS
#   daemon      install, then wait; uninstall on SIGTERM (the Kubernetes DaemonSet's container)
set -eu

host=${HOST_ROOT:-/host}
here=$(dirname "$(dirname "$(readlink -f "$0")")")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$here/kmod/dkms.conf")
say() { echo "criu-hotcache installer: $*"; }
hotcache() { "$here/dist/private-node/node" "$here/tools/hotcache.js" "$@"; }

[ -d "$host/etc" ] || { say "no host root at $host (run with -v /:$host)"; exit 2; }

# The host's criu, not ours (the image has none): the config lines depend on its version.
host_criu_version() {
	chroot "$host" criu --version 2>/dev/null | sed -n 's/^Version: *\([0-9.]*\).*/\1/p' || true
}

module_install() {
	kernel=$(uname -r)
	if [ ! -e "$host/lib/modules/$kernel/build" ]; then
		say "no kernel headers for $kernel on the host: the module is not built (captures use kpageflags or mincore)"
		return 0
	fi
	if ! chroot "$host" sh -c 'command -v dkms' >/dev/null 2>&1; then
		say "dkms is not installed on the host: the module is not built (captures use kpageflags or mincore)"
		return 0
	fi
	rm -rf "$host/usr/src/hotcache-$version"
	cp -r "$here/kmod" "$host/usr/src/hotcache-$version"
	if chroot "$host" dkms install -m hotcache -v "$version" -k "$kernel"; then
		chroot "$host" modprobe hotcache || say "the module is built but does not load"
	else
		say "dkms install failed: the module is not built"
	fi
}

module_uninstall() {
	if [ -d "$host/usr/src/hotcache-$version" ]; then
		chroot "$host" modprobe -r hotcache >/dev/null 2>&1 || true
		chroot "$host" sh -c "command -v dkms >/dev/null && dkms remove -m hotcache -v $version --all" >/dev/null 2>&1 || true
		rm -rf "$host/usr/src/hotcache-$version"
		say "removed the module's sources (and its DKMS builds)"
	fi
}

install() {
	criu=$(host_criu_version)
	if [ -n "$criu" ]; then
		say "host CRIU $criu"
		hotcache install --root "$host" --criu-version "$criu"
	else
		say "no criu on the host yet: configuring for CRIU 3.19 or later"
		hotcache install --root "$host"
	fi
	module_install
}

uninstall() {
	hotcache uninstall --root "$host"
	module_uninstall
}

case ${1:-install} in
install) install ;;
uninstall) uninstall ;;
daemon)
	install
	trap 'uninstall; exit 0' TERM INT
	say "installed; uninstalls when stopped"
	while :; do
		sleep 3600 &
		wait $! || true
	done
	;;
*)
	say "usage: install | uninstall | daemon"
	exit 2
	;;
esac
