// The emulated hosts from a shell script (tests, by hand):
//   node dist/tools/hosts/main.js up --name hotcache-NAME --storage IMG --mount DIR --state FILE
//        [--read-bps N] [--read-iops N] [--local DIR]... [--join PID]...
//     prints HOSTS_DEST_PID=..., HOSTS_SOURCE_DEVICE=MAJ:MIN, HOSTS_DEST_DEVICE=MAJ:MIN and
//     HOSTS_CGROUP=DIR lines (for eval) and keeps what it made in FILE;
//   node dist/tools/hosts/main.js down --state FILE
// See hosts.ts.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setUpHosts, tearDownHosts, type Hosts } from './hosts.js';

function count(value: string | undefined, what: string): number {
	const n = Number(value ?? 0);
	if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a whole number`);
	return n;
}

async function main(argv: string[]): Promise<void> {
	const { positionals, values } = parseArgs({
		args: argv,
		allowPositionals: true,
		strict: true,
		options: {
			name: { type: 'string' },
			storage: { type: 'string' },
			mount: { type: 'string' },
			state: { type: 'string' },
			'read-bps': { type: 'string' },
			'read-iops': { type: 'string' },
			local: { type: 'string', multiple: true },
			join: { type: 'string', multiple: true },
		},
	});
	const state = values.state;
	if (!state) throw new Error('--state FILE is required');
	if (positionals[0] === 'up') {
		if (!values.name || !values.storage || !values.mount) throw new Error('up needs --name, --storage and --mount');
		const hosts = await setUpHosts({
			name: values.name,
			storage: values.storage,
			mountPoint: values.mount,
			link: { readBps: count(values['read-bps'], '--read-bps'), readIops: count(values['read-iops'], '--read-iops') },
			local: values.local ?? [],
			join: (values.join ?? []).map((p) => count(p, '--join')),
		});
		writeFileSync(state, JSON.stringify(hosts) + '\n', { flag: 'wx', mode: 0o600 });
		process.stdout.write(
			`HOSTS_DEST_PID=${hosts.destination.pid}\nHOSTS_SOURCE_DEVICE=${hosts.source.device}\nHOSTS_DEST_DEVICE=${hosts.destination.device}\nHOSTS_CGROUP=${hosts.cgroup ?? ''}\n`,
		);
	} else if (positionals[0] === 'down') {
		await tearDownHosts(JSON.parse(readFileSync(state, 'utf8')) as Hosts);
		rmSync(state);
	} else {
		throw new Error('usage: main.js up|down --state FILE [options] (see tools/hosts/main.ts)');
	}
}

main(process.argv.slice(2)).catch((err: unknown) => {
	process.stderr.write(`hosts: ${(err as Error).message}\n`);
	process.exitCode = 1;
});
