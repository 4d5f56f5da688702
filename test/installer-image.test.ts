// The installer image (Dockerfile), built for real with `podman build --isolation=chroot` from a base
// imported from the test rootfs (no registry is reachable), then run privileged with a throwaway
// host's root at /host: the runtimes rootfs, entered as an overlay, with its criu 4.1.1. It must
// install what `hotcache install` installs, for that criu, and uninstall all of it again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';
import { cacheDir, ensureRootfs, rootfsPath, TEST_ROOTFS } from '../tools/testenv/rootfs.js';
import { withLock } from '../tools/testenv/lock.js';
import { privateNodePath } from '../tools/bundle/private-node.js';
import { testUnless } from './support.js';
import { makeWorkload, runRuntime, runtimesSkip } from './runtimes-support.js';

const image = suite('installer image');
const skip = runtimesSkip();

testUnless(skip, image, 'podman build makes the installer image; it installs into a host root for its criu and uninstalls again', async () => {
	const w = makeWorkload('image');
	const base = await ensureRootfs(TEST_ROOTFS);
	// Image layers are kept between runs (the build's package layer is the slow one), one run at a time.
	const store = path.join(cacheDir(), 'podman');
	mkdirSync(store, { recursive: true });
	const baseTag = `localhost/criu-hotcache-base:${path.basename(rootfsPath(TEST_ROOTFS))}`;
	const depsTag = 'localhost/criu-hotcache-build-deps:latest';
	const node = privateNodePath();
	// The npm registry may be reached through a proxy whose CA only the host trusts (npm's cafile):
	// the build gets the same bundle.
	const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout.trim();
	let caArgs = '';
	if (cafile && cafile !== 'null' && existsSync(cafile)) {
		copyFileSync(cafile, path.join(w.work, 'npm-ca.crt'));
		caArgs = `-v ${w.work}/npm-ca.crt:/etc/npm-ca.crt:ro --build-arg npm_config_cafile=/etc/npm-ca.crt`;
	}
	const hotcache = `${node} ${path.join(projectRoot, 'tools/hotcache.js')}`;
	const run = await withLock(`${store}.lock`, () =>
		runRuntime(w, `
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
mkdir -p /etc/containers ${store}
printf '[storage]\\ndriver = "overlay"\\ngraphroot = "%s"\\nrunroot = "/run/containers/storage"\\n' "${store}" >/etc/containers/storage.conf
podman image exists ${baseTag} || tar -C ${base} -c . | podman import -q - ${baseTag} >/dev/null
t0=$(date +%s)
# As for the containers: the build's RUN steps must not ask for more than the host's hard rlimits.
build() { podman build -q --isolation=chroot --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 ${caArgs} --build-arg BASE=${baseTag} "$@" ${projectRoot} >>"$W/build.log" 2>&1 || { tail -30 "$W/build.log"; exit 11; }; }
# The build packages' stage gets a name, so that pruning the run's other layers keeps it cached.
build --target deps -t ${depsTag}
build -t "localhost/criu-hotcache-installer:$T"
echo "build_s=$(($(date +%s) - t0))"
mkdir -p /etc/criu; echo "default.conf before:"; printf 'tcp-established\\n' >>/etc/criu/default.conf; cat /etc/criu/default.conf
inst() { podman run --rm --privileged --runtime runc --network none --cgroup-parent "/$T" \\
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v /:/host "localhost/criu-hotcache-installer:$T" "$@"; }
inst install
echo "--- installed"
cat /etc/criu/default.conf
${hotcache} doctor --json >"$W/doctor.json" || true
for f in /usr/lib/criu/hotcache.so /usr/libexec/criu-hotcache/action-script /usr/libexec/criu-hotcache/node \\
	/usr/libexec/criu-hotcache/dist/hooks/prefetcher.mjs /usr/libexec/criu-hotcache/proto/hotcache.proto \\
	/usr/libexec/criu-hotcache/build/Release/hotcache_native.node; do
	[ -f "$f" ] && echo "present $f"
done
cmp /usr/libexec/criu-hotcache/action-script ${path.join(projectRoot, 'hooks/action-script')} && echo "same action-script"
cmp /usr/libexec/criu-hotcache/node ${node} && echo "same private node"
# What the action script sources: generated (contract.sh) or copied by the image's own build.
for f in contract.sh config.sh restore-key.sh; do
	cmp /usr/libexec/criu-hotcache/$f ${path.join(projectRoot, 'hooks')}/$f && echo "same $f"
done
inst uninstall
echo "--- uninstalled"
cat /etc/criu/default.conf
ls /usr/lib/criu /usr/libexec/criu-hotcache 2>&1 || true
podman rmi -f "localhost/criu-hotcache-installer:$T" >/dev/null
podman image prune -f >/dev/null
`, { installArgs: null, binds: [store, base], timeoutMs: 900_000 }),
	);
	const out = run.out;
	const show = `\n${out.slice(-5000)}`;
	assert.is(run.result.code, 0, `the image script failed (exit ${run.result.code}):${show}`);
	assert.match(out, /criu-hotcache installer: host CRIU 4\.1\.1/);
	const installed = out.slice(out.indexOf('--- installed'), out.indexOf('--- uninstalled'));
	assert.match(installed, /^tcp-established$/m, 'the user\'s own line stays');
	assert.match(installed, /^action-script \/usr\/libexec\/criu-hotcache\/action-script # criu-hotcache$/m);
	for (const f of ['/usr/lib/criu/hotcache.so', '/usr/libexec/criu-hotcache/node', '/usr/libexec/criu-hotcache/dist/hooks/prefetcher.mjs', '/usr/libexec/criu-hotcache/build/Release/hotcache_native.node']) {
		assert.match(installed, new RegExp(`^present ${f}$`, 'm'), `${f} installed`);
	}
	assert.match(installed, /^same action-script$/m);
	assert.match(installed, /^same private node$/m);
	for (const f of ['contract.sh', 'config.sh', 'restore-key.sh']) assert.match(installed, new RegExp(`^same ${f.replace('.', '\\.')}$`, 'm'), `${f} installed beside the action script`);
	assert.match(out, /the module is not built/, 'the module step says why it is skipped (no headers here)');
	const doctor = JSON.parse(readFileSync(path.join(w.work, 'doctor.json'), 'utf8')) as { findings: { check: string; status: string; detail: string }[] };
	const status = (check: string) => doctor.findings.find((f) => f.check === check);
	assert.is(status('plugin')?.status, 'ok');
	assert.is(status('action script')?.status, 'ok');
	assert.is(status('prefetcher')?.status, 'ok', JSON.stringify(status('prefetcher')));
	const removed = out.slice(out.indexOf('--- uninstalled'));
	assert.match(removed, /^tcp-established$/m);
	assert.not.match(removed, /action-script/);
	assert.not.match(removed, /hotcache\.so/);
	assert.match(removed, /cannot access '\/usr\/libexec\/criu-hotcache': No such file or directory/, removed);
	process.stdout.write(`  installer image: built in ${/^build_s=(\d+)/m.exec(out)?.[1]} s\n`);
});

image.run();
