// Each side's directory for one migration: $HOTCACHE_STATE_DIR/migrations/<id>/ (the source's images,
// the destination's images, record, status and prefetcher.pid). Written as root, so the state
// directory and migrations/ must be ours and writable by us only, as the action script requires of
// restores/ (hooks/README.md). The newest KEEP are kept, and never one whose owner still runs.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from '../process-alive.js';
import { MIGRATION } from '../../contract/out/contract.js';

const KEEP = 16;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The file naming the process that owns a migration's directory. */
const OWNER = 'owner';

export class MigrationDirError extends Error {
	override name = 'MigrationDirError';
}

/** A new migration's id: time first, so ids sort by age. */
export function newMigrationId(): string {
	return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function checkMigrationId(id: string): string {
	if (!ID.test(id)) throw new MigrationDirError(`${JSON.stringify(id.slice(0, 80))} is not a migration id`);
	return id;
}

/** Creates `dir` (0700) when missing; refuses it unless it is a directory of ours no one else can write. */
function trustedDir(dir: string): void {
	try {
		mkdirSync(dir, { mode: 0o700 });
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
	}
	const st = lstatSync(dir);
	if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
		throw new MigrationDirError(`refusing ${dir}: it must be a directory (not a symlink) of uid ${process.getuid?.()} that no other user can write`);
	}
}

function prune(migrations: string, current: string): void {
	const entries = readdirSync(migrations, { withFileTypes: true })
		.filter((e) => e.isDirectory() && ID.test(e.name) && e.name !== current)
		.map((e) => ({ name: e.name, mtime: statSync(path.join(migrations, e.name)).mtimeMs }))
		.sort((a, b) => b.mtime - a.mtime);
	for (const e of entries.slice(KEEP - 1)) {
		const dir = path.join(migrations, e.name);
		let owner = NaN;
		try {
			owner = Number(readFileSync(path.join(dir, OWNER), 'utf8'));
		} catch {
			// No owner file: a directory whose maker died at once.
		}
		if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) continue;
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Makes $stateDir/migrations/<id>/ for this process, removing old ones. */
export function makeMigrationDir(stateDir: string, id: string): string {
	trustedDir(stateDir);
	const migrations = path.join(stateDir, MIGRATION.dir);
	trustedDir(migrations);
	const dir = path.join(migrations, checkMigrationId(id));
	mkdirSync(dir, { mode: 0o700 });
	writeFileSync(path.join(dir, OWNER), String(process.pid), { flag: 'wx', mode: 0o600 });
	prune(migrations, id);
	return dir;
}
