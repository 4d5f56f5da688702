// libhotcache's pure parts, in C: page ranges, the path rules, the dedup table, mapped pages raised to
// warm, the refused file systems, mountinfo lines, the memory cgroup's path and directory, pages kept when
// charged to it, the mounts a process's view leaves out (criu-plugin/test/, run by
// criu-plugin/out/hotcache-test). One uvu test per C test; a failed one shows the checks that failed, with
// file and line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { testRunner as runner } from './support.js';

const library = suite('capture library (C unit tests)');

const list = spawnSync(runner, ['list'], { encoding: 'utf8' });
if (list.status !== 0) throw new Error(`${runner} list failed (npm ci builds it): ${list.stderr}`);
const names = list.stdout.split('\n').filter((n) => n !== '');

library('the runner lists the unit tests of every part', () => {
	for (const part of ['ranges', 'path', 'dedup', 'mapped', 'refused fs', 'mountinfo', 'memcg', 'charged', 'view']) assert.ok(names.some((n) => n.startsWith(`${part}: `)), part);
});

for (const name of names) {
	library(name, () => {
		const r = spawnSync(runner, ['unit', name], { encoding: 'utf8' });
		assert.is(r.status, 0, r.stdout + r.stderr);
	});
}

library.run();
