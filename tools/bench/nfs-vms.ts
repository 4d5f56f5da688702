// The benchmark's check over real NFS (issue 11): the reference workload (`reread`) moved with
// `hotcache migrate --to ssh:` between two emulated VMs that mount one NFSv4.2 export of a third
// (tools/vm/nfs-session.ts, guest-nfs.sh), per variant side by side in one boot, judged with the
// benchmark's own metrics (metrics.ts, summary.ts) on the guests' 100 ms samples. Run as root:
//   node dist/tools/bench/nfs-vms.js [--runs 3] [--file-mib 256] [--window 40] [--move-at 12]
//                                    [--pace-mbps N] [--variants none,off,freeze,precopy] [--out DIR]
//   node dist/tools/bench/nfs-vms.js --report DIR/result.json     (the tables again, from a result)
// Results: result.json and summary.md in DIR (default /var/tmp/hotcache-nfs-vms-PID), printed.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { MigrationSummary } from '../migrate/summary.js';
import { PATHS } from '../../contract/out/contract.js';
import { projectVersion } from '../project.js';
import { ensureHostPackages } from '../setup/debian.js';
import { makeBootKit, type BootKit } from '../vm/boot-kit.js';
import { ensureCriuGuestDisk, NFS_GUEST } from '../vm/criu-guest.js';
import { makeStorage } from '../hosts/storage.js';
import { killRunningCommands } from '../vm/exec.js';
import { ensureVmHostTools } from '../vm/host.js';
import { ensureKernel, KERNEL_TARGETS } from '../vm/kernels.js';
import { runNfsSession } from '../vm/nfs-session.js';
import { stageRestorePayload } from '../vm/restore-payload.js';
import { makeScratchDir } from '../vm/scratch.js';
import { buildWorkloads } from './build.js';
import { reference, runMetrics, type RunMetrics } from './metrics.js';
import { coldReadMBps, coldSecondsAfterResume, nfsObservation, type GuestRun } from './nfs-observation.js';
import { variantTable } from './report/markdown.js';
import type { RawSample } from './sampler.js';
import { FULL, type BenchSettings } from './settings.js';
import { median, spread, type Spread } from './stats.js';
import { summarize, type VariantSummary } from './summary.js';
import type { Timeline } from './timeline.js';
import { parseVariants, variant, type VariantId } from './variants.js';
import type { RunPaths } from './workload.js';
import { workload } from './workloads.js';

const MiB = 2 ** 20;
/** Where the export is mounted on both clients, and the checkout disk (the installation's source). */
const NFS_MOUNT = '/mnt/nfs';
const CHECKOUT = '/opt/hotcache';
/** Modules beyond the criu guest's: the NICs and NFS, client and server. */
const NFS_DRIVERS = ['virtio_net', 'nfsv4', 'nfsd'];
/** What the clients' checkout disk holds beyond the restore payload: the whole installation and the workloads. */
const INSTALLATION = ['tools/hotcache.js', PATHS.built.plugin, PATHS.built.capture, 'dist/private-node', 'dist/bench/bin'];
/** The boots, the mounts, the installs and each run's warm-up, clean-up and Node starts, at most. */
const SESSION_SLACK_S = 600;
const RUN_SLACK_S = 90;

export interface NfsVmsSettings {
	runs: number;
	variants: VariantId[];
	fileBytes: number;
	windowS: number;
	moveAtS: number;
	/** The workload's read rate cap (reread -r), bytes/s, or null: as fast as the guest's CPU. */
	paceBps: number | null;
}

export interface NfsRunResult {
	variant: VariantId;
	index: number;
	outcome: string;
	/** The source's cold sequential read of the file before the run (its warm-up), MB/s. */
	linkMBps: number;
	/** The file's pages left on the source and the destination by the eviction before the run. */
	coldPages: [number | null, number | null];
	askedAt: number;
	freeze: number | null;
	resume: number | null;
	timeline: Timeline;
	migration: MigrationSummary | null;
	metrics: RunMetrics;
}

export interface NfsVmsResult {
	tool: string;
	startedAt: string;
	finishedAt: string;
	host: { name: string; kernel: string; cpus: number };
	settings: NfsVmsSettings;
	settingsText: string[];
	guest: Record<string, string>;
	session: { attempts: number; retries: string[]; seconds: number };
	link: Spread | null;
	runs: NfsRunResult[];
	summaries: VariantSummary[];
}

function parseSettings(argv: string[]): NfsVmsSettings & { out: string | null; report: string | null } {
	const { values } = parseArgs({
		args: argv,
		options: {
			runs: { type: 'string', default: '3' },
			'file-mib': { type: 'string', default: '256' },
			window: { type: 'string', default: '40' },
			'move-at': { type: 'string', default: '12' },
			'pace-mbps': { type: 'string' },
			variants: { type: 'string', default: 'none,off,freeze,precopy' },
			out: { type: 'string' },
			report: { type: 'string' },
		},
	});
	const s = {
		runs: Number(values.runs),
		variants: parseVariants(values.variants),
		fileBytes: Number(values['file-mib']) * MiB,
		windowS: Number(values.window),
		moveAtS: Number(values['move-at']),
		paceBps: values['pace-mbps'] === undefined ? null : Number(values['pace-mbps']) * 1e6,
		out: values.out ?? null,
		report: values.report ?? null,
	};
	if (!Number.isInteger(s.runs) || s.runs < 1) throw new Error('--runs: a whole number of at least 1');
	if (!Number.isInteger(s.fileBytes / MiB) || s.fileBytes < MiB) throw new Error('--file-mib: a whole number of MiB');
	if (!(s.windowS > 0) || !(s.moveAtS > 0) || s.moveAtS >= s.windowS) throw new Error('--move-at must fall inside --window');
	if (s.paceBps !== null && !(Number.isInteger(s.paceBps) && s.paceBps > 0)) throw new Error('--pace-mbps: a positive number of MB/s');
	for (const v of s.variants) {
		// The guest passes the variant as --warm: only those moved by hotcache migrate alone, or never.
		if (variant(v).baseline !== null) throw new Error(`variant ${v}: its outside prefetcher is not run in the NFS VMs`);
	}
	return s;
}

/** The variants interleaved run by run, as the guest runs them ("none" is never moved). */
export function guestPlan(s: NfsVmsSettings): string {
	const plan: string[] = [];
	for (let i = 0; i < s.runs; i++) for (const v of s.variants) plan.push(variant(v).warm ?? 'none');
	return plan.join(' ');
}

/** The reread workload as the guests see it: its settings for workloads.ts, and its paths. */
function rereadIn(s: NfsVmsSettings): { settings: BenchSettings; paths: RunPaths } {
	const settings: BenchSettings = { ...FULL, workloads: ['reread'], variants: s.variants, runs: s.runs, durationS: s.windowS, migrateAtS: s.moveAtS, fileBytes: s.fileBytes };
	const paths: RunPaths = { data: `${NFS_MOUNT}/reread`, run: '/run/hcbench', progress: '/run/hcbench/progress', bin: `${CHECKOUT}/dist/bench/bin` };
	return { settings, paths };
}

/** The guest's config for the plan: the workload's command, its progress file's size, the times. */
export function guestConfig(s: NfsVmsSettings): { common: Record<string, string>; plan: Record<string, string> } {
	const { settings, paths } = rereadIn(s);
	const w = workload('reread');
	return {
		common: { FILE: path.relative(NFS_MOUNT, w.dataEntries(paths.data)[0]!) },
		plan: { PLAN: guestPlan(s), WORKLOAD: w.command(paths, settings) + (s.paceBps ? ` -r ${s.paceBps}` : ''), UNITS: String(w.units(settings)), WINDOW_S: String(s.windowS), MOVE_AT_S: String(s.moveAtS) },
	};
}

function readJson<T>(file: string): T | null {
	try {
		return JSON.parse(readFileSync(file, 'utf8')) as T;
	} catch {
		return null;
	}
}

/** Every run src wrote into out/, judged against the runs without migration. */
export function judgeNfsRuns(out: string, s: NfsVmsSettings): { runs: NfsRunResult[]; summaries: VariantSummary[] } {
	const dirs = readdirSync(out).filter((d) => /^run-\d+$/.test(d)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
	const seen = new Map<VariantId, number>();
	const observed = dirs.flatMap((d) => {
		const run = readJson<GuestRun>(path.join(out, d, 'run.json'));
		const src = readJson<RawSample[]>(path.join(out, d, 'src.json'));
		if (!run || !src) return [];
		const id = s.variants.find((v) => (variant(v).warm ?? 'none') === run.variant)!;
		const index = seen.get(id) ?? 0;
		seen.set(id, index + 1);
		const migration = readJson<MigrationSummary>(path.join(out, d, 'migrate.json'));
		const obs = nfsObservation(run, src, readJson<RawSample[]>(path.join(out, d, 'dst.json')) ?? [], migration, s.windowS);
		return [{ id, index, run, migration, obs }];
	});
	const none = observed.filter((o) => o.id === 'none').map((o) => runMetrics(o.obs, null).amount);
	const ref = reference(none, s.windowS);
	const runs = observed.map(({ id, index, run, migration, obs }) => ({
		variant: id,
		index,
		outcome: run.outcome,
		linkMBps: coldReadMBps(run, s.fileBytes),
		coldPages: run.coldPages,
		askedAt: obs.askedAt,
		freeze: obs.freeze,
		resume: obs.resume,
		timeline: obs.timeline,
		migration,
		metrics: runMetrics(obs, ref),
	}));
	// A run whose process did not move is not a migration of its variant: judged apart, not summarised.
	const measured = runs.filter((r) => r.variant === 'none' || r.outcome === 'moved').map((r) => ({ workload: 'reread' as const, variant: r.variant, measure: 'bytes' as const, metrics: r.metrics }));
	return { runs, summaries: summarize(measured, ['reread'], s.variants) };
}

/** The NFS mount's options that matter here, from its /proc/mounts line. */
function mountOptions(line: string | undefined): string {
	const opts = line?.split(' ')[3]?.split(',') ?? [];
	return opts.filter((o) => /^(vers|rsize|proto|actimeo|acregmax)=/.test(o)).join(',') || 'mount unknown';
}

function settingsText(s: NfsVmsSettings, link: Spread | null, guest: Record<string, string>): string[] {
	const mbps = link ? `${link.median.toFixed(1)} MB/s median (${link.min.toFixed(1)}-${link.max.toFixed(1)}) over ${link.n} runs` : 'not measured';
	return [
		`NFS VMs: srv (NFSv4.2 server, max_block_size 1 MiB, the file in its cache), src and dst (clients: ${mountOptions(guest.mount)}); QEMU TCG, 2 vCPUs each, UDP socket links on one hub`,
		`guests: Linux ${guest.kernel ?? '?'}, criu ${guest.criu ?? '?'}, Node ${guest.node ?? '?'}; hotcache installed with \`hotcache install\`, moved with \`hotcache migrate --to ssh:192.0.2.3\``,
		`link: the source's cold sequential read of the file before each run (evicted on the client, in the server's cache): ${mbps}`,
		`workload: reread, ${s.fileBytes / MiB} MiB file on the NFS export, ${s.paceBps ? `paced at ${s.paceBps / 1e6} MB/s (reread -r)` : 'unpaced'}; window ${s.windowS} s, migration asked at ${s.moveAtS} s; runs per variant: ${s.runs}; variants: ${s.variants.join(', ')} (interleaved, one boot)`,
		'before each run: the file evicted on both clients (fadvise DONTNEED; the pages left, by fincore, in result.json), then read once on the source (source warm, destination cold); progress sampled every 100 ms in each guest, the destination\'s samples put on the source\'s clock by hotcache migrate\'s offset',
	];
}

export function nfsMarkdown(r: NfsVmsResult): string {
	const lines = [`# hotcache bench over NFS VMs: ${r.startedAt}`, '', '```', ...r.settingsText, `host: ${r.host.name}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs; ${r.session.seconds.toFixed(0)} s for the boot and the runs`, '```', ''];
	lines.push(`data read in the ${r.settings.windowS} s window, and from the migration's request (at ${r.settings.moveAtS} s) to its end; median (mean, sd) over the runs`, '');
	lines.push(...variantTable(r.summaries, 'data read'), '');
	lines.push('Per run (in plan order): cold seconds after the resume (0.5 s steps in the 30 s after it whose rate is below half the run\'s own before the request), the downtime, and the plan resident on the destination at the resume:', '');
	lines.push('| variant | cold s after the resume, per run | median | downtime, s | resident at the resume |', '|---|---|---|---|---|');
	for (const v of r.settings.variants.filter((x) => x !== 'none')) {
		const runs = r.runs.filter((x) => x.variant === v);
		const cold = runs.map((x) => coldSecondsAfterResume(x.timeline, x.askedAt, x.resume, r.settings.windowS));
		const known = cold.filter((c): c is number => c !== null);
		const resident = runs.map((x) => (x.migration?.plan.bytes ? `${Math.round((100 * (x.migration.plan.residentAtResume ?? 0)) / x.migration.plan.bytes)}%` : '-'));
		lines.push(
			`| ${variant(v).label} | ${cold.map((c) => (c === null ? 'after the window' : c.toFixed(1))).join(', ')} | ${known.length ? median(known).toFixed(1) : '-'} | ` +
				`${runs.map((x) => x.metrics.downtime?.toFixed(2) ?? '-').join(', ')} | ${resident.join(', ')} |`,
		);
	}
	lines.push('');
	const notMoved = r.runs.filter((x) => x.variant !== 'none' && x.outcome !== 'moved');
	if (notMoved.length) lines.push('Not moved (left out of the table):', '', ...notMoved.map((x) => `- ${variant(x.variant).label}, run ${x.index + 1}: ${x.outcome || 'no summary'}${x.migration?.error ? `: ${x.migration.error}` : ''}`), '');
	return lines.join('\n');
}

async function prepare(scratch: string, s: NfsVmsSettings, log: (line: string) => void): Promise<{ kit: BootKit; guestDisk: string; exportDisk: string; checkoutDisk: string }> {
	ensureVmHostTools();
	ensureHostPackages([{ name: 'openssh-client', provides: '/usr/bin/ssh-keygen' }]); // the session's key
	buildWorkloads();
	const [tree, guestDisk] = await Promise.all([ensureKernel(KERNEL_TARGETS[1]!), ensureCriuGuestDisk(NFS_GUEST)]);
	log(`nfs-vms: kernel ${tree.release}, guest image ${guestDisk}`);
	const kit = await makeBootKit(tree, scratch, null, NFS_DRIVERS);
	const { settings, paths } = rereadIn(s);
	const exportDisk = path.join(scratch, 'export.img');
	await makeStorage(exportDisk, async (dir) => {
		const data = path.join(dir, path.relative(NFS_MOUNT, paths.data));
		mkdirSync(data, { recursive: true });
		await workload('reread').fill(data, settings);
	});
	const checkoutDisk = path.join(scratch, 'checkout.img');
	await makeStorage(checkoutDisk, (dir) => stageRestorePayload(dir, INSTALLATION));
	return { kit, guestDisk, exportDisk, checkoutDisk };
}

export async function runNfsVms(s: NfsVmsSettings, log: (line: string) => void): Promise<NfsVmsResult> {
	const startedAt = new Date().toISOString();
	const scratch = makeScratchDir();
	const interrupted = (): void => {
		// mke2fs or debugfs on the scratch disks, when the Ctrl-C reached this process alone; QEMU is
		// killed by its pid at exit (vm/qemu.ts).
		killRunningCommands();
		rmSync(scratch, { recursive: true, force: true });
		process.exit(130);
	};
	process.once('SIGINT', interrupted);
	process.once('SIGTERM', interrupted);
	try {
		const pieces = await prepare(scratch, s, log);
		const t0 = Date.now();
		const plan = s.runs * s.variants.length;
		let done = 0;
		const session = await runNfsSession(
			{
				...pieces,
				...guestConfig(s),
				scratch,
				timeoutMs: (SESSION_SLACK_S + plan * (s.windowS + RUN_SLACK_S)) * 1000,
				onLine: (line) => {
					if (/ src done /.test(line)) done++;
					log(`nfs-vms: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${done}/${plan} runs: ${line.slice('HOTCACHE-NFS '.length)}`);
				},
			},
			log,
		);
		if (!session.out) throw new Error(`the source VM wrote no results; its console ends:\n${session.consoles.src.slice(-3000)}`);
		const guest = Object.fromEntries(
			(existsSync(path.join(session.out, 'guest.txt')) ? readFileSync(path.join(session.out, 'guest.txt'), 'utf8') : '')
				.split('\n')
				.filter((l) => l.includes('='))
				.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
		);
		const judged = judgeNfsRuns(session.out, s);
		const link = judged.runs.length ? spread(judged.runs.map((r) => r.linkMBps)) : null;
		if (!session.finished) log(`nfs-vms: the plan did not finish (${judged.runs.length} of ${plan} runs); src's console ends:\n${session.consoles.src.slice(-3000)}`);
		return {
			tool: `hotcache nfs-vms ${projectVersion()}`,
			startedAt,
			finishedAt: new Date().toISOString(),
			host: { name: os.hostname(), kernel: os.release(), cpus: os.cpus().length },
			settings: s,
			settingsText: settingsText(s, link, guest),
			guest,
			session: { attempts: session.attempts, retries: session.retries, seconds: session.ms / 1000 },
			link,
			...judged,
		};
	} finally {
		process.off('SIGINT', interrupted);
		process.off('SIGTERM', interrupted);
		rmSync(scratch, { recursive: true, force: true });
	}
}

async function main(): Promise<number> {
	if (process.getuid?.() !== 0) {
		console.error('nfs-vms: needs root (debootstrap, QEMU disks)');
		return 1;
	}
	const { out: outOpt, report, ...s } = parseSettings(process.argv.slice(2));
	if (report) {
		// The table again from a result.json (its runs' timelines are all there).
		console.log(nfsMarkdown(JSON.parse(readFileSync(report, 'utf8')) as NfsVmsResult));
		return 0;
	}
	const out = outOpt ?? `/var/tmp/hotcache-nfs-vms-${process.pid}`;
	const r = await runNfsVms(s, (line) => console.error(line));
	mkdirSync(out, { recursive: true });
	writeFileSync(path.join(out, 'result.json'), JSON.stringify(r, null, '\t'));
	const md = nfsMarkdown(r);
	writeFileSync(path.join(out, 'summary.md'), md);
	console.log(md);
	console.log(`results: ${out}`);
	return r.summaries.length ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
