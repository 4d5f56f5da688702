// `hotcache install` / `uninstall` into a staging root: files in place, CRIU's config line added once,
// removed again, and nothing of the user's own config lost.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtPaths, projectRoot } from '../tools/project.js';
import { actionScriptSafeUnderRpc, installedCriuVersion } from '../tools/install/criu-version.js';
import { decodeImage } from '../proto/image.js';
import { PAGE, runCaptureTool, scratchDir, writeFile } from './support.js';

const install = suite('install');
const bin = path.join(projectRoot, 'tools/hotcache.js');
let root = '';

function hotcache(...args: string[]) {
	const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
	assert.is(r.status, 0, r.stderr);
	return r;
}

install.before.each(() => {
	root = mkdtempSync(path.join(os.tmpdir(), 'hotcache-install-'));
	mkdirSync(path.join(root, 'etc/criu'), { recursive: true });
	writeFileSync(path.join(root, 'etc/criu/default.conf'), 'tcp-established\n');
});
install.after.each(() => rmSync(root, { recursive: true, force: true }));

install('installs the plugin, the action script and the self-contained prefetcher, idempotently', () => {
	const built = builtPaths();
	assert.ok(built.plugin && built.actionScript, 'npm ci builds both');
	hotcache('install', '--root', root, '--criu-version', '4.1');
	const plugin = path.join(root, 'usr/lib/criu/hotcache.so');
	assert.ok(readFileSync(plugin).equals(readFileSync(built.plugin!)));
	// The action script is a copy, with the self-contained prefetcher beside it.
	const libexec = path.join(root, 'usr/libexec/criu-hotcache');
	assert.ok(readFileSync(path.join(libexec, 'action-script')).equals(readFileSync(built.actionScript!)));
	assert.is(lstatSync(path.join(libexec, 'action-script')).mode & 0o777, 0o755);
	assert.ok(readFileSync(path.join(libexec, 'dist/hooks/prefetcher.mjs')).equals(readFileSync(path.join(projectRoot, 'dist/hooks/prefetcher.mjs'))));
	assert.ok(existsSync(path.join(libexec, 'proto/hotcache.proto')));
	assert.ok(existsSync(path.join(libexec, 'build/Release/hotcache_native.node')));
	assert.ok(existsSync(path.join(libexec, 'node')), 'npm ci fetches the private Node');
	// What it sources, copied beside it: an install does not depend on the checkout.
	for (const lib of ['contract.sh', 'config.sh', 'restore-key.sh']) {
		assert.ok(lstatSync(path.join(libexec, lib)).isFile(), `${lib}: a file, not a link`);
		assert.ok(readFileSync(path.join(libexec, lib)).equals(readFileSync(path.join(path.dirname(built.actionScript!), lib))), `${lib} beside it`);
	}
	const conf = () => readFileSync(path.join(root, 'etc/criu/default.conf'), 'utf8');
	assert.match(conf(), /^tcp-established$/m);
	assert.match(conf(), /^action-script \/usr\/libexec\/criu-hotcache\/action-script /m);

	const again = JSON.parse(hotcache('install', '--json', '--root', root, '--criu-version', '4.1').stdout) as { changed: string[] };
	assert.equal(again.changed, []);
	assert.is(conf().match(/^action-script /gm)?.length, 1);
});

install('does not configure the action script where CRIU would crash under runc', () => {
	const r = hotcache('install', '--root', root, '--criu-version', '3.17.1');
	assert.match(r.stderr, /crashes when runc or crun restore/);
	assert.not.match(readFileSync(path.join(root, 'etc/criu/default.conf'), 'utf8'), /action-script/);
	assert.ok(existsSync(path.join(root, 'usr/lib/criu/hotcache.so')));
});

install('uninstall removes exactly what install added', () => {
	hotcache('install', '--root', root, '--criu-version', '4.1');
	hotcache('uninstall', '--root', root);
	assert.is(readFileSync(path.join(root, 'etc/criu/default.conf'), 'utf8'), 'tcp-established\n');
	assert.throws(() => lstatSync(path.join(root, 'usr/lib/criu/hotcache.so')));
	assert.throws(() => lstatSync(path.join(root, 'usr/libexec/criu-hotcache')), 'the whole self-contained tree is gone');
	const again = JSON.parse(hotcache('uninstall', '--json', '--root', root).stdout) as { changed: string[] };
	assert.equal(again.changed, []);
});

install.run();

const doctor = suite('doctor');

interface Doctor {
	code: number | null;
	status: (check: string) => string | undefined;
	detail: (check: string) => string;
}

function runDoctor(root: string): Doctor {
	const r = spawnSync(process.execPath, [bin, 'doctor', '--json', '--root', root], { encoding: 'utf8' });
	const { findings } = JSON.parse(r.stdout) as { findings: { check: string; status: string; detail: string }[] };
	const find = (check: string) => findings.find((f) => f.check === check);
	assert.is(r.status, findings.some((f) => f.status === 'fail') ? 1 : 0, 'exit 1 exactly when a finding fails');
	return { code: r.status, status: (check) => find(check)?.status, detail: (check) => find(check)?.detail ?? '' };
}

doctor('reports an installed plugin and action script', () => {
	hotcache('install', '--root', root, '--criu-version', '4.1');
	const d = runDoctor(root);
	assert.is(d.status('plugin'), 'ok');
	// Installed for CRIU 4.1, but doctor judges the config by the criu this host really has.
	const criu = installedCriuVersion();
	assert.is(d.status('action script'), !criu || actionScriptSafeUnderRpc(criu) ? 'ok' : 'fail');
	assert.is(d.status('prefetcher'), 'ok', d.detail('prefetcher'));
	assert.match(d.detail('prefetcher'), /^self-contained: Node v\d+\.\d+\.\d+ at .*\/usr\/libexec\/criu-hotcache\/node$/);
});

doctor('nothing installed: the plugin is missing and doctor fails', () => {
	const d = runDoctor(root);
	assert.is(d.status('plugin'), 'fail');
	assert.match(d.detail('plugin'), /hotcache\.so missing: run hotcache install/);
	assert.is(d.status('action script'), 'warn');
	assert.is(d.code, 1);
});

doctor('the backend and LRU it reports are those a real capture here uses', async () => {
	const scratch = scratchDir('doctor');
	try {
		const file = path.join(scratch.dir, 'f');
		writeFile(file, 16 * PAGE);
		const r = runCaptureTool([file]);
		assert.is(r.code, 0, r.stderr);
		const { capture } = decodeImage(r.stdout);
		const d = runDoctor(root);
		assert.match(d.detail('hotness backend'), new RegExp(`^${capture.backend}\\b`));
		assert.is(d.status('hotness backend'), capture.hotWarmExact ? 'ok' : 'warn');
		assert.is(d.detail('lru'), capture.lru === 'mglru' ? 'MGLRU (multi-gen LRU) enabled' : 'classic active/inactive LRU');
		assert.is(d.status('kernel module'), capture.backend === 'kmod' ? 'ok' : 'warn');
	} finally {
		scratch.remove();
	}
});

doctor.before.each(() => {
	root = mkdtempSync(path.join(os.tmpdir(), 'hotcache-doctor-'));
});
doctor.after.each(() => rmSync(root, { recursive: true, force: true }));

doctor.run();
