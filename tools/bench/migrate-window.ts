// Measures `hotcache migrate` on the reference workload: a process re-reading a large file
// sequentially from storage both emulated hosts share, each host's link to it throttled (a Gigabit
// link by default), migrated with each --warm mode and not at all, in interleaved rounds. Reports the
// downtime and the data the process read in a fixed window after the migration was asked for.
//   node dist/tools/bench/migrate-window.js [--rounds N] [--window S] [--file-mib M] [--read-bps B] [--link-mbps L]
// Root; builds the storage (an ext4 image holding one random file) under /var/tmp, runs the rest in
// the test environment (tools/testenv), removes everything afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../project.js';
import { makeStorage } from '../hosts/storage.js';
import { removeLink } from '../hosts/link.js';
import { runInTestenv } from '../testenv/index.js';

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			rounds: { type: 'string', default: '3' },
			window: { type: 'string', default: '20' },
			'file-mib': { type: 'string', default: '1024' },
			'read-bps': { type: 'string', default: '117000000' },
			'link-mbps': { type: 'string', default: '1000' },
		},
	});
	const make = spawnSync('make', ['-s', '-C', path.join(projectRoot, 'test/fixtures')], { stdio: 'inherit' });
	if (make.status !== 0) throw new Error('building test/fixtures failed');
	const work = mkdtempSync('/var/tmp/hotcache-measure-');
	const name = `hotcache-measure-${process.pid}-${randomBytes(3).toString('hex')}`;
	try {
		const storage = path.join(work, 'storage.img');
		await makeStorage(storage, (dir) => {
			const dd = spawnSync('dd', ['if=/dev/urandom', `of=${path.join(dir, 'big')}`, 'bs=1M', `count=${Number(values['file-mib'])}`, 'status=none']);
			if (dd.status !== 0) throw new Error(`writing the file failed: ${dd.stderr}`);
		});
		const args = [
			path.join(projectRoot, 'dist/tools/bench/migrate-window-run.js'),
			'--storage', storage, '--file', 'big', '--name', name,
			'--rounds', values.rounds!, '--window', values.window!, '--read-bps', values['read-bps']!, '--link-mbps', values['link-mbps']!,
		];
		const result = await runInTestenv(`exec node ${args.join(' ')}`, { binds: [work], timeoutMs: 4 * 3600_000 });
		process.stdout.write(result.stdout);
		process.stderr.write(result.stderr);
		process.exitCode = result.code ?? 1;
	} finally {
		if (existsSync(`/sys/fs/cgroup/blkio/${name}`)) await removeLink('/sys/fs/cgroup/blkio', name);
		rmSync(work, { recursive: true, force: true });
	}
}

main().catch((err: unknown) => {
	process.stderr.write(`migrate-window: ${(err as Error).stack ?? String(err)}\n`);
	process.exitCode = 1;
});
