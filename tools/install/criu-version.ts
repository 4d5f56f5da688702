// Which CRIU is installed: several integration choices depend on its version (research/criu.md).
import { spawnSync } from 'node:child_process';

export interface CriuVersion {
	major: number;
	minor: number;
	patch: number;
	text: string;
}

/** Parses `criu --version` ("Version: 4.1.1", possibly followed by a GitID line). */
export function parseCriuVersion(output: string): CriuVersion | null {
	const m = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
	if (!m) return null;
	return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}` };
}

/** The version of the criu on PATH, or null when there is none or it does not answer. */
export function installedCriuVersion(criu = 'criu'): CriuVersion | null {
	const r = spawnSync(criu, ['--version'], { encoding: 'utf8', timeout: 5000 });
	return r.status === 0 ? parseCriuVersion(r.stdout) : null;
}

export function atLeast(v: CriuVersion, major: number, minor: number): boolean {
	return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * CRIU 3.17 and 3.18 crash (BUG in add_rpc_notify) when a client that asks for RPC notifications (runc,
 * crun) meets an action script from a config file; 3.19 fixed it. So runc.conf gets our line only from 3.19.
 */
export function actionScriptSafeUnderRpc(v: CriuVersion): boolean {
	return atLeast(v, 3, 19);
}
