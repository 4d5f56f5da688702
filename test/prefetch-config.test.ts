// The prefetcher's settings: /etc/criu/hotcache.conf lines, overridden by the environment. The rules
// themselves are held to C's and sh's by config-parity.test.ts; here, what the prefetcher makes of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS } from '../contract/out/contract.js';
import { ConfigError, loadConfig, parseBandwidth } from '../hooks/config.js';
import { scratchDir } from './support.js';

const dir = scratchDir('config').dir;
const file = path.join(dir, 'hotcache.conf');

function load(env: NodeJS.ProcessEnv): { config: ReturnType<typeof loadConfig>; warnings: string[] } {
	const warnings: string[] = [];
	return { config: loadConfig(env, (w) => warnings.push(w)), warnings };
}

test('defaults when there is no file and no variable', () => {
	const { config, warnings } = load({ HOTCACHE_CONFIG: path.join(dir, 'absent.conf') });
	assert.equal(config, { stateDir: CONFIG_KEYS.HOTCACHE_STATE_DIR.default, workers: CONFIG_KEYS.HOTCACHE_WORKERS.default, bandwidth: 0, activate: true, record: null, iops: 0, fuse: true, stallSeconds: 5, recordMaxBytes: 16e6 });
	assert.equal(warnings, []);
});

test('the file sets values, the environment wins, nothing in it is executed', () => {
	writeFileSync(file, '# comment\nHOTCACHE_WORKERS = 3\nHOTCACHE_BANDWIDTH=117.5 # GbE\nHOTCACHE_ACTIVATE=off\nHOTCACHE_STATE_DIR=/x/$(touch /tmp/pwned)\n\n');
	const { config } = load({ HOTCACHE_CONFIG: file, HOTCACHE_WORKERS: '5' });
	assert.is(config.workers, 5);
	assert.is(config.bandwidth, 117_500_000, 'MB/s, as bytes per second');
	assert.is(config.activate, false);
	assert.is(config.stateDir, '/x/$(touch /tmp/pwned)', 'taken literally');
	assert.is(load({ HOTCACHE_CONFIG: file, HOTCACHE_WORKERS: '' }).config.workers, 3, 'an empty variable counts as unset');
});

test('a bad line or value is a warning and is ignored: the prefetcher still runs with the rest', () => {
	writeFileSync(file, 'just words\nHOTCACHE_WORKERS=0\nHOTCACHE_WORKERS=6\nHOTCACHE_ACTIVATE=maybe\n');
	const { config, warnings } = load({ HOTCACHE_CONFIG: file, HOTCACHE_BANDWIDTH: '-1' });
	assert.is(config.workers, 6);
	assert.is(config.activate, true);
	assert.is(config.bandwidth, 0);
	assert.equal(warnings, [
		`${file} line 1: not KEY=VALUE, ignored`,
		`${file} line 2: HOTCACHE_WORKERS is not an integer from 1 to 64, ignored`,
		`${file} line 4: HOTCACHE_ACTIVATE is not 1 or 0 (also yes/no, true/false, on/off), ignored`,
		'environment: HOTCACHE_BANDWIDTH is not a number from 0 to 1000000 with at most 6 decimals, ignored',
	]);
});

test('the engine\'s keys: request cap, FUSE, stall timeout (seconds, as milliseconds inside), record cap (MB)', () => {
	const { config, warnings } = load({ HOTCACHE_CONFIG: path.join(dir, 'absent.conf'), HOTCACHE_IOPS: '3000', HOTCACHE_FUSE: 'off', HOTCACHE_STALL_TIMEOUT: '1.5', HOTCACHE_RECORD_MAX: '2' });
	assert.equal([config.iops, config.fuse, config.stallSeconds, config.recordMaxBytes], [3000, false, 1.5, 2e6]);
	assert.equal(warnings, []);
	const bad = load({ HOTCACHE_CONFIG: path.join(dir, 'absent.conf'), HOTCACHE_STALL_TIMEOUT: '0.5', HOTCACHE_RECORD_MAX: '0' });
	assert.equal([bad.config.stallSeconds, bad.config.recordMaxBytes], [5, 16e6], 'out of bounds: the defaults');
	assert.equal(bad.warnings, [
		'environment: HOTCACHE_STALL_TIMEOUT is not a number from 1 to 3600 with at most 3 decimals, ignored',
		'environment: HOTCACHE_RECORD_MAX is not an integer from 1 to 100000, ignored',
	]);
});

test('--bandwidth on a command line is an error, with what was expected', () => {
	assert.is(parseBandwidth('2.5', '--bandwidth'), 2_500_000);
	assert.throws(() => parseBandwidth('fast', '--bandwidth'), (e: Error) => e instanceof ConfigError && /--bandwidth=fast: expected a number from 0 to 1000000/.test(e.message));
});

test.run();
