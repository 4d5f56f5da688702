// Host facts about Debian: which mirror apt uses, and installing missing packages as root.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The Debian archive this machine's apt uses (never a hard-coded host name). */
export function debianMirror(): string {
	const candidates: string[] = [];
	const dir = '/etc/apt/sources.list.d';
	const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => path.join(dir, f)) : [];
	for (const file of ['/etc/apt/sources.list', ...files]) {
		if (!existsSync(file)) continue;
		const text = readFileSync(file, 'utf8');
		if (file.endsWith('.sources')) {
			for (const stanza of text.split(/\n\s*\n/)) {
				const uris = /^URIs:\s*(.+)$/m.exec(stanza)?.[1];
				const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
				const enabled = !/^Enabled:\s*no/im.test(stanza);
				if (uris && enabled && !/security/.test(suites)) candidates.push(...uris.trim().split(/\s+/));
			}
		} else {
			for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)) {
				if (!/security/.test(m[2]!)) candidates.push(m[1]!);
			}
		}
	}
	const mirror = candidates.find((u) => /^https?:\/\//.test(u) && /debian\/?$/.test(u)) ?? candidates.find((u) => /^https?:\/\//.test(u));
	if (!mirror) throw new Error('no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources');
	return mirror.replace(/\/$/, '');
}

export interface HostPackage {
	/** Debian package name. */
	name: string;
	/** A file the package installs: present means installed. */
	provides: string;
}

let aptUpdated = false;

/** Installs the packages whose files are missing (root only); throws naming them otherwise. */
export function ensureHostPackages(packages: HostPackage[]): void {
	const missing = packages.filter((p) => !existsSync(p.provides)).map((p) => p.name);
	if (missing.length === 0) return;
	if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')} (install them as root)`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	if (!aptUpdated) {
		execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
		aptUpdated = true;
	}
	execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}
