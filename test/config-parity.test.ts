// One configuration, three parsers: criu-plugin/lib/config.c (the plugin, hotcache-capture), hooks/config.ts
// (the prefetcher, the CLI) and hooks/config.sh (the action script) must make the same values and the
// same warnings of every file and environment; and the restore's key, made in C (the plugin), sh (the
// action script) and TypeScript (pruning), must be the same for every /proc/<pid>/stat text. Each case
// also says what the answer is, so that a mistake all three share shows too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSettings } from '../hooks/config.js';
import { restoreKey } from '../hooks/restore-key.js';
import { builtFile } from '../tools/project.js';
import { scratchDir, testRunner } from './support.js';

const shLibs = (['actionScriptContract', 'actionScriptConfig', 'actionScriptRestoreKey'] as const).map((f) => `. ${builtFile(f)}`).join('; ');
const dir = scratchDir('parity').dir;

interface Parsed {
	values: Record<string, string>;
	warnings: string[];
}

/** The runner's and the sh driver's output: "warning: TEXT" lines, then KEY=VALUE lines. */
function parseOutput(out: string): Parsed {
	const parsed: Parsed = { values: {}, warnings: [] };
	for (const line of out.split('\n').filter((l) => l !== '')) {
		if (line.startsWith('warning: ')) parsed.warnings.push(line.slice('warning: '.length));
		else parsed.values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
	}
	return parsed;
}

function run(command: string, args: string[], env: Record<string, string>, input?: string): string {
	// Only the variables of the case: nothing of the test's own environment leaks into the parsers.
	const r = spawnSync(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8', input });
	if (r.error) throw r.error;
	return r.stdout;
}

const inC = (env: Record<string, string>): Parsed => parseOutput(run(testRunner, ['config'], env));
const inSh = (env: Record<string, string>): Parsed =>
	parseOutput(run('sh', ['-c', `${shLibs}; hc_warn() { f=$1; shift; printf "warning: $f\\n" "$@"; }; hc_config_load; for k in $HC_CONFIG_KEYS; do eval "v=\\$hc_cfg_$k"; printf '%s=%s\\n' "$k" "$v"; done`], env));
function inTs(env: Record<string, string>): Parsed {
	const { values, warnings } = readSettings(env);
	const text = (v: unknown): string => (v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
	return { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, text(v)])), warnings };
}

const config = suite('configuration parity: C, TypeScript, sh');
let n = 0;

/**
 * One case: `file` (null: none) and `env`; `expect` lists the values that differ from the defaults
 * and the warnings, with FILE standing for the file's path.
 */
function parity(name: string, file: string | Buffer | null, env: Record<string, string>, expect: { values?: Record<string, string>; warnings?: string[] }): void {
	config(name, () => {
		const conf = path.join(dir, `case-${++n}.conf`);
		if (file !== null) writeFileSync(conf, file);
		const caseEnv = { HOTCACHE_CONFIG: conf, ...env };
		const ts = inTs(caseEnv);
		assert.equal(inC(caseEnv), ts, 'C and TypeScript');
		assert.equal(inSh(caseEnv), ts, 'sh and TypeScript');
		const defaults = inTs({ HOTCACHE_CONFIG: path.join(dir, 'none') }).values;
		const changed = Object.fromEntries(Object.entries(ts.values).filter(([k, v]) => defaults[k] !== v));
		assert.equal(changed, expect.values ?? {}, 'the values');
		assert.equal(ts.warnings, (expect.warnings ?? []).map((w) => w.replaceAll('FILE', conf)), 'the warnings');
	});
}

const notInt = (key: string, min: number, max: number) => `${key} is not an integer from ${min} to ${max}, ignored`;
const notBool = (key: string) => `${key} is not 1 or 0 (also yes/no, true/false, on/off), ignored`;
const notBandwidth = 'HOTCACHE_BANDWIDTH is not a number from 0 to 1000000 with at most 6 decimals, ignored';
const notPath = (key: string) => `${key} is not an absolute path of at most 4095 bytes, ignored`;

parity('no file, no variable: the defaults', null, {}, {});

parity('every key set, with comments, blanks and tabs around keys and values', '# hotcache\n\nHOTCACHE_DISABLE=yes\n HOTCACHE_STRICT = on # strict\nHOTCACHE_BACKEND=kpageflags\nHOTCACHE_TIME_LIMIT_MS\t=\t0\nHOTCACHE_CAPTURE_AT=exit\nHOTCACHE_SCOPE=cgroup\nHOTCACHE_WORKERS=064\nHOTCACHE_BANDWIDTH=117.5\nHOTCACHE_ACTIVATE=false\nHOTCACHE_STATE_DIR=/srv/hot cache\nHOTCACHE_RECORD=/tmp/r.jsonl\nHOTCACHE_NODE=/opt/node/bin/node\nHOTCACHE_ACTION_SCRIPT=/x/$(reboot)`;\n', {}, {
	values: {
		HOTCACHE_DISABLE: '1', HOTCACHE_STRICT: '1', HOTCACHE_BACKEND: 'kpageflags', HOTCACHE_TIME_LIMIT_MS: '0', HOTCACHE_CAPTURE_AT: 'exit', HOTCACHE_SCOPE: 'cgroup', HOTCACHE_WORKERS: '64',
		HOTCACHE_BANDWIDTH: '117500000', HOTCACHE_ACTIVATE: '0', HOTCACHE_STATE_DIR: '/srv/hot cache', HOTCACHE_RECORD: '/tmp/r.jsonl', HOTCACHE_NODE: '/opt/node/bin/node', HOTCACHE_ACTION_SCRIPT: '/x/$(reboot)`;',
	},
});

parity('lines that are not settings are warnings, and the lines around them still count', 'HOTCACHE_WORKERS=2\njust words\n=3\n  = 3\nHOTCACHE_WORKER=5\nexport HOTCACHE_WORKERS=6\nHOTCACHE_ACTIVATE=0', {}, {
	values: { HOTCACHE_WORKERS: '2', HOTCACHE_ACTIVATE: '0' },
	warnings: ['FILE line 2: not KEY=VALUE, ignored', 'FILE line 3: not KEY=VALUE, ignored', 'FILE line 4: not KEY=VALUE, ignored', 'FILE line 5: unknown key HOTCACHE_WORKER, ignored', 'FILE line 6: unknown key export HOTCACHE_WORKERS, ignored'],
});

parity('bytes that are not printable ASCII: a warning, except in a comment; NUL bytes are dropped', Buffer.concat([
	Buffer.from('HOTCACHE_STATE_DIR=/caf\xc3\xa9\n', 'latin1'),
	Buffer.from('HOTCACHE_WORKERS=3\r\n'),
	Buffer.from('HOTCACHE_NODE=no\x1bde\n'),
	Buffer.from('HOTCACHE_BACKEND=mincore # caf\xc3\xa9\n', 'latin1'),
	Buffer.from('HOTCACHE_TIME_LIMIT_MS=1\x002\n'),
]), {}, {
	values: { HOTCACHE_BACKEND: 'mincore', HOTCACHE_TIME_LIMIT_MS: '12' },
	warnings: ['FILE line 1: not printable ASCII, ignored', 'FILE line 2: not printable ASCII, ignored', 'FILE line 3: not printable ASCII, ignored'],
});

parity('bad values are warnings and leave the value before them; later lines win; an empty value sets nothing', 'HOTCACHE_WORKERS=4\nHOTCACHE_WORKERS=0\nHOTCACHE_WORKERS=65\nHOTCACHE_WORKERS=-1\nHOTCACHE_WORKERS=+5\nHOTCACHE_WORKERS=0x10\nHOTCACHE_WORKERS=99999999999999999999\nHOTCACHE_WORKERS=\nHOTCACHE_TIME_LIMIT_MS=3600000\nHOTCACHE_TIME_LIMIT_MS=3600001\nHOTCACHE_WORKERS==3\nHOTCACHE_WORKERS=3=4\n', {}, {
	values: { HOTCACHE_WORKERS: '4', HOTCACHE_TIME_LIMIT_MS: '3600000' },
	warnings: [
		...[2, 3, 4, 5, 6, 7].map((l) => `FILE line ${l}: ${notInt('HOTCACHE_WORKERS', 1, 64)}`),
		`FILE line 10: ${notInt('HOTCACHE_TIME_LIMIT_MS', 0, 3600000)}`,
		`FILE line 11: ${notInt('HOTCACHE_WORKERS', 1, 64)}`,
		`FILE line 12: ${notInt('HOTCACHE_WORKERS', 1, 64)}`,
	],
});

parity('booleans and choices are spelled exactly', 'HOTCACHE_ACTIVATE=YES\nHOTCACHE_DISABLE=maybe\nHOTCACHE_STRICT=true\nHOTCACHE_BACKEND=KMOD\nHOTCACHE_CAPTURE_AT=exit now\nHOTCACHE_ACTIVATE=off\n', {}, {
	values: { HOTCACHE_STRICT: '1', HOTCACHE_ACTIVATE: '0' },
	warnings: [
		`FILE line 1: ${notBool('HOTCACHE_ACTIVATE')}`,
		`FILE line 2: ${notBool('HOTCACHE_DISABLE')}`,
		'FILE line 4: HOTCACHE_BACKEND is not one of auto, kmod, kpageflags, mincore, ignored',
		'FILE line 5: HOTCACHE_CAPTURE_AT is not one of early, exit, ignored',
	],
});

for (const [text, value] of [['0', '0'], ['1000000', '1000000000000'], ['999999.999999', '999999999999'], ['0.000001', '1'], ['007.50', '7500000']] as const) {
	parity(`bandwidth ${text} MB/s is ${value} bytes per second`, `HOTCACHE_BANDWIDTH=${text}\n`, {}, { values: value === '0' ? {} : { HOTCACHE_BANDWIDTH: value } });
}
parity('bandwidths that are not decimals in range', ['.5', '5.', '1.2.3', '0.0000001', '1000000.000001', '1e3', '12345678901234567890', '-1'].map((b) => `HOTCACHE_BANDWIDTH=${b}`).join('\n'), {}, {
	warnings: [1, 2, 3, 4, 5, 6, 7, 8].map((l) => `FILE line ${l}: ${notBandwidth}`),
});

parity('paths are absolute and at most 4095 bytes', `HOTCACHE_STATE_DIR=relative/dir\nHOTCACHE_RECORD=/${'r'.repeat(4094)}\nHOTCACHE_STATE_DIR=/${'s'.repeat(4095)}\nHOTCACHE_STATE_DIR="/quoted"\nHOTCACHE_NODE=${'n'.repeat(4096)}\n`, {}, {
	values: { HOTCACHE_RECORD: `/${'r'.repeat(4094)}` },
	warnings: [`FILE line 1: ${notPath('HOTCACHE_STATE_DIR')}`, `FILE line 3: ${notPath('HOTCACHE_STATE_DIR')}`, `FILE line 4: ${notPath('HOTCACHE_STATE_DIR')}`, 'FILE line 5: HOTCACHE_NODE is not a command name or path of at most 4095 bytes, ignored'],
});

parity('the environment wins over the file; an empty variable is unset; a bad one is a warning and the file\'s value stays', 'HOTCACHE_WORKERS=3\nHOTCACHE_BACKEND=mincore\nHOTCACHE_STRICT=1\nHOTCACHE_ACTIVATE=0\n', {
	HOTCACHE_WORKERS: '5', HOTCACHE_BACKEND: '', HOTCACHE_STRICT: 'sometimes', HOTCACHE_ACTIVATE: ' 1', HOTCACHE_NODE: 'no\tde', HOTCACHE_VERBOSE: '2', HOTCACHE_UNKNOWN: '1',
}, {
	values: { HOTCACHE_WORKERS: '5', HOTCACHE_BACKEND: 'mincore', HOTCACHE_STRICT: '1', HOTCACHE_ACTIVATE: '0' },
	warnings: [`environment: ${notBool('HOTCACHE_STRICT')}`, `environment: ${notBool('HOTCACHE_ACTIVATE')}`, 'environment: HOTCACHE_NODE is not a command name or path of at most 4095 bytes, ignored'],
});

config('a file that is not a regular file is a warning; a missing one is no file', () => {
	const notAFile = path.join(dir, 'a-directory.conf');
	mkdirSync(notAFile);
	for (const env of [{ HOTCACHE_CONFIG: notAFile }, { HOTCACHE_CONFIG: path.join(dir, 'missing', 'x.conf') }]) {
		const ts = inTs(env);
		assert.equal(inC(env), ts);
		assert.equal(inSh(env), ts);
	}
	assert.equal(inTs({ HOTCACHE_CONFIG: notAFile }).warnings, [`${notAFile} is not a regular file, ignored`]);
});

config.run();

const key = suite('restore key parity: C, TypeScript, sh');

function keyIn(stat: string): { c: string; sh: string; ts: string } {
	const c = run(testRunner, ['restore-key'], {}, stat).trim();
	const sh = run('sh', ['-c', `${shLibs}; hc_restore_key "$1" && echo "$hc_key" || echo refused`, 'sh', stat.replace(/\n$/, '')], {}).trim();
	return { c, sh, ts: restoreKey(stat) ?? 'refused' };
}

/** Fields 3 to 52 of a stat line, field 22 being `start`. */
const fields = (start: string, sep = ' ') => Array.from({ length: 50 }, (_, i) => (i + 3 === 22 ? start : String(i + 3))).join(sep);

const stats: [string, string, string][] = [
	['this process', readFileSync('/proc/self/stat', 'utf8'), 'self'],
	['a plain command name', `4242 (criu) ${fields('777')}\n`, '4242.777'],
	['spaces and parentheses in the command name', `4242 (a) b) (c ) ${fields('778')}\n`, '4242.778'],
	['a command name ending in ")"', `4242 (x)) ${fields('779')}\n`, '4242.779'],
	['runs of blanks between fields', `4242 (criu) ${fields('780', ' \t ')}\n`, '4242.780'],
	['too few fields', '4242 (criu) S 1 2 3\n', 'refused'],
	['no ") " at all', `4242 (criu)${fields('781')}\n`, 'refused'],
	['a start time that is not a number', `4242 (criu) ${fields('78x')}\n`, 'refused'],
	['a start time of 21 digits', `4242 (criu) ${fields('1'.repeat(21))}\n`, 'refused'],
	['a pid that is not a number', `pid (criu) ${fields('782')}\n`, 'refused'],
];

for (const [name, stat, expected] of stats) {
	key(name, () => {
		const got = keyIn(stat);
		assert.equal({ c: got.c, sh: got.sh }, { c: got.ts, sh: got.ts });
		if (expected === 'self') assert.match(got.ts, new RegExp(`^${process.pid}\\.\\d+$`));
		else assert.is(got.ts, expected);
	});
}

key.run();
