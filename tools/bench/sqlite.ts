// The SQLite workload's pieces: the database, the query loop fed to sqlite3's shell, and the time
// stamps the shell prints, one per query, from SQLite's own clock.
import { runInRootfs } from '../testenv/run.js';
import { benchRootfs } from './rootfs.js';

/** Bytes a row takes in the table, payload and b-tree overhead (measured: 147,492 rows made 64.2 MiB). */
const ROW_BYTES = 455;
const PAYLOAD = 400;
/** Statements in the query script before it reads itself again (the shell nests .read 25 deep). */
const STATEMENTS = 20000;

function rowsFor(bytes: number): number {
	return Math.max(1000, Math.floor(bytes / ROW_BYTES));
}

/** Makes the database with trixie's sqlite3 in the bench root file system (the host may have none). */
async function create(db: string, bytes: number): Promise<void> {
	if (!/^\/[\w./-]+$/.test(db)) throw new Error(`database path ${JSON.stringify(db)} must be absolute and plain`);
	const rows = rowsFor(bytes);
	const dir = db.slice(0, db.lastIndexOf('/'));
	const sql =
		'PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; ' +
		'CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB); ' +
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${rows}) INSERT INTO t SELECT i, randomblob(${PAYLOAD}) FROM c;`;
	const r = await runInRootfs(await benchRootfs(['sqlite']), `sqlite3 ${db} "${sql}" && sync`, { binds: [dir], timeoutMs: 600_000 });
	if (r.code !== 0) throw new Error(`creating the SQLite database failed (exit ${r.code}): ${r.stderr}`);
}

const LOOKUPS = 100;

/**
 * The query script: STATEMENTS queries of LOOKUPS random primary keys each, 90% of them in the first
 * quarter of the rows, each printing SQLite's own time (ms since the epoch); then it reads itself
 * again, so the loop outlasts any run (25 x 20,000 queries).
 */
function queries(self: string, rows: number): string {
	const hot = Math.max(1, Math.floor(rows / 4));
	const key = `CASE WHEN abs(random()) % 10 < 9 THEN abs(random()) % ${hot} ELSE abs(random()) % ${rows} END + 1`;
	const statement = `SELECT (julianday('now') - 2440587.5) * 86400000.0, count(*) FROM t WHERE id IN (SELECT ${key} FROM generate_series(1, ${LOOKUPS}));\n`;
	return statement.repeat(STATEMENTS) + `.read ${self}\n`;
}

/** The time stamps (ms since the epoch) of the queries in the shell's output. */
function stamps(output: string): number[] {
	const out: number[] = [];
	for (const line of output.split('\n')) {
		const ms = Number(line.slice(0, line.indexOf('|')));
		if (line.includes('|') && Number.isFinite(ms) && ms > 0) out.push(ms);
	}
	return out;
}

export const sqlite = { DB: 'db.sqlite', QUERIES: 'queries.sql', OUTPUT: 'sqlite.out', LOOKUPS, rowsFor, create, queries, stamps };
