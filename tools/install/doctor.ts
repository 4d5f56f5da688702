// What this host supports, for `hotcache doctor`: each finding says whether it is fine and why not.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
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

function readable(file: string): boolean {
	try {
		accessSync(file, constants.R_OK);
		return true;
	} catch {
		return false;
	}
}

/** MGLRU's switch: absent on kernels without it, "0x0000" when off. */
function mglruEnabled(): boolean {
	try {
		return Number.parseInt(readFileSync('/sys/kernel/mm/lru_gen/enabled', 'utf8').trim(), 16) !== 0;
	} catch {
		return false;
	}
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

	const moduleLoaded = existsSync('/dev/hotcache');
	add('kernel module', moduleLoaded ? 'ok' : 'warn', moduleLoaded ? '/dev/hotcache present' : '/dev/hotcache absent: captures use kpageflags or mincore');

	const kpageflags = process.getuid?.() === 0 && readable('/proc/kpageflags') && readable('/proc/self/pagemap');
	const mglru = mglruEnabled();
	const best = moduleLoaded ? 'kmod' : kpageflags ? 'kpageflags' : 'mincore';
	const exact = best === 'kmod' || (best === 'kpageflags' && !mglru);
	add('hotness backend', exact ? 'ok' : 'warn', `${best}${exact ? '' : ': cannot tell hot from warm here, every resident page counts the same'}`);
	add('lru', 'ok', mglru ? 'MGLRU (multi-gen LRU) enabled' : 'classic active/inactive LRU');

	try {
		accessSync(layout.stateDir, constants.W_OK);
		add('state directory', 'ok', layout.stateDir);
	} catch {
		add('state directory', 'warn', `${layout.stateDir} not writable or missing: hotcache install creates it`);
	}
	return findings;
}
