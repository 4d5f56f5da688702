// What this host supports, for `hotcache doctor`: each finding says whether it is fine and why not.
// Which backend and LRU mode a capture would use is the capture library's answer (hotcache-capture
// --probe), not a guess made here.
import { accessSync, constants, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { builtFile } from '../project.js';
import { installedCriuVersion, actionScriptSafeUnderRpc, atLeast } from './criu-version.js';
import { hasOption } from './criu-config.js';
import { actionScriptOption, installLayout } from './layout.js';
import { checkPrefetcher } from '../bundle/self-contained.js';

export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
	check: string;
	status: Status;
	detail: string;
}

/** What `hotcache-capture --probe` says a capture would use here. */
interface Probe {
	backend: 'kmod' | 'kpageflags' | 'mincore';
	lru: 'classic' | 'mglru' | 'unspecified';
	hotWarmExact: boolean;
}

/** The capture library's answer, or why there is none. */
function probeCapture(): Probe | string {
	const r = spawnSync(builtFile('capture'), ['--probe'], { encoding: 'utf8', timeout: 10_000 });
	if (r.error) return `${builtFile('capture')} does not run (npm ci builds it): ${r.error.message}`;
	try {
		const probe = JSON.parse(r.stdout) as Probe | { backend: null };
		if (probe.backend !== null) return probe;
	} catch {
		// told below
	}
	return `no page-cache backend is usable here: ${r.stderr.trim() || r.stdout.trim()}`;
}

export function doctor(root = '/'): Finding[] {
	const layout = installLayout(root);
	const findings: Finding[] = [];
	const add = (check: string, status: Status, detail: string) => findings.push({ check, status, detail });

	const criu = installedCriuVersion();
	if (!criu) add('criu', 'fail', 'criu is not on PATH or does not answer --version');
	else if (!atLeast(criu, 3, 17)) add('criu', 'fail', `CRIU ${criu.text} is older than 3.17`);
	else add('criu', 'ok', `CRIU ${criu.text}`);
	if (criu && process.getuid?.() === 0) {
		// A CRIU too old for the running kernel fails here (bookworm's 3.17 on 6.18: vDSO bounds).
		const check = spawnSync('criu', ['check'], { encoding: 'utf8', timeout: 20_000 });
		const lastError = (check.stdout + check.stderr).split('\n').filter((l) => l.startsWith('Error')).pop();
		if (check.status === 0) add('criu check', 'ok', 'criu check passed');
		else add('criu check', 'fail', lastError ?? `criu check exited with ${check.status ?? check.signal}`);
	}

	add('plugin', existsSync(layout.plugin) ? 'ok' : 'fail', existsSync(layout.plugin) ? layout.plugin : `${layout.plugin} missing: run hotcache install`);

	const configured = hasOption(layout.criuConfig, actionScriptOption());
	if (configured && criu && !actionScriptSafeUnderRpc(criu)) {
		add('action script', 'fail', `${layout.criuConfig} names an action script, which makes CRIU ${criu.text} crash under runc and crun restores`);
	} else if (configured) {
		add('action script', existsSync(layout.actionScript) ? 'ok' : 'fail', `${layout.criuConfig}: ${actionScriptOption()}`);
	} else {
		const viaPlugin = existsSync(layout.plugin) && existsSync(layout.actionScript);
		add('action script', viaPlugin ? 'ok' : 'warn', viaPlugin ? `not in ${layout.criuConfig}: the plugin runs ${layout.actionScript} at init(RESTORE)` : `${layout.actionScript} missing: restores prefetch nothing`);
	}

	const prefetcher = checkPrefetcher(path.dirname(layout.actionScript));
	add('prefetcher', prefetcher.status, prefetcher.detail);

	const probe = probeCapture();
	if (typeof probe === 'string') {
		add('hotness backend', 'fail', probe);
	} else {
		// CRIU runs the capture as root: another user's probe sees less (no page frame numbers, no kpageflags).
		const asUser = process.getuid?.() === 0 ? '' : ' (as this user; CRIU captures as root)';
		add('kernel module', probe.backend === 'kmod' ? 'ok' : 'warn', probe.backend === 'kmod' ? '/dev/hotcache in use' : `/dev/hotcache absent or unusable: captures use ${probe.backend}`);
		add('hotness backend', probe.hotWarmExact ? 'ok' : 'warn', `${probe.backend}${probe.hotWarmExact ? '' : ': cannot tell hot from warm here'}${asUser}`);
		add('lru', 'ok', probe.lru === 'mglru' ? 'MGLRU (multi-gen LRU) enabled' : probe.lru === 'classic' ? 'classic active/inactive LRU' : 'unknown');
	}

	try {
		accessSync(layout.stateDir, constants.W_OK);
		add('state directory', 'ok', layout.stateDir);
	} catch {
		add('state directory', 'warn', `${layout.stateDir} not writable or missing: hotcache install creates it`);
	}
	return findings;
}
