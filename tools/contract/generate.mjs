// @ts-check
// Turns contract/contract.json into a C header, a TypeScript module and a sourced sh file, so that the
// C library and plugin, the TypeScript prefetcher and CLI, and the action script read the same facts:
// contract/out/contract.h and contract.ts, and hooks/contract.sh, beside the script that sources it
// (an install links it beside its link, so that the script finds it without a fork). With OUT_DIR,
// all three go there.
// Plain JavaScript so that it runs before anything is compiled (npm ci runs it before tsc, node-gyp
// and make; the plugin's Makefile runs it when contract.h is missing or older than the contract).
// Checks the contract first and refuses one that contradicts itself. Writes a file only when its text
// changes, so that make rebuilds nothing needlessly.
//   node tools/contract/generate.mjs [CONTRACT_JSON [OUT_DIR]]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('../../', import.meta.url));
const source = process.argv[2] ?? path.join(top, 'contract/contract.json');
const outDir = process.argv[3] ?? path.join(top, 'contract/out');
const shDir = process.argv[3] ?? path.join(top, 'hooks');
const BANNER = 'Generated from contract/contract.json by tools/contract/generate.mjs: do not edit.';

/** @typedef {{ value: number | string, why?: string }} Fact */
/** @typedef {{ name: string, side: string, type: string, default: boolean | number | string | null, min?: number, max?: number, scale?: number, of?: string, doc: string, why?: string, choices?: string[], expected: string, field: string }} Key */
/** @typedef {{ name: string, magic: number, why: string }} RefusedFs */

class ContractError extends Error {}

/** @param {boolean} ok @param {string} message @returns {asserts ok} */
function check(ok, message) {
	if (!ok) throw new ContractError(message);
}

/** Paths relative to a directory (neither absolute nor leaving it), its `about` left out. @param {unknown} raw @param {string} where @returns {Record<string, string>} */
function relativePaths(raw, where) {
	const list = Object.entries(object(raw, where)).filter(([name]) => name !== 'about');
	for (const [name, p] of list) {
		check(typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').includes('..'), `${where}.${name}: a relative path inside the directory`);
	}
	return Object.fromEntries(/** @type {[string, string][]} */ (list));
}

/** A plain value or {value, why}. @param {unknown} raw @param {string} where @returns {Fact} */
function fact(raw, where) {
	if (typeof raw === 'number' || typeof raw === 'string') return { value: raw };
	check(typeof raw === 'object' && raw !== null && 'value' in raw, `${where}: a number, a string or {value, why}`);
	const { value, why } = /** @type {{ value: unknown, why?: unknown }} */ (raw);
	check(typeof value === 'number' || typeof value === 'string', `${where}.value: a number or a string`);
	check(why === undefined || typeof why === 'string', `${where}.why: a string`);
	return why === undefined ? { value } : { value, why };
}

/** @param {unknown} raw @param {string} where @returns {number} */
function count(raw, where) {
	const { value } = fact(raw, where);
	check(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, `${where}: a non-negative integer`);
	return value;
}

/** @param {string} s @returns {boolean} */
const printable = (s) => /^[\x20-\x7e]*$/.test(s);

/** camelCase -> CAMEL_CASE @param {string} s */
const upper = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** @param {unknown} v @param {string} where @returns {Record<string, unknown>} */
function object(v, where) {
	check(typeof v === 'object' && v !== null && !Array.isArray(v), `${where}: an object`);
	return /** @type {Record<string, unknown>} */ (v);
}

/** @param {string} file */
function load(file) {
	const raw = object(JSON.parse(readFileSync(file, 'utf8')), 'contract');
	const image = object(raw.image, 'image');
	check(typeof image.file === 'string' && typeof image.magic === 'string' && printable(image.magic), 'image.file and image.magic: strings, the magic printable ASCII');
	const pageSize = object(image.pageSize, 'image.pageSize');
	/** @type {Record<string, Fact>} */
	const limits = {};
	for (const [name, v] of Object.entries(object(object(image, 'image').limits, 'image.limits'))) limits[name] = { ...fact(v, `image.limits.${name}`), value: count(v, `image.limits.${name}`) };
	/** @type {Record<string, Fact>} */
	const captureLimits = {};
	for (const [name, v] of Object.entries(object(object(raw.capture, 'capture').limits, 'capture.limits'))) captureLimits[name] = { ...fact(v, `capture.limits.${name}`), value: count(v, `capture.limits.${name}`) };

	/** @type {Record<string, { about: string, values: Record<string, number> }>} */
	const enums = {};
	for (const [name, v] of Object.entries(object(raw.enums, 'enums'))) {
		const e = object(v, `enums.${name}`);
		const values = object(e.values, `enums.${name}.values`);
		const numbers = Object.values(values);
		check(numbers.every((n) => Number.isSafeInteger(n) && /** @type {number} */ (n) >= 0) && new Set(numbers).size === numbers.length, `enums.${name}: distinct non-negative integers`);
		check(Object.keys(values).every((k) => /^[a-z][a-z0-9]*$/.test(k)), `enums.${name}: lower-case names`);
		enums[name] = { about: String(e.about ?? ''), values: /** @type {Record<string, number>} */ (values) };
	}

	const paths = object(raw.paths, 'paths');
	const restore = object(raw.restore, 'restore');
	const migration = object(raw.migration, 'migration');
	const migrationEnv = /** @type {Record<string, string>} */ (object(migration.env, 'migration.env'));
	for (const [name, v] of Object.entries(migrationEnv)) check(typeof v === 'string' && /^HOTCACHE_[A-Z_]+$/.test(v), `migration.env.${name}: a HOTCACHE_ variable name`);
	const prefetcher = object(raw.prefetcher, 'prefetcher');

	const config = object(raw.config, 'config');
	const pathBytes = count(config.pathBytes, 'config.pathBytes');
	const bool = object(config.bool, 'config.bool');
	const trueWords = /** @type {string[]} */ (bool.true);
	const falseWords = /** @type {string[]} */ (bool.false);
	check(Array.isArray(trueWords) && Array.isArray(falseWords) && trueWords.includes('1') && falseWords.includes('0'), 'config.bool: lists of true and false words, with 1 and 0');
	check([...trueWords, ...falseWords].every((w) => /^[a-z0-9]+$/.test(w)), 'config.bool: words of lower-case letters and digits');
	const messages = object(config.messages, 'config.messages');
	for (const [name, text] of Object.entries(messages)) {
		if (name === 'about') continue;
		check(typeof text === 'string' && printable(text) && !/%[^sd]/.test(text), `config.messages.${name}: printf text with %s and %d only`);
	}

	/** @type {Key[]} */
	const keys = [];
	for (const [name, v] of Object.entries(object(config.keys, 'config.keys'))) {
		const k = object(v, `config.keys.${name}`);
		const where = `config.keys.${name}`;
		check(/^HOTCACHE_[A-Z0-9_]+$/.test(name), `${where}: a name HOTCACHE_[A-Z0-9_]+`);
		check(['dump', 'restore', 'both'].includes(String(k.side)), `${where}.side: dump, restore or both`);
		check(typeof k.doc === 'string', `${where}.doc: a string`);
		/** @type {Key} */
		const key = { name, side: String(k.side), type: String(k.type), default: /** @type {Key['default']} */ (k.default), doc: String(k.doc), expected: '', field: name.replace(/^HOTCACHE_/, '').toLowerCase() };
		if (typeof k.why === 'string') key.why = k.why;
		const d = k.default;
		switch (key.type) {
			case 'bool':
				check(typeof d === 'boolean', `${where}.default: true or false`);
				key.expected = `${trueWords[0]} or ${falseWords[0]} (also ${trueWords.slice(1).map((w, i) => `${w}/${falseWords[i + 1]}`).join(', ')})`;
				break;
			case 'int':
			case 'decimal': {
				const min = Number(k.min);
				const max = Number(k.max);
				check(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min >= 0 && min <= max, `${where}: integer min and max, 0 <= min <= max`);
				check(typeof d === 'number' && d >= min && d <= max, `${where}.default: a number from min to max`);
				key.min = min;
				key.max = max;
				if (key.type === 'int') {
					check(Number.isSafeInteger(d) && max < 1e15, `${where}: an integer default, max below 10^15`);
					key.expected = `an integer from ${min} to ${max}`;
				} else {
					const scale = Number(k.scale);
					check(/^10*$/.test(String(scale)) && scale > 1 && max * scale < 2 ** 53 && Number.isSafeInteger(d * scale), `${where}.scale: a power of ten, max * scale below 2^53`);
					key.scale = scale;
					key.expected = `a number from ${min} to ${max} with at most ${String(scale).length - 1} decimals`;
				}
				break;
			}
			case 'enum': {
				const e = enums[String(k.of)];
				check(e !== undefined, `${where}.of: one of the enums`);
				const choices = Object.keys(e.values);
				// The C parser stores a choice's position: the enum must number its names 0, 1, 2, ... in order.
				check(Object.values(e.values).every((n, i) => n === i), `${where}: enum ${k.of} must number its names 0, 1, ... in order`);
				check(typeof d === 'string' && choices.includes(d), `${where}.default: one of ${choices.join(', ')}`);
				key.of = String(k.of);
				key.choices = choices;
				key.expected = `one of ${choices.join(', ')}`;
				break;
			}
			case 'path':
				check(d === null || (typeof d === 'string' && d.startsWith('/') && printable(d) && d.length <= pathBytes), `${where}.default: null or an absolute printable path`);
				key.expected = `an absolute path of at most ${pathBytes} bytes`;
				break;
			case 'command':
				check(d === null || (typeof d === 'string' && d !== '' && printable(d) && d.length <= pathBytes), `${where}.default: null or a printable command`);
				key.expected = `a command name or path of at most ${pathBytes} bytes`;
				break;
			default:
				check(false, `${where}.type: bool, int, decimal, enum, path or command`);
		}
		keys.push(key);
	}
	check(!keys.some((k) => k.name === config.fileVariable), 'config.fileVariable names the file: it is not a key');

	/** @type {RefusedFs[]} */
	const refusedFs = [];
	const fsList = object(raw.refusedFs, 'refusedFs').list;
	check(Array.isArray(fsList), 'refusedFs.list: an array');
	for (const entry of fsList) {
		const e = object(entry, 'refusedFs.list[]');
		check(typeof e.name === 'string' && /^[a-z0-9_]+$/.test(e.name), `refusedFs: name ${e.name}`);
		check(typeof e.magic === 'string' && /^0x[0-9a-f]+$/.test(e.magic), `refusedFs ${e.name}: magic as lower-case hex`);
		check(e.why === 'interface' || e.why === 'daemon', `refusedFs ${e.name}: why is interface or daemon`);
		refusedFs.push({ name: e.name, magic: Number.parseInt(e.magic, 16), why: e.why });
	}
	check(new Set(refusedFs.map((f) => f.magic)).size === refusedFs.length, 'refusedFs: distinct magic numbers');

	const memory = object(object(raw.capture, 'capture').memoryFs, 'capture.memoryFs');
	check(Array.isArray(memory.list), 'capture.memoryFs.list: an array');
	/** @type {{ name: string, magic: number }[]} */
	const memoryFs = [];
	for (const entry of /** @type {unknown[]} */ (memory.list)) {
		const e = object(entry, 'capture.memoryFs.list[]');
		check(typeof e.name === 'string' && /^[a-z0-9_]+$/.test(e.name), `capture.memoryFs: name ${e.name}`);
		check(typeof e.magic === 'string' && /^0x[0-9a-f]+$/.test(e.magic), `capture.memoryFs ${e.name}: magic as lower-case hex`);
		memoryFs.push({ name: e.name, magic: Number.parseInt(e.magic, 16) });
	}
	check(!memoryFs.some((m) => refusedFs.some((f) => f.magic === m.magic)), 'capture.memoryFs: none of them refused already');

	return {
		image: {
			file: String(image.file),
			magic: String(image.magic),
			version: { ...fact(image.version, 'image.version'), value: count(image.version, 'image.version') },
			pageSize: { min: count(pageSize.min, 'image.pageSize.min'), max: count(pageSize.max, 'image.pageSize.max') },
			limits,
		},
		captureLimits,
		memoryFs: { about: String(memory.about), list: memoryFs },
		enums,
		paths: {
			/** @type {Record<string, string>} */
			installed: {
				.../** @type {Record<string, string>} */ (object(paths.installed, 'paths.installed')),
				// Named once, as the defaults of their keys.
				actionScript: /** @type {string} */ (keys.find((k) => k.name === 'HOTCACHE_ACTION_SCRIPT')?.default),
				stateDir: /** @type {string} */ (keys.find((k) => k.name === 'HOTCACHE_STATE_DIR')?.default),
				config: String(config.file),
			},
			/** @type {Record<string, string>} */
			built: /** @type {Record<string, string>} */ (object(paths.built, 'paths.built')),
			/** @type {Record<string, string>} */
			libexec: relativePaths(paths.libexec, 'paths.libexec'),
		},
		restore: {
			about: String(restore.about),
			dir: String(restore.dir),
			startTimeField: { ...fact(restore.startTimeField, 'restore.startTimeField'), value: count(restore.startTimeField, 'restore.startTimeField') },
			/** @type {Record<string, string>} */
			files: /** @type {Record<string, string>} */ (object(restore.files, 'restore.files')),
		},
		migration: { about: String(migration.about), dir: String(migration.dir), env: migrationEnv },
		poolExtraThreads: { ...fact(prefetcher.poolExtraThreads, 'prefetcher.poolExtraThreads'), value: count(prefetcher.poolExtraThreads, 'prefetcher.poolExtraThreads') },
		config: {
			file: String(config.file),
			fileVariable: String(config.fileVariable),
			pathBytes: { ...fact(config.pathBytes, 'config.pathBytes'), value: pathBytes },
			trueWords,
			falseWords,
			/** @type {Record<string, string>} */
			messages: Object.fromEntries(Object.entries(messages).filter(([name]) => name !== 'about').map(([name, text]) => [name, String(text)])),
			keys,
		},
		refusedFs: { about: String(object(raw.refusedFs, 'refusedFs').about), list: refusedFs },
	};
}

/** @typedef {ReturnType<typeof load>} Contract */

// ---- C ----

/** @param {string} s */
const cString = (s) => JSON.stringify(s);
/** @param {number} n */
const cNumber = (n) => (n <= 0xffffffff ? `${n}u` : `${n}ull`);
/** @param {string | undefined} why */
const cComment = (why) => (why ? `/* ${why}. */\n` : '');

// C names of the enums where the plain hc_<name> would not do (struct hc_backend exists; hotness is a page's class).
const C_ENUMS = /** @type {Record<string, { type: string, prefix: string }>} */ ({
	hotness: { type: 'hc_class', prefix: 'HC_CLASS' },
	backend: { type: 'hc_backend_id', prefix: 'HC_BACKEND' },
});
/** @param {string} name */
const cEnum = (name) => C_ENUMS[name] ?? { type: `hc_${upper(name).toLowerCase()}`, prefix: `HC_${upper(name)}` };

/** @param {Key} k */
function cField(k) {
	switch (k.type) {
		case 'bool': return `bool ${k.field};`;
		case 'int': return `int64_t ${k.field};`;
		case 'decimal': return `int64_t ${k.field};\t/* scaled by ${k.scale} */`;
		case 'enum': return `int ${k.field};\t/* enum ${cEnum(/** @type {string} */ (k.of)).type} */`;
		default: return `char ${k.field}[HC_CONFIG_PATH_BYTES + 1];${k.default === null ? '\t/* empty: none */' : ''}`;
	}
}

/** @param {Key} k */
function cDefault(k) {
	switch (k.type) {
		case 'bool': return [k.default ? '1' : '0', 'NULL'];
		case 'int': return [String(k.default), 'NULL'];
		case 'decimal': return [String(Number(k.default) * Number(k.scale)), 'NULL'];
		case 'enum': return [String(/** @type {string[]} */ (k.choices).indexOf(String(k.default))), 'NULL'];
		default: return ['0', k.default === null ? '""' : cString(String(k.default))];
	}
}

/** @param {Contract} c */
function renderC(c) {
	const o = [];
	o.push('/* SPDX-License-Identifier: GPL-2.0 */', `/* ${BANNER} */`, '#ifndef HOTCACHE_CONTRACT_H', '#define HOTCACHE_CONTRACT_H', '');
	o.push('#include <stdbool.h>', '#include <stdint.h>', '');
	o.push('/* hotcache.img: the magic, a u32 little-endian payload length, the protobuf payload. */');
	o.push(`#define HC_IMAGE_FILE ${cString(c.image.file)}`, `#define HC_MAGIC ${cString(c.image.magic)}`, `#define HC_MAGIC_BYTES ${cNumber(c.image.magic.length)}`);
	o.push(`#define HC_HEADER_BYTES ${cNumber(c.image.magic.length + 4)}`);
	o.push(cComment(c.image.version.why) + `#define HC_FORMAT_VERSION ${cNumber(Number(c.image.version.value))}`);
	o.push(`#define HC_PAGE_SIZE_MIN ${cNumber(c.image.pageSize.min)}`, `#define HC_PAGE_SIZE_MAX ${cNumber(c.image.pageSize.max)}`, '');
	for (const [name, f] of [...Object.entries(c.image.limits), ...Object.entries(c.captureLimits)]) o.push(cComment(f.why) + `#define HC_LIMIT_${upper(name)} ${cNumber(Number(f.value))}`);
	o.push('');
	for (const [name, e] of Object.entries(c.enums)) {
		const { type, prefix } = cEnum(name);
		o.push(`/* ${e.about}. */`, `enum ${type} {`, ...Object.entries(e.values).map(([v, n]) => `\t${prefix}_${upper(v)} = ${n},`), '};');
		// Numbered 0, 1, 2, ...: the names by number.
		if (Object.values(e.values).every((n, i) => n === i)) o.push(`#define ${prefix}_NAMES ${Object.keys(e.values).map(cString).join(', ')}`);
		o.push('');
	}
	o.push('/* Paths of an installation, and of the built pieces relative to the project top directory. */');
	for (const [kind, list] of Object.entries(c.paths)) for (const [name, p] of Object.entries(list)) o.push(`#define HC_PATH_${upper(kind)}_${upper(name)} ${cString(p)}`);
	o.push('', `/* ${c.restore.about}. */`, `#define HC_RESTORE_DIR ${cString(c.restore.dir)}`);
	o.push(cComment(c.restore.startTimeField.why) + `#define HC_RESTORE_START_TIME_FIELD ${c.restore.startTimeField.value}`);
	for (const [name, file] of Object.entries(c.restore.files)) o.push(`#define HC_RESTORE_FILE_${upper(name)} ${cString(file)}`);
	o.push('', `/* ${c.migration.about}. */`, `#define HC_MIGRATION_DIR ${cString(c.migration.dir)}`);
	for (const [name, v] of Object.entries(c.migration.env)) o.push(`#define HC_MIGRATION_ENV_${upper(name)} ${cString(v)}`);
	o.push('', cComment(c.poolExtraThreads.why) + `#define HC_POOL_EXTRA_THREADS ${c.poolExtraThreads.value}`, '');

	const cfg = c.config;
	o.push('/* hotcache.conf: KEY=VALUE lines, then the environment (criu-plugin/lib/config.c). */');
	o.push(`#define HC_CONFIG_FILE ${cString(cfg.file)}`, `#define HC_CONFIG_FILE_VARIABLE ${cString(cfg.fileVariable)}`);
	o.push(cComment(cfg.pathBytes.why) + `#define HC_CONFIG_PATH_BYTES ${cNumber(Number(cfg.pathBytes.value))}`);
	o.push(`#define HC_CONFIG_TRUE_WORDS ${cfg.trueWords.map(cString).join(', ')}`, `#define HC_CONFIG_FALSE_WORDS ${cfg.falseWords.map(cString).join(', ')}`);
	for (const [name, text] of Object.entries(cfg.messages)) o.push(`#define HC_MSG_${upper(name)} ${cString(text)}`);
	for (const k of cfg.keys.filter((key) => key.min !== undefined)) {
		o.push(`#define HC_CONFIG_${k.field.toUpperCase()}_MIN ${k.min}`, `#define HC_CONFIG_${k.field.toUpperCase()}_MAX ${k.max}`);
	}
	for (const k of cfg.keys.filter((key) => key.type === 'enum')) {
		o.push(`#define HC_CONFIG_${k.field.toUpperCase()}_NAMES ((const char *const[]){ ${cEnum(/** @type {string} */ (k.of)).prefix}_NAMES, NULL })`);
	}
	o.push('', 'enum hc_config_type { HC_CONFIG_BOOL, HC_CONFIG_INT, HC_CONFIG_DECIMAL, HC_CONFIG_ENUM, HC_CONFIG_PATH, HC_CONFIG_COMMAND };', '');
	o.push('/* Every setting, parsed: defaults, then the file, then the environment. */', 'struct hc_config {');
	for (const k of cfg.keys) o.push(`\t${cField(k)}`);
	o.push('};', '');
	o.push('/*', ' * X(KEY, field, TYPE, default, default text, min, max, scale, choice names, expected): every key,', ' * for the table-driven parser. An enum stores the position of its choice (names end with NULL).', ' */');
	o.push('#define HC_CONFIG_KEYS(X) \\');
	cfg.keys.forEach((k, i) => {
		const [def, text] = cDefault(k);
		const names = k.type === 'enum' ? `HC_CONFIG_${k.field.toUpperCase()}_NAMES` : 'NULL';
		o.push(`\tX(${k.name}, ${k.field}, ${k.type.toUpperCase()}, ${def}, ${text}, ${k.min ?? 0}, ${k.max ?? 0}, ${k.scale ?? 1}, ${names}, ${cString(k.expected)})${i < cfg.keys.length - 1 ? ' \\' : ''}`);
	});
	o.push('', `/* ${c.refusedFs.about}. X(name, magic, why) */`, '#define HC_REFUSED_FS(X) \\');
	c.refusedFs.list.forEach((f, i) => o.push(`\tX(${cString(f.name)}, 0x${f.magic.toString(16)}ul, ${cString(f.why)})${i < c.refusedFs.list.length - 1 ? ' \\' : ''}`));
	o.push('', `/* ${c.memoryFs.about}. X(name, magic) */`, '#define HC_MEMORY_FS(X) \\');
	c.memoryFs.list.forEach((f, i) => o.push(`\tX(${cString(f.name)}, 0x${f.magic.toString(16)}ul)${i < c.memoryFs.list.length - 1 ? ' \\' : ''}`));
	o.push('', '#endif /* HOTCACHE_CONTRACT_H */', '');
	return o.join('\n');
}

// ---- TypeScript ----

/** A TypeScript literal of plain data: single-quoted strings, bare keys where they are identifiers. @param {unknown} v @returns {string} */
function ts(v) {
	if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
	if (Array.isArray(v)) return `[${v.map(ts).join(', ')}]`;
	if (typeof v === 'object' && v !== null) {
		const entries = Object.entries(v).map(([k, x]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : ts(k)}: ${ts(x)}`);
		return `{ ${entries.join(', ')} }`;
	}
	return String(v);
}
/** @param {string | undefined} why @param {string} indent */
const tsDoc = (why, indent = '') => (why ? `${indent}/** ${why}. */\n` : '');
/** @param {string} s */
const capital = (s) => s[0]?.toUpperCase() + s.slice(1);

/** @param {Key} k */
function tsType(k) {
	switch (k.type) {
		case 'bool': return 'boolean';
		case 'int':
		case 'decimal': return 'number';
		case 'enum': return /** @type {string[]} */ (k.choices).map(ts).join(' | ');
		default: return k.default === null ? 'string | null' : 'string';
	}
}

/** @param {Contract} c */
function renderTs(c) {
	const o = [`// ${BANNER}`, ''];
	o.push('/** hotcache.img: the magic, a u32 little-endian payload length, the protobuf payload. */');
	o.push(`export const IMAGE = ${ts({ file: c.image.file, magic: c.image.magic, headerBytes: c.image.magic.length + 4, pageSize: c.image.pageSize })} as const;`);
	o.push(tsDoc(c.image.version.why) + `export const FORMAT_VERSION = ${c.image.version.value};`, '');
	o.push('export const LIMITS = {');
	for (const [name, f] of Object.entries(c.image.limits)) o.push(`${tsDoc(f.why, '\t')}\t${name}: ${f.value},`);
	o.push('} as const;', '', '/** Bounds of one capture, not of the image format. */', 'export const CAPTURE_LIMITS = {');
	for (const [name, f] of Object.entries(c.captureLimits)) o.push(`${tsDoc(f.why, '\t')}\t${name}: ${f.value},`);
	o.push('} as const;', '');
	for (const [name, e] of Object.entries(c.enums)) o.push(`/** ${e.about}. */`, `export const ${upper(name)} = ${ts(e.values)} as const;`);
	const hot = c.enums.hotness;
	if (hot) o.push('', `/** ${hot.about}. */`, 'export enum Hotness {', ...Object.entries(hot.values).map(([v, n]) => `\t${capital(v)} = ${n},`), '}');
	o.push('', '/** Paths of an installation, of the built pieces relative to the project top directory, and of what an install puts beside the action script, relative to its directory. */', `export const PATHS = ${ts(c.paths)} as const;`);
	o.push('', `/** ${c.restore.about}. */`, 'export const RESTORE = {', `\tdir: ${ts(c.restore.dir)},`);
	o.push(`${tsDoc(c.restore.startTimeField.why, '\t')}\tstartTimeField: ${c.restore.startTimeField.value},`, `\tfiles: ${ts(c.restore.files)},`, '} as const;', '');
	o.push(`/** ${c.migration.about}. */`, `export const MIGRATION = { dir: ${ts(c.migration.dir)}, env: ${ts(c.migration.env)} } as const;`, '');
	o.push(tsDoc(c.poolExtraThreads.why) + `export const POOL_EXTRA_THREADS = ${c.poolExtraThreads.value};`, '');
	const cfg = c.config;
	o.push(`export type ConfigKey = ${cfg.keys.map((k) => ts(k.name)).join(' | ')};`);
	o.push('export type ConfigType = \'bool\' | \'int\' | \'decimal\' | \'enum\' | \'path\' | \'command\';');
	o.push('export type ConfigSide = \'dump\' | \'restore\' | \'both\';', '');
	o.push('/** Every setting, parsed: a decimal is scaled to an integer, an unset path is null. */', 'export interface ConfigValues {');
	for (const k of cfg.keys) o.push(`\t/** ${k.doc}. */`, `\t${k.name}: ${tsType(k)};`);
	o.push('}', '');
	o.push('export interface ConfigKeySpec {', '\tside: ConfigSide;', '\ttype: ConfigType;', '\tdefault: boolean | number | string | null;', '\tmin?: number;', '\tmax?: number;', '\tscale?: number;', '\tchoices?: readonly string[];', '\t/** What a bad value is told it should be. */', '\texpected: string;', '\tdoc: string;', '}', '');
	o.push('/** hotcache.conf: KEY=VALUE lines, then the environment (hooks/config.ts). */', 'export const CONFIG = {');
	o.push(`\tfile: ${ts(cfg.file)},`, `\tfileVariable: ${ts(cfg.fileVariable)},`);
	o.push(`${tsDoc(cfg.pathBytes.why, '\t')}\tpathBytes: ${cfg.pathBytes.value},`);
	o.push(`\ttrueWords: ${ts(cfg.trueWords)},`, `\tfalseWords: ${ts(cfg.falseWords)},`, `\t/** printf formats (%s and %d), the same text in every language. */`, `\tmessages: ${ts(cfg.messages)},`, '} as const;', '');
	o.push('export const CONFIG_KEYS: Readonly<Record<ConfigKey, ConfigKeySpec>> = {');
	for (const k of cfg.keys) {
		const spec = { side: k.side, type: k.type, default: k.default, ...(k.min !== undefined ? { min: k.min, max: k.max } : {}), ...(k.scale ? { scale: k.scale } : {}), ...(k.choices ? { choices: k.choices } : {}), expected: k.expected, doc: k.doc };
		o.push(`${tsDoc(k.why, '\t')}\t${k.name}: ${ts(spec)},`);
	}
	o.push('};', '');
	o.push(`/** ${c.refusedFs.about}. */`, 'export const REFUSED_FS = [');
	for (const f of c.refusedFs.list) o.push(`\t{ name: ${ts(f.name)}, magic: 0x${f.magic.toString(16)}, why: ${ts(f.why)} },`);
	o.push('] as const;', '');
	return o.join('\n');
}

// ---- sh ----

/** @param {string | number} v */
const sq = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
/** @param {string | undefined} why */
const shComment = (why) => (why ? `# ${why}.\n` : '');

/** The value a key holds in sh when nothing sets it. @param {Key} k */
function shDefault(k) {
	switch (k.type) {
		case 'bool': return k.default ? '1' : '0';
		case 'decimal': return String(Number(k.default) * Number(k.scale));
		default: return k.default === null ? '' : String(k.default);
	}
}

/** @param {Key} k */
function shKeyCase(k) {
	const vars = [`hc_type=${k.type}`, `hc_default=${sq(shDefault(k))}`];
	if (k.min !== undefined) vars.push(`hc_min=${k.min}`, `hc_max=${k.max}`);
	if (k.scale) vars.push(`hc_scale=${k.scale}`, `hc_decimals=${String(k.scale).length - 1}`);
	if (k.choices) vars.push(`hc_choices=${sq(k.choices.join(' '))}`);
	vars.push(`hc_expected=${sq(k.expected)}`);
	return `\t${k.name}) ${vars.join(' ')} ;;`;
}

/** @param {Contract} c */
function renderSh(c) {
	const o = [`# ${BANNER}`, '# Sourced by hooks/action-script, which it sits beside (with config.sh and restore-key.sh).', ''];
	o.push(`HC_IMAGE_FILE=${sq(c.image.file)}`);
	o.push(`# The magic as \`od -An -tu1\` prints it.`, `HC_MAGIC_OD=${sq([...Buffer.from(c.image.magic, 'ascii')].join(' '))}`);
	o.push(`HC_HEADER_BYTES=${c.image.magic.length + 4}`, shComment(c.image.limits.imageBytes?.why) + `HC_LIMIT_IMAGE_BYTES=${c.image.limits.imageBytes?.value}`, '');
	for (const [kind, list] of Object.entries(c.paths)) for (const [name, p] of Object.entries(list)) o.push(`HC_PATH_${upper(kind)}_${upper(name)}=${sq(p)}`);
	o.push('', `# ${c.restore.about}.`, `HC_RESTORE_DIR=${sq(c.restore.dir)}`, shComment(c.restore.startTimeField.why) + `HC_RESTORE_START_TIME_FIELD=${c.restore.startTimeField.value}`);
	for (const [name, file] of Object.entries(c.restore.files)) o.push(`HC_RESTORE_FILE_${upper(name)}=${sq(file)}`);
	o.push('', `# ${c.migration.about}.`, `HC_MIGRATION_DIR=${sq(c.migration.dir)}`);
	o.push('', shComment(c.poolExtraThreads.why) + `HC_POOL_EXTRA_THREADS=${c.poolExtraThreads.value}`, '');
	const cfg = c.config;
	o.push('# hotcache.conf: KEY=VALUE lines, then the environment (hooks/config.sh).', `HC_CONFIG_FILE=${sq(cfg.file)}`, `HC_CONFIG_FILE_VARIABLE=${cfg.fileVariable}`);
	o.push(shComment(cfg.pathBytes.why) + `HC_CONFIG_PATH_BYTES=${cfg.pathBytes.value}`, `HC_CONFIG_KEYS=${sq(cfg.keys.map((k) => k.name).join(' '))}`);
	for (const [name, text] of Object.entries(cfg.messages)) o.push(`HC_MSG_${upper(name)}=${sq(text)}`);
	// The one message hooks/config.sh needs as text rather than printed: without $(printf ...), no fork.
	let arg = 0;
	const lineText = String(cfg.messages.line).replace(/[\\"$`]/g, '\\$&').replace(/%[sd]/g, () => `$${++arg}`);
	o.push('', '# hc_msg_line FILE N: hc_where is the "line" message, as printf would make it.', `hc_msg_line() { hc_where="${lineText}"; }`);
	o.push('', '# hc_config_key KEY: sets hc_type, hc_default, hc_expected and, by type, hc_min, hc_max, hc_scale,', '# hc_decimals, hc_choices; false for a key that is not in the contract.', 'hc_config_key() {', '\tcase $1 in');
	for (const k of cfg.keys) o.push(shKeyCase(k));
	o.push('\t*) return 1 ;;', '\tesac', '}', '');
	o.push('# hc_config_bool WORD: hc_value=1 or 0; false for a word that is neither.', 'hc_config_bool() {', '\tcase $1 in');
	o.push(`\t${cfg.trueWords.join(' | ')}) hc_value=1 ;;`, `\t${cfg.falseWords.join(' | ')}) hc_value=0 ;;`, '\t*) return 1 ;;', '\tesac', '}', '');
	return o.join('\n');
}

/** Writes `text` to `file` unless it already holds exactly that. @param {string} file @param {string} text */
function writeIfChanged(file, text) {
	try {
		if (readFileSync(file, 'utf8') === text) return;
	} catch {
		// absent: written below
	}
	const tmp = `${file}.tmp-${process.pid}`;
	writeFileSync(tmp, text);
	renameSync(tmp, file);
}

try {
	const contract = load(source);
	mkdirSync(outDir, { recursive: true });
	writeIfChanged(path.join(outDir, 'contract.h'), renderC(contract));
	writeIfChanged(path.join(outDir, 'contract.ts'), renderTs(contract));
	writeIfChanged(path.join(shDir, 'contract.sh'), renderSh(contract));
} catch (err) {
	process.stderr.write(`generate contract: ${source}: ${err instanceof ContractError || err instanceof SyntaxError ? err.message : String(err)}\n`);
	process.exitCode = 1;
}
