// `hotcache migrate` and `receive` as commands, where no CRIU is reached: bad command lines, a
// destination that cannot be reached or speaks another protocol (the process is not touched, and
// nothing is left of the migration), an agent whose input closes at once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';
import { PROTOCOL_VERSION } from '../tools/migrate/protocol.js';
import { scratchDir, testUnless } from './support.js';

const cli = suite('hotcache migrate command');
const bin = path.join(projectRoot, 'tools/hotcache.js');
const state = scratchDir('migrate-cli').dir;

function hotcache(args: string[], input = '') {
	const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, env: { ...process.env, HOTCACHE_STATE_DIR: path.join(state, 'state') }, timeout: 60_000 });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

cli('bad command lines are usage errors', () => {
	for (const [args, why] of [
		[['migrate', '--to', 'ssh:h'], /--pid PID is required/],
		[['migrate', '--pid', '1', '--to', 'ftp:h'], /neither ssh/],
		[['migrate', '--pid', '1', '--to', 'ssh:h', '--warm', 'hot'], /--warm must be one of precopy, freeze, restore, off/],
		[['migrate', '--pid', '1', '--to', 'ssh:h', '--scope', 'wide'], /--scope must be one of auto, tree, cgroup/],
		[['migrate', '--pid', '1', '--to', 'ssh:h', '--link-mbps', 'fast'], /--link-mbps must be a number/],
		[['migrate', '--pid', '1', '--to', 'ssh:h', '--', '--leave-running'], /--leave-running is set by hotcache migrate itself/],
		[['receive', 'extra'], /Unexpected argument/],
	] as const) {
		const r = hotcache([...args]);
		assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
		assert.match(r.stderr, why);
	}
});

const root = process.getuid?.() === 0 ? null : 'needs root (hotcache migrate refuses to run otherwise)';

testUnless(root, cli, 'a destination that cannot be reached, or speaks another protocol, leaves the process untouched and nothing behind', async () => {
	const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
	try {
		const down = hotcache(['migrate', '--pid', String(victim.pid), '--to', 'exec:exit 3;', '--json']);
		assert.is(down.code, 1, down.stderr);
		const error = (JSON.parse(down.stdout) as { error: { code: string; message: string } }).error;
		assert.is(error.code, 'destination');
		assert.match(error.message, /(closed the connection|cannot write to the destination agent).*the process was not touched/s, error.message);
		// A stand-in agent that answers with another protocol number (a frame of msgpack, by hand).
		const speaker = path.join(state, 'other-version.mjs');
		const { writeFileSync } = await import('node:fs');
		writeFileSync(speaker, `
import { Packr } from ${JSON.stringify(path.join(projectRoot, 'node_modules/msgpackr/index.js'))};
const body = new Packr({ useRecords: false }).pack({ type: 'hello', protocol: 99, host: 'x', pid: 1, time: 0, pageSize: 4096, criu: '4.1', pieces: { from: 'install', problem: null }, dir: '/x' });
const head = Buffer.alloc(4); head.writeUInt32BE(body.length);
process.stdout.write(Buffer.concat([head, body]));
process.stdin.resume();
`);
		const other = hotcache(['migrate', '--pid', String(victim.pid), '--to', `exec:${process.execPath} ${speaker} #`, '--json']);
		assert.is(other.code, 1, other.stderr);
		assert.match(other.stdout, new RegExp(`speaks protocol 99, this hotcache ${PROTOCOL_VERSION}:`));
		assert.ok(victim.exitCode === null && victim.signalCode === null, 'the process runs on');
		const migrations = path.join(state, 'state/migrations');
		assert.equal(existsSync(migrations) ? readdirSync(migrations) : [], [], 'no migration directory is left');
	} finally {
		victim.kill();
	}
});

cli('the agent exits at once when its input closes before any hello', () => {
	const r = hotcache(['receive'], '');
	assert.is(r.code, 1);
	assert.is(r.stdout, '', 'nothing on the protocol channel');
});

cli.run();
