// Restore-side configuration: /etc/criu/hotcache.conf lines, overridden by the environment.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DEFAULT_STATE_DIR, DEFAULT_WORKERS, loadConfig, parseConfigFile } from '../hooks/config.js';
import { diskTempDir } from './prefetch-support.js';

const dir = diskTempDir('config');
const file = path.join(dir, 'hotcache.conf');

test('defaults when there is no file and no variable', () => {
	assert.equal(loadConfig({}, path.join(dir, 'absent.conf')), { stateDir: DEFAULT_STATE_DIR, workers: DEFAULT_WORKERS, bandwidth: 0, activate: true, record: null });
});

test('the file sets values, the environment wins, nothing in it is executed', () => {
	writeFileSync(file, '# comment\nHOTCACHE_WORKERS = 3\nHOTCACHE_BANDWIDTH=117.5 # GbE\nHOTCACHE_ACTIVATE=off\nHOTCACHE_STATE_DIR=$(touch /tmp/pwned)\n\n');
	const c = loadConfig({ HOTCACHE_WORKERS: '5' }, file);
	assert.is(c.workers, 5);
	assert.is(c.bandwidth, 117_500_000);
	assert.is(c.activate, false);
	assert.is(c.stateDir, '$(touch /tmp/pwned)', 'taken literally');
	assert.is(loadConfig({ HOTCACHE_CONFIG: file }).workers, 3, 'HOTCACHE_CONFIG names the file');
	assert.is(loadConfig({ HOTCACHE_WORKERS: '' }, file).workers, 3, 'an empty variable counts as unset');
});

test('bad values and lines are refused with the name at fault', () => {
	assert.throws(() => loadConfig({ HOTCACHE_WORKERS: '0' }, file), (e: Error) => e instanceof ConfigError && /HOTCACHE_WORKERS=0: expected an integer from 1 to 64/.test(e.message));
	assert.throws(() => loadConfig({ HOTCACHE_ACTIVATE: 'maybe' }, file), /HOTCACHE_ACTIVATE=maybe: expected 1 or 0/);
	assert.throws(() => loadConfig({ HOTCACHE_BANDWIDTH: '-1' }, file), /HOTCACHE_BANDWIDTH=-1/);
	assert.throws(() => parseConfigFile('just words'), /is not KEY=VALUE/);
});

test('the action script\'s own keys never stop the prefetcher; an empty value is unset', () => {
	writeFileSync(file, 'HOTCACHE_STRICT=maybe\nHOTCACHE_DISABLE=sometimes\nHOTCACHE_WORKERS=\nHOTCACHE_ACTIVATE=\n');
	const c = loadConfig({ HOTCACHE_BANDWIDTH: '' }, file);
	assert.is(c.workers, DEFAULT_WORKERS);
	assert.is(c.activate, true);
	assert.is(c.bandwidth, 0);
});

test.run();
