// The `hotcache` command as a user runs it: the real bin file, in a child process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';

const cli = suite('hotcache command');
const bin = path.join(projectRoot, 'tools/hotcache.js');

function hotcache(...args: string[]) {
	const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

cli('--version prints the package version', () => {
	const { version } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
	const r = hotcache('--version');
	assert.is(r.code, 0);
	assert.is(r.stdout.trim(), `hotcache ${version}`);
});

cli('--help lists the commands', () => {
	const r = hotcache('--help');
	assert.is(r.code, 0);
	assert.match(r.stdout, /usage: hotcache <command>/);
	assert.match(r.stdout, /^\s+paths\s/m);
});

cli('an unknown command is a usage error', () => {
	const r = hotcache('no-such-command');
	assert.is(r.code, 2);
	assert.match(r.stderr, /unknown command 'no-such-command'/);
});

cli('paths --json names absolute, existing pieces or null', () => {
	const r = hotcache('paths', '--json');
	assert.is(r.code, 0, r.stderr);
	const paths = JSON.parse(r.stdout) as Record<string, string | null>;
	assert.equal(Object.keys(paths).sort(), ['actionScript', 'kmod', 'plugin']);
	for (const value of Object.values(paths)) {
		if (value !== null) assert.ok(path.isAbsolute(value), value);
	}
	// npm ci builds the plugin on every machine this suite runs on.
	assert.type(paths.plugin, 'string');
});

cli('a bad option gives a JSON error under --json', () => {
	const r = hotcache('paths', '--json', '--bogus');
	assert.is(r.code, 2);
	const parsed = JSON.parse(r.stdout) as { error: { code: string; message: string } };
	assert.is(parsed.error.code, 'usage');
	assert.match(parsed.error.message, /bogus/);
});

cli.run();
