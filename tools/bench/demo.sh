#!/bin/sh
# npm run demo: the README's main job, from a fresh clone, as root. Builds what is not built yet (npm ci
# the first time, which also installs the Debian build packages), then `hotcache bench --demo`, which
# makes the rest (the test root file system, the shared storage, the two emulated hosts), moves the
# reference workload once with CRIU alone and once with hotcache migrate's default, and prints the
# table and the path of the plot. Options after `--` go to hotcache bench (sizes, --out).
set -eu
cd "$(dirname "$0")/../.."
if [ -e node_modules/.package-lock.json ]; then
	npm run --silent build >/dev/null
else
	npm ci >&2
fi
exec node tools/hotcache.js bench --demo "$@"
