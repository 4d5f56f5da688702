// The contract (contract/contract.json) and what depends on it without being generated from it: the
// generator refuses a contract that contradicts itself, the schema's enums carry its numbers, and the
// README's configuration table names its keys with their defaults and sides.
// (The C side checks its own at compile time: static asserts against protoc-c's enums and kmod's uapi.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { BACKEND, CONFIG_KEYS, HOTNESS, LRU } from '../contract/out/contract.js';
import { projectRoot } from '../tools/project.js';
import { scratchDir } from './support.js';

const contract = suite('contract');
const generator = path.join(projectRoot, 'tools/contract/generate.mjs');
const source = JSON.parse(readFileSync(path.join(projectRoot, 'contract/contract.json'), 'utf8')) as {
	config: { keys: Record<string, Record<string, unknown>> };
	enums: Record<string, { values: Record<string, number> }>;
};
const dir = scratchDir('contract').dir;

function generate(edit: (c: typeof source) => void): { status: number | null; stderr: string; out: string } {
	const c = structuredClone(source);
	edit(c);
	const file = path.join(dir, `contract-${Math.random().toString(36).slice(2)}.json`);
	const out = `${file}.out`;
	writeFileSync(file, JSON.stringify(c));
	const r = spawnSync(process.execPath, [generator, file, out], { encoding: 'utf8' });
	return { status: r.status, stderr: r.stderr, out };
}

contract('the generator writes the three files of a sound contract', () => {
	const r = generate(() => {});
	assert.is(r.status, 0, r.stderr);
	for (const f of ['contract.h', 'contract.ts', 'contract.sh']) assert.ok(existsSync(path.join(r.out, f)), f);
});

const contradictions: [string, (c: typeof source) => void, RegExp][] = [
	['a default past its bound', (c) => (c.config.keys.HOTCACHE_WORKERS!.default = 65), /HOTCACHE_WORKERS\.default: a number from min to max/],
	['a default that is not a choice', (c) => (c.config.keys.HOTCACHE_BACKEND!.default = 'fast'), /HOTCACHE_BACKEND\.default: one of auto, kmod/],
	['an unknown type', (c) => (c.config.keys.HOTCACHE_NODE!.type = 'float'), /HOTCACHE_NODE\.type/],
	['a relative default path', (c) => (c.config.keys.HOTCACHE_STATE_DIR!.default = 'var/lib'), /HOTCACHE_STATE_DIR\.default/],
	['an enum a key stores by position, numbered out of order', (c) => (c.enums.backend!.values = { auto: 0, kmod: 2, kpageflags: 1, mincore: 3 }), /must number its names 0, 1/],
	['two names for one number', (c) => (c.enums.lru!.values = { unspecified: 0, classic: 1, mglru: 1 }), /enums\.lru: distinct/],
];

for (const [name, edit, message] of contradictions) {
	contract(`the generator refuses a contract with ${name}, and writes nothing`, () => {
		const r = generate(edit);
		assert.is(r.status, 1);
		assert.match(r.stderr, message);
		assert.not.ok(existsSync(r.out), 'no output directory');
	});
}

contract('proto/hotcache.proto numbers its enums as the contract does', () => {
	const schema = protobuf.loadSync(path.join(projectRoot, 'proto/hotcache.proto'));
	const values = (name: string) => schema.lookupEnum(name).values;
	const classes = values('hotcache.Hotness');
	assert.equal([classes.HOTNESS_RESIDENT, classes.HOTNESS_WARM, classes.HOTNESS_HOT], [HOTNESS.resident, HOTNESS.warm, HOTNESS.hot]);
	const backends = values('hotcache.Backend');
	assert.equal([backends.BACKEND_KMOD, backends.BACKEND_KPAGEFLAGS, backends.BACKEND_MINCORE], [BACKEND.kmod, BACKEND.kpageflags, BACKEND.mincore]);
	const lrus = values('hotcache.Lru');
	assert.equal([lrus.LRU_UNSPECIFIED, lrus.LRU_CLASSIC, lrus.LRU_MGLRU], [LRU.unspecified, LRU.classic, LRU.mglru]);
});

contract('the README\'s configuration table is the contract\'s keys, defaults and sides, in its order', () => {
	const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
	const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
	const rows = [...section.matchAll(/^\| `(HOTCACHE_\w+)` \| ([^|]+) \| (\w+) \|/gm)].map((m) => [m[1], m[2]!.trim().replace(/`/g, ''), m[3]]);
	const text = (d: unknown) => (d === null ? '(none)' : typeof d === 'boolean' ? (d ? '1' : '0') : String(d));
	assert.equal(rows, Object.entries(CONFIG_KEYS).map(([key, spec]) => [key, text(spec.default), spec.side]));
});

contract.run();
