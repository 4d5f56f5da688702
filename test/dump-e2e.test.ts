// Real CRIU (4.1.1, in the test environment) dumps a reader with the plugin loaded: hotcache.img is in
// the image directory before post-dump, `hotcache inspect` shows the reader's page cache as it was,
// and a broken plugin situation never breaks the dump unless strict mode asks for it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runInTestenv, skipReason } from '../tools/testenv/index.js';
import { projectRoot } from '../tools/project.js';
import { buildFixtures, evict, lostPages, PAGE, PENDING_ACTIVATION, pluginFile, readerTool, scratchDir, testUnless, writeFile } from './support.js';
import type { FileView, ImageView as View } from '../tools/cli/commands/inspect.js';

const e2e = suite('criu dump with the plugin');
const PAGES = 1024;

/** Files on the host disk, the plugin alone in a library directory (criu loads every .so there). */
async function prepare(tag: string): Promise<{ dir: string; remove: () => void }> {
	buildFixtures();
	const scratch = scratchDir(tag);
	for (const name of ['A', 'B', 'C', 'D']) {
		writeFile(path.join(scratch.dir, name), PAGES * PAGE);
		await evict(path.join(scratch.dir, name));
	}
	mkdirSync(path.join(scratch.dir, 'lib'));
	copyFileSync(pluginFile, path.join(scratch.dir, 'lib/hotcache.so'));
	return scratch;
}

/** Shell function `start_reader`: runs the reader on A..D, waits until it counts, sets $pid. */
function readerScript(dir: string): string {
	return `
start_reader() {
	printf '\\0\\0\\0\\0\\0\\0\\0\\0' > ${dir}/counter
	setsid ${readerTool} -a ${dir}/A -b ${dir}/B -c ${dir}/C -d ${dir}/D -n ${dir}/counter -i 20 </dev/null >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ "$(od -An -tu8 -N8 ${dir}/counter | tr -d ' ')" = 0 ]; do
		sleep 0.05; i=$((i + 1)); [ $i -lt 400 ] || { echo "reader never counted"; exit 20; }
	done
}
`;
}

function inspect(imageDir: string): View {
	const r = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'inspect', '--json', imageDir], { encoding: 'utf8' });
	assert.is(r.status, 0, `hotcache inspect: ${r.stdout}${r.stderr}`);
	return JSON.parse(r.stdout) as View;
}

e2e('the plugin announces 10 hooks to a CRIU without checkpoint_devices (3.x loads it), 12 with CHECKPOINT_DEVICES to 4.1+, and never HANDLE_DEVICE_VMA', () => {
	buildFixtures();
	const load = (host: string) => {
		const r = spawnSync(path.join(projectRoot, 'test/fixtures/out', host), [pluginFile], { encoding: 'utf8' });
		assert.is(r.status, 0, r.stderr);
		return JSON.parse(r.stdout) as { name: string; version: number; maxHooks: number; hooks: number[] };
	};
	// CRIU refuses a plugin whose max_hooks exceeds its own count (10 on 3.17) or whose version is past 0.2.0.
	// 9 is RESUME_DEVICES_LATE (restore: hands the root pid to the prefetcher), 11 CHECKPOINT_DEVICES.
	assert.equal(load('plugin-abi-3x'), { name: 'hotcache', version: 0x200, maxHooks: 10, hooks: [9] });
	assert.equal(load('plugin-abi-41'), { name: 'hotcache', version: 0x200, maxHooks: 12, hooks: [9, 11] });
});

testUnless(skipReason(), e2e, 'the dump records A hot, B warm, C not cached, D mapped, and the fd offsets', async () => {
	const scratch = await prepare('dump');
	const dir = scratch.dir;
	try {
		// A post-dump action script records whether hotcache.img was already there.
		writeFileSync(
			path.join(dir, 'action.sh'),
			`#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0\n[ -f "$CRTOOLS_IMAGE_DIR/hotcache.img" ] && echo present > ${dir}/at-post-dump || echo absent > ${dir}/at-post-dump\n`,
			{ mode: 0o755 },
		);
		const script = `set -eu
${readerScript(dir)}
start_reader
echo "pid=$pid"
mkdir ${dir}/img
criu dump -t "$pid" -D ${dir}/img --libdir ${dir}/lib --action-script ${dir}/action.sh -v4 -o dump.log || { echo "criu dump failed"; exit 10; }
`;
		const r = await runInTestenv(script, { binds: [dir], timeoutMs: 180_000 });
		const log = existsSync(path.join(dir, 'img/dump.log')) ? readFileSync(path.join(dir, 'img/dump.log'), 'utf8') : '(no dump.log)';
		assert.is(r.code, 0, `${r.stdout}${r.stderr}\n${log.split('\n').filter((l) => /hotcache|Error/.test(l)).join('\n')}`);
		const pid = Number(/^pid=(\d+)$/m.exec(r.stdout)?.[1]);
		const summary = /hotcache: captured (\d+) files, (\d+) pages, (\d+) hot, (\d+) warm, backend (\w+), (\d+) ms, at (\S+)/.exec(log);
		assert.ok(summary, `no summary line in dump.log:\n${log.split('\n').filter((l) => /hotcache/.test(l)).join('\n')}`);
		assert.is(summary![5], 'kpageflags');
		assert.is(summary![7], 'CHECKPOINT_DEVICES', 'criu 4.1 captures at CHECKPOINT_DEVICES');
		assert.is(readFileSync(path.join(dir, 'at-post-dump'), 'utf8').trim(), 'present', 'hotcache.img must exist before post-dump');

		const view = inspect(path.join(dir, 'img'));
		assert.is(view.backend, 'kpageflags');
		assert.is(view.lru, 'classic');
		assert.is(view.partial, false);
		assert.match(view.tool, /criu-plugin/);
		assert.is(view.scope, 'tree', 'the reader shares its memory cgroup with the shell that started it and with criu: scope auto is the tree');
		assert.is(view.cgroup, '');
		const file = (name: string) => {
			const f = view.files.find((x) => x.path === path.join(dir, name));
			assert.ok(f, `${name} missing from ${view.files.map((x) => x.path).join(', ')}`);
			return f!;
		};
		const [a, b, c, d] = ['A', 'B', 'C', 'D'].map(file) as [FileView, FileView, FileView, FileView];
		assert.ok(a.resident >= PAGES - lostPages(PAGES), `A: ${a.resident} cached`);
		assert.ok(a.hot >= a.resident - PENDING_ACTIVATION, `A: ${a.hot} hot of ${a.resident}`);
		assert.ok(b.resident >= PAGES - lostPages(PAGES), `B: ${b.resident} cached`);
		assert.ok(b.warm === b.resident && b.hot === 0, `B: ${b.warm} warm, ${b.hot} hot of ${b.resident}`);
		assert.is(c.resident, 0, 'C was never read');
		assert.is(c.fds.length, 1, 'C is open');
		assert.ok(d.mapped && d.fds.length === 0, 'D is only mapped');
		assert.ok(d.resident >= PAGES - lostPages(PAGES), `D: ${d.resident} cached`);
		assert.is(d.warm, d.resident, 'D: pages the reader has mapped are at least warm');
		assert.is(a.fds.length, 1);
		assert.is(a.fds[0]!.pid, pid);
		assert.ok(a.fds[0]!.offset >= (PAGES / 2) * PAGE && a.fds[0]!.offset <= PAGES * PAGE, `A's offset ${a.fds[0]!.offset}: the reader moves from the middle`);
		assert.is(b.fds[0]!.offset, PAGES * PAGE, 'B was read to its end');
		assert.is(Number(summary![1]), view.files.length);
	} finally {
		scratch.remove();
	}
});

testUnless(skipReason(), e2e, 'capture at exit(DUMP); a broken plugin situation never fails the dump; strict mode (environment or config file) does', async () => {
	const scratch = await prepare('broken');
	const dir = scratch.dir;
	try {
		const script = `set -u
${readerScript(dir)}
dump() { # dump NAME [ENV...]: dumps a fresh reader into ${dir}/NAME, prints NAME=<criu status>
	name=$1; shift
	start_reader
	mkdir -p ${dir}/$name
	[ "$name" = blocked ] && mkdir ${dir}/$name/hotcache.img
	env "$@" criu dump -t "$pid" -D ${dir}/$name --libdir ${dir}/lib -v4 -o dump.log
	echo "$name=$?"
	kill -0 "$pid" 2>/dev/null && { echo "$name-alive=1"; kill -9 "$pid"; }
	return 0
}
dump blocked
dump nokmod HOTCACHE_BACKEND=kmod
dump strict HOTCACHE_BACKEND=kmod HOTCACHE_STRICT=1
dump atexit HOTCACHE_CAPTURE_AT=exit
echo "atexit-pid=$pid"
dump emptyknobs HOTCACHE_DISABLE= HOTCACHE_STRICT= HOTCACHE_BACKEND=kmod
# /etc/criu/hotcache.conf, shadowed by a copy of /etc in this private mount namespace only.
cp -a /etc ${dir}/etc && mkdir -p ${dir}/etc/criu
printf '# shared with the restore side\nHOTCACHE_WORKERS=4\nHOTCACHE_STRICT=1\nHOTCACHE_BACKEND=kmod\n' > ${dir}/etc/criu/hotcache.conf
mount --bind ${dir}/etc /etc
dump strictconf
umount /etc
# The file HOTCACHE_CONFIG names, as the action script and the prefetcher read it; with a line that is not
# a setting, which is a warning and changes nothing else.
printf 'not a setting\nHOTCACHE_DISABLE=1\n' > ${dir}/off.conf
dump offconf HOTCACHE_CONFIG=${dir}/off.conf
`;
		const r = await runInTestenv(script, { binds: [dir], timeoutMs: 180_000 });
		const out = r.stdout + r.stderr;
		const log = (name: string) => readFileSync(path.join(dir, name, 'dump.log'), 'utf8');
		const hotcacheLines = (name: string) => log(name).split('\n').filter((l) => /hotcache/.test(l)).join('\n');

		assert.match(r.stdout, /^blocked=0$/m, `a hotcache.img that cannot be replaced must not fail the dump:\n${out}\n${hotcacheLines('blocked')}`);
		assert.match(log('blocked'), /hotcache: .*cannot rename/, hotcacheLines('blocked'));

		assert.match(r.stdout, /^nokmod=0$/m, `a missing backend must not fail the dump:\n${out}\n${hotcacheLines('nokmod')}`);
		assert.match(log('nokmod'), /hotcache: error: backend kmod was asked for and is not usable/, hotcacheLines('nokmod'));
		assert.not.ok(existsSync(path.join(dir, 'nokmod/hotcache.img')), 'no image without a backend');

		assert.not.match(r.stdout, /^strict=0$/m, `strict mode must fail the dump:\n${out}`);
		assert.match(r.stdout, /^strict-alive=1$/m, 'criu resumes the tree after the failed dump');
		assert.match(log('strict'), /hotcache: error: strict mode: failing the dump/, hotcacheLines('strict'));

		assert.not.match(r.stdout, /^strictconf=0$/m, `strict mode from /etc/criu/hotcache.conf must fail the dump:\n${out}`);
		assert.match(log('strictconf'), /hotcache: error: strict mode: failing the dump/, hotcacheLines('strictconf'));

		assert.match(r.stdout, /^offconf=0$/m, out);
		assert.match(log('offconf'), /hotcache: disabled by HOTCACHE_DISABLE/, `the file HOTCACHE_CONFIG names must disable the capture:\n${hotcacheLines('offconf')}`);
		assert.match(log('offconf'), /hotcache: .*off\.conf line 1: not KEY=VALUE, ignored/, hotcacheLines('offconf'));
		assert.not.ok(existsSync(path.join(dir, 'offconf/hotcache.img')), 'nothing captured');

		// The path CRIU 3.x takes (root pid found through CRIU's root_item), exercised on 4.1.
		// An empty value means unset on every side: neither disabled nor strict.
		assert.match(r.stdout, /^emptyknobs=0$/m, `empty HOTCACHE_STRICT must not make the dump strict:\n${out}`);
		assert.match(log('emptyknobs'), /hotcache: error: backend kmod was asked for/, `empty HOTCACHE_DISABLE must not disable:\n${hotcacheLines('emptyknobs')}`);
		assert.match(r.stdout, /^atexit=0$/m, out);
		assert.match(log('atexit'), /hotcache: captured \d+ files, .* at exit\(DUMP\)/, hotcacheLines('atexit'));
		const view = inspect(path.join(dir, 'atexit'));
		const a = view.files.find((f) => f.path === path.join(dir, 'A'));
		assert.ok(a && a.fds[0]!.pid === Number(/^atexit-pid=(\d+)$/m.exec(r.stdout)?.[1]), 'the tree of the right root was captured');
	} finally {
		scratch.remove();
	}
});

e2e.run();
