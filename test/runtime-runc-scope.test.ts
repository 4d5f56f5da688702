// The capture's scopes under runc and real CRIU: a container whose process opens, reads and closes files
// in a loop (test/fixtures/cycler.c: /f1, /f2 in its root, /data/f3 in its volume) and holds one open
// (/data/held, 2 pages in). At the checkpoint it holds none of the files it keeps reading open, so the
// tree scope (HOTCACHE_SCOPE=tree, a first checkpoint that leaves it running) records only the held file
// and the program; the default (auto: the container has a memory cgroup of its own) records what its
// cgroup read, and not a file of its volume that only a process of another cgroup read. Then a cold
// cache and `runc restore`: the prefetcher brings back the files the container used (the cycler sleeps
// ten minutes between rounds, so it reads none of them again meanwhile).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ChunkPaths } from '../hooks/record.js';
import { decodeImage, pageCounts, type HotcacheImage } from '../proto/image.js';
import { cyclerTool, evict, lostPages, PAGE, residentAgain, residentEnough, testUnless, writeFile } from './support.js';
import { makeWorkload, runRuntime, runtimesSkip, writeOciBundle } from './runtimes-support.js';

const runc = suite('runc, capture scope');
const skip = runtimesSkip();
const PAGES = 256;

testUnless(skip, runc, 'runc: the tree scope misses what the container read and closed; the cgroup scope records it and the restore brings it back', async () => {
	const w = makeWorkload('runc-scope');
	copyFileSync(cyclerTool, path.join(w.root, 'cycler'));
	const used = [path.join(w.root, 'f1'), path.join(w.root, 'f2'), path.join(w.vol, 'f3')];
	for (const f of [...used, path.join(w.root, 'unread'), path.join(w.vol, 'held'), path.join(w.vol, 'other')]) {
		writeFile(f, PAGES * PAGE);
		// Written here, their pages are charged to this test's cgroup: the container must read them from the disk.
		await evict(f);
	}
	const bundle = writeOciBundle(w, ['/cycler', '-H', '/data/held', '-r', '/data/round', '-i', '600000', '/f1', '/f2', '/data/f3']);
	const waits = used.map((f) => `h wait-resident "${f}" ${PAGES} ${residentEnough(PAGES)} 10000`).join('\n');
	const run = await runRuntime(w, `
cd ${bundle}
runc run -d --pid-file pid "$T" </dev/null >/dev/null 2>&1
i=0
until [ -e "$V/round" ]; do sleep 0.1; i=$((i + 1)); [ $i -lt 100 ] || { echo "the container never went round its loop"; exit 13; }; done
[ -d /sys/fs/cgroup/memory ] && mem=/sys/fs/cgroup/memory || mem=/sys/fs/cgroup
mkdir "$mem/$T-other"
sh -c 'echo $$ > "$1/cgroup.procs"; exec cat "$2" >/dev/null' sh "$mem/$T-other" "$V/other"
printf 'HOTCACHE_SCOPE=tree\\n' > /etc/criu/hotcache.conf
runc checkpoint --leave-running --image-path "$W/img-tree" --work-path "$W/ckpt-tree" "$T" || { tail -20 "$W/ckpt-tree/dump.log"; exit 14; }
rm /etc/criu/hotcache.conf
runc checkpoint --image-path "$W/img" --work-path "$W/ckpt" "$T" || { tail -20 "$W/ckpt/dump.log"; exit 11; }
grep -h -e 'hotcache: captured' -e 'hotcache: cgroup scope' -e 'hotcache: scope' "$W/ckpt-tree/dump.log" "$W/ckpt/dump.log"
h evict "$R/f1" "$R/f2" "$V/f3"
runc restore -d --image-path "$W/img" --work-path "$W/ckpt" "$T" </dev/null >/dev/null 2>&1 || { tail -20 "$W/ckpt/restore.log"; exit 12; }
runc state "$T" | grep '"status": "running"'
${waits}
runc kill "$T" KILL; sleep 0.3; runc delete -f "$T"
`);
	const show = `\n${run.out.slice(-6000)}`;
	assert.is(run.result.code, 0, `the runtime script failed (exit ${run.result.code}${run.result.timedOut ? ', timed out' : ''}):${show}`);
	const image = (dir: string): HotcacheImage => decodeImage(readFileSync(path.join(w.work, dir, 'hotcache.img')));
	const paths = (img: HotcacheImage) => img.files.map((f) => f.path).sort();
	const listing = (img: HotcacheImage) => img.files.map((f) => `${f.path} ${pageCounts(f).resident}`).sort().join(', ');

	const tree = image('img-tree');
	assert.is(tree.capture.scope, 'tree');
	assert.equal(paths(tree), ['/cycler', '/data/held'], 'the tree scope: what the container holds open or mapped');

	const cgroup = image('img');
	// What each scope recorded (path, resident pages), for the reader of the suite's output.
	console.log(`  runc scope: tree: ${listing(tree)}; cgroup ${cgroup.capture.cgroup}: ${listing(cgroup)}`);
	assert.is(cgroup.capture.scope, 'cgroup');
	assert.ok(cgroup.capture.cgroup?.includes(w.token), `the container's memory cgroup: ${cgroup.capture.cgroup}`);
	for (const name of ['/f1', '/f2', '/data/f3']) {
		const f = cgroup.files.find((x) => x.path === name);
		assert.ok(f, `${name} is not in the image: ${paths(cgroup).join(', ')}`);
		assert.ok(pageCounts(f!).resident >= PAGES - lostPages(PAGES), `${name}: ${pageCounts(f!).resident} of ${PAGES} pages`);
	}
	const held = cgroup.files.find((x) => x.path === '/data/held');
	assert.equal(held?.fds.map((d) => [d.fd, d.offset]), [[3, 2 * PAGE]], 'the held file keeps its fd and offset');
	assert.not.ok(paths(cgroup).includes('/data/other'), 'read only by a process of another cgroup');
	assert.not.ok(paths(cgroup).includes('/unread'), 'never read');

	assert.is(run.restores.length, 1, `one restore, one prefetcher: ${JSON.stringify(run.restores.map((r) => r.dir))}${show}`);
	const restore = run.restores[0]!;
	assert.match(restore.status, /^hotcache: prefetch done: [1-9]\d* pages fetched/, restore.status);
	const planned = restore.record.filter((e) => e.kind === 'file').map((e) => String(e.path));
	// The cycler sleeps ten minutes between rounds: what came back, the prefetcher fetched.
	// A chunk names its file by index (the record's file events); ChunkPaths follows them.
	const chunkPaths = new ChunkPaths();
	const chunks = restore.record.map((e) => ({ e, path: chunkPaths.see(e) }));
	const fetchedOf = (name: string) => chunks.filter(({ e, path }) => e.kind === 'chunk' && path === name).reduce((n, { e }) => n + Number(e.fetched), 0);
	for (const name of ['/f1', '/f2', '/data/f3']) {
		assert.ok(planned.includes(name), `${name} was planned: ${JSON.stringify(planned)}`);
		assert.ok(fetchedOf(name) >= PAGES - lostPages(PAGES), `${name}: the prefetcher fetched ${fetchedOf(name)} of ${PAGES} pages`);
	}
	console.log(`  runc scope: after the cold restore, fetched ${planned.map((p) => `${p} ${fetchedOf(p)}`).join(', ')}`);
	for (const f of used) assert.ok(residentAgain(run.out, f), `${f} is not resident again:${show}`);
});

runc.run();
