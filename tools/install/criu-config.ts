// Adds or removes one option line in a CRIU config file (/etc/criu/default.conf, runc.conf), idempotently.
// CRIU reads one option per line, without the leading "--" (criu/config.c).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { replaceAtomically } from './replace.js';

const MARK = '# criu-hotcache';

function lines(file: string): string[] {
	return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1) : [];
}

function writeConfig(file: string, configLines: string[]): void {
	const text = configLines.length ? configLines.join('\n') + '\n' : '';
	replaceAtomically(file, (tmp) => writeFileSync(tmp, text, { mode: 0o644 }));
}

/** Ensures `option` is in `file`, marked as ours. Returns false when it was already there. */
export function addOption(file: string, option: string): boolean {
	if (hasOption(file, option)) return false;
	writeConfig(file, [...lines(file), `${option} ${MARK}`]);
	return true;
}

/** Removes the lines we added (and only those). Returns false when there were none. */
export function removeOurOptions(file: string): boolean {
	const current = lines(file);
	const kept = current.filter((l) => !l.endsWith(MARK));
	if (kept.length === current.length) return false;
	writeConfig(file, kept);
	return true;
}

/** True when a line of ours (or the same option written by hand) is present. */
export function hasOption(file: string, option: string): boolean {
	return lines(file).some((l) => l.replace(MARK, '').trim() === option);
}
