// The pieces of `hotcache migrate` that need no CRIU: frames, message checks, the channel, plans as
// page sets, destinations, the clock offset, the precopy policy and its capture's command line, the
// record's totals, the images' stream, the plugin's notice and the pid namespace.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { decodeImage, Hotness, type HotcacheImage } from '../proto/image.js';
import { Channel, ChannelClosed } from '../tools/migrate/channel.js';
import { estimateOffset } from '../tools/migrate/clock.js';
import { CaptureNotice, parseNotice } from '../tools/migrate/capture-notice.js';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from '../tools/migrate/framing.js';
import { ImageWriter, ImagesError, linkPace, sendImages } from '../tools/migrate/images.js';
import { pageCount, plannedPages, subtractPages, subtractRanges } from '../tools/migrate/plan-pages.js';
import { eventsUi, terminalUi } from '../tools/migrate/progress.js';
import { parseEvent } from '../tools/bench/migration.js';
import { MAX_TIMEOUT_S, MIN_TIMEOUT_S, precopyTimeoutS, workingSetMoved } from '../tools/migrate/precopy-policy.js';
import { captureArgs } from '../tools/migrate/precopy.js';
import { pidNamespaceId, waitPidFree } from '../tools/migrate/pid-namespace.js';
import { parseFromAgent, parseToAgent, PROTOCOL_VERSION, ProtocolError, type FromAgent, type ToAgent } from '../tools/migrate/protocol.js';
import { warmTotals } from '../tools/migrate/record-totals.js';
import { Warmer } from '../tools/migrate/warm.js';
import { agentCommand, DestinationError, parseDestination } from '../tools/migrate/transport.js';
import { projectRoot } from '../tools/project.js';
import { shellQuote } from '../tools/shell-quote.js';
import { evict, hot, image, imageFile, residentOnly, runCaptureTool, scratchDir, warm, writeFile } from './support.js';

const parts = suite('migrate parts');
const base = scratchDir('migrate-parts').dir;

parts('frames come out whole whatever the chunking, and a frame announcing too much is refused before it is buffered', () => {
	const messages = [{ type: 'ping', time: 1.5 }, { type: 'plan', seq: 3, final: true, image: new Uint8Array(randomBytes(100_000)) }, { type: 'restore' }];
	const stream = Buffer.concat(messages.map(encodeFrame));
	for (const size of [1, 7, 4096, stream.length]) {
		const decoder = new FrameDecoder();
		const out: unknown[] = [];
		for (let i = 0; i < stream.length; i += size) out.push(...decoder.push(stream.subarray(i, i + size)));
		assert.equal(out.length, 3, `chunks of ${size}`);
		assert.ok(Buffer.from((out[1] as { image: Uint8Array }).image).equals(messages[1]!.image as Uint8Array));
		assert.equal(out[2], { type: 'restore' });
		assert.is(decoder.pending, 0);
	}
	const huge = Buffer.alloc(4);
	huge.writeUInt32BE(MAX_FRAME_BYTES + 1);
	assert.throws(() => new FrameDecoder().push(huge), (e: unknown) => e instanceof FrameError && /more than/.test((e as Error).message));
	const garbage = Buffer.from([0, 0, 0, 2, 0x92, 0x01]); // an array of two holding one element
	assert.throws(() => new FrameDecoder().push(garbage), (e: unknown) => e instanceof FrameError);
});

parts('messages are checked field by field, both ways', () => {
	assert.equal(parseToAgent({ type: 'abort', reason: 'x' }), { type: 'abort', reason: 'x' });
	assert.throws(() => parseToAgent({ type: 'shutdown' }), (e: unknown) => e instanceof ProtocolError);
	assert.throws(() => parseToAgent({ type: 'plan', seq: '1', final: true, image: new Uint8Array() }), /seq/);
	assert.throws(() => parseToAgent({ type: 'hello', protocol: PROTOCOL_VERSION, migration: 'm', warm: 'lukewarm', pid: 1, host: 'h', time: 0 }), /warm mode/);
	assert.throws(() => parseToAgent([1, 2]), (e: unknown) => e instanceof ProtocolError);
	assert.throws(() => parseToAgent({ type: 'note', text: 'x'.repeat(70_000) }), (e: unknown) => e instanceof ProtocolError);
	assert.ok(parseFromAgent({ type: 'restored', ok: false, reason: 'r', log: '' }));
	assert.throws(() => parseFromAgent({ type: 'restored', ok: true, pid: 1 }), /start/);
	assert.throws(() => parseFromAgent({ type: 'result', totals: { prefetchers: ['1'] } }), /prefetchers/);
	// A hello of this version must be whole; one of another version only has to say which version it is.
	const hello = { type: 'hello', protocol: PROTOCOL_VERSION, host: 'h', pid: 1, time: 0, pageSize: 4096, criu: null, pieces: { from: null, problem: null }, dir: '/d' };
	assert.throws(() => parseFromAgent(hello), /pidNamespace/);
	assert.ok(parseFromAgent({ ...hello, pidNamespace: null }));
	assert.is(parseFromAgent({ ...hello, protocol: PROTOCOL_VERSION + 1 }).type, 'hello');
	assert.throws(() => parseFromAgent({ type: 'hello', protocol: PROTOCOL_VERSION + 1 }), /host/);
});

parts('the pid namespace is told apart, and a dumped pid is waited for until its parent reaps it', async () => {
	const here = pidNamespaceId();
	assert.ok(here && here === pidNamespaceId(), String(here));
	const module = path.join(projectRoot, 'dist/tools/migrate/pid-namespace.js');
	const inner = spawnSync('unshare', ['--pid', '--fork', process.execPath, '--input-type=module', '-e', `import { pidNamespaceId } from ${JSON.stringify(module)}; console.log(pidNamespaceId());`], { encoding: 'utf8' });
	assert.is(inner.status, 0, inner.stderr);
	assert.ok(inner.stdout.trim() && inner.stdout.trim() !== here, `${inner.stdout.trim()} vs ${here}`);
	// A zombie under a parent that never reaps it: the shell forks a child that exits only once the
	// shell has become `sleep` (an exit before the exec could be reaped by the shell itself), and the
	// zombie is freed when the sleep is killed and init takes it over.
	const holder = spawn('/bin/sh', ['-c', '(until read c </proc/$$/comm && [ "$c" = sleep ]; do :; done) & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
	const [line] = (await once(holder.stdout, 'data')) as [Buffer];
	const zombie = Number(line.toString().trim());
	try {
		assert.ok(await becomesZombie(zombie, 10_000), `${zombie} became a zombie`);
		assert.is(await waitPidFree(zombie, 100), false, 'held while its parent lives');
	} finally {
		holder.kill('SIGKILL');
	}
	assert.is(await waitPidFree(zombie, 10_000), true, 'free once reaped');
	assert.is(await waitPidFree(zombie, 0), true);
});

async function becomesZombie(pid: number, timeoutMs: number): Promise<boolean> {
	for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await delay(10)) {
		let state: string | undefined;
		try {
			state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
		} catch {
			return false;
		}
		if (state === 'Z') return true;
	}
	return false;
}

function pair(): { source: Channel<FromAgent, ToAgent>; agent: Channel<ToAgent, FromAgent> } {
	const toAgent = new PassThrough();
	const toSource = new PassThrough();
	return {
		source: new Channel<FromAgent, ToAgent>(toSource, toAgent, parseFromAgent, 'the agent', ['progress']),
		agent: new Channel<ToAgent, FromAgent>(toAgent, toSource, parseToAgent, 'the source'),
	};
}

parts('the channel hands each message to whoever waits for its type, queues the rest, and fails every waiter when the peer goes', async () => {
	const { source, agent } = pair();
	const seen: string[] = [];
	source.watch((m) => seen.push(m.type));
	await agent.send({ type: 'note', text: 'early' });
	await agent.send({ type: 'progress', seq: 0, time: 0, donePages: 1, totalPages: 2, fetchedBytes: 4096 });
	const pong = source.expect('pong');
	await agent.send({ type: 'pong', time: 42 });
	assert.is((await pong).time, 42);
	assert.equal(await source.next(), { type: 'note', text: 'early' }, 'queued until asked for');
	assert.equal(seen, ['note', 'progress', 'pong'], 'watchers see everything, progress included');
	const never = source.expect('restored');
	agent.close();
	await never.then(
		() => assert.unreachable('resolved'),
		(err: unknown) => assert.ok(err instanceof ChannelClosed && /closed the connection/.test((err as Error).message)),
	);
	await source.expect('pong').then(() => assert.unreachable('resolved'), (err: unknown) => assert.instance(err, ChannelClosed));
});

parts('a message that fails its check closes the channel with the reason', async () => {
	const toSource = new PassThrough();
	const source = new Channel<FromAgent, ToAgent>(toSource, new PassThrough(), parseFromAgent, 'the agent');
	const waiting = source.next();
	toSource.write(encodeFrame({ type: 'pong', time: 'soon' }));
	await waiting.then(() => assert.unreachable('resolved'), (err: unknown) => assert.match((err as Error).message, /the agent sent a bad message: pong: field time/));
});

const file = (p: string, ranges: ReturnType<typeof hot>[]) => ({ ...imageFile(path.join(base, 'a'), p, ranges) });

parts('plans as page sets: what is new, what is left, resident-only pages only from the mincore backend', () => {
	writeFile(path.join(base, 'a'), 64 * 4096);
	assert.equal(subtractRanges([hot(0, 10), warm(20, 10)], [{ start: 5, count: 20 }]), [hot(0, 5), warm(25, 5)]);
	assert.equal(subtractRanges([hot(0, 10)], [{ start: 2, count: 2 }, { start: 6, count: 1 }]), [hot(0, 2), hot(4, 2), hot(7, 3)]);
	assert.equal(subtractRanges([hot(0, 10), hot(12, 4)], [{ start: 8, count: 6 }]), [hot(0, 8), hot(14, 2)]);
	const img = image([file('/x', [hot(0, 8), residentOnly(8, 8), warm(16, 4)]), file('/y', [hot(0, 4)])]);
	assert.is(pageCount(plannedPages(img)), 16, 'kpageflags: hot and warm only');
	const mincore: HotcacheImage = { ...img, capture: { ...img.capture, backend: 'mincore' } };
	assert.is(pageCount(plannedPages(mincore)), 24);
	const left = subtractPages(img, new Map([['/x', [{ start: 0, count: 6 }]], ['/y', [{ start: 0, count: 4 }]]]));
	assert.equal(left.files.map((f) => f.path), ['/x'], '/y has nothing left and is dropped');
	assert.equal(left.files[0]!.ranges, [hot(6, 2), residentOnly(8, 8), warm(16, 4)]);
	assert.equal(left.files[0]!.fds, img.files[0]!.fds, 'fd offsets stay: the resume order follows them');
	assert.is(Hotness.Hot, left.files[0]!.ranges[0]!.hotness);
});

parts('destinations: ssh and exec, and the agent quoted for the far side\'s shell', () => {
	assert.equal(parseDestination('ssh:root@10.0.0.2:2222'), { kind: 'ssh', user: 'root', host: '10.0.0.2', port: 2222 });
	assert.equal(parseDestination('ssh:dest'), { kind: 'ssh', user: null, host: 'dest', port: null });
	assert.equal(parseDestination('ssh:[::1]:22'), { kind: 'ssh', user: null, host: '[::1]', port: 22 });
	assert.equal(parseDestination('exec:nsenter -t 5 -m --'), { kind: 'exec', command: 'nsenter -t 5 -m --' });
	for (const bad of ['ssh:', 'ssh:host:0', 'ssh:-oProxyCommand=x', 'ssh:a b', 'exec:', 'rsh:host', 'host']) assert.throws(() => parseDestination(bad), (e: unknown) => e instanceof DestinationError, bad);
	const agent = ['node', "/opt/it's here/hotcache.js", 'receive'];
	assert.equal(agentCommand(parseDestination('ssh:u@h:2'), agent), {
		file: 'ssh',
		args: ['-T', '-e', 'none', '-o', 'BatchMode=yes', '-p', '2', 'u@h', '--', `node '/opt/it'\\''s here/hotcache.js' receive`],
	});
	assert.equal(agentCommand(parseDestination('exec:ip netns exec n'), ['hotcache', 'receive']), { file: '/bin/sh', args: ['-c', 'ip netns exec n hotcache receive'] });
	assert.is(shellQuote('a;b'), `'a;b'`);
});

parts('the clock offset comes from the ping with the shortest round trip', () => {
	const o = estimateOffset([
		{ sent: 0, agent: 1050, received: 100 },
		{ sent: 200, agent: 1205, received: 210 },
	]);
	assert.equal(o, { offsetMs: 1000, errorMs: 5 });
});

parts('precopy waits about half again the plan\'s time at the measured rate, within bounds; a re-capture counts when enough moved', () => {
	assert.is(precopyTimeoutS(0, 0, 0), MIN_TIMEOUT_S);
	assert.is(precopyTimeoutS(1e9, 100e6, 1), 2 + 15, 'measured 100 MB/s');
	assert.is(precopyTimeoutS(1e9, 1e6, 1), 2 + (1.5 * 1e9) / 117e6, 'too little fetched to measure: the assumed rate');
	assert.is(precopyTimeoutS(1e12, 100e6, 1), MAX_TIMEOUT_S);
	assert.not.ok(workingSetMoved(0, 1e9));
	assert.not.ok(workingSetMoved(1e6, 1e9));
	assert.ok(workingSetMoved(20e6, 1e9));
	assert.ok(workingSetMoved(2e6, 100e6), '2% of the plan');
});

parts("precopy's capture of the running process asks hotcache-capture for the migration's scope, or the configuration's", () => {
	assert.equal(captureArgs(42, 'cgroup').slice(-4), ['--pid', '42', '--scope', 'cgroup']);
	assert.not.ok(captureArgs(42, null).includes('--scope'), 'no scope given: HOTCACHE_SCOPE, as the plugin reads it at the freeze');
	const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
	try {
		for (const [scope, expected] of [['tree', 'tree'], [null, 'tree']] as const) {
			// A process that shares its memory cgroup: the configuration's auto is the tree too.
			const r = runCaptureTool(captureArgs(sleeper.pid!, scope));
			assert.is(r.code, 0, r.stderr);
			assert.is(decodeImage(r.stdout).capture.scope, expected);
		}
	} finally {
		sleeper.kill('SIGKILL');
	}
});

parts('the record tells who prefetched, when, and what came after the resume', () => {
	const t = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
	const record = [
		{ t: t(0), kind: 'start', pid: 7, pageSize: 4096 },
		{ t: t(10), kind: 'chunk', fetched: 10 },
		{ t: t(30), kind: 'chunk', fetched: 5 },
		{ t: t(40), kind: 'summary', pagesAsked: 20, alreadyResident: 5, fetched: 15, bytesRead: 61440 },
		{ t: t(50), kind: 'start', pid: 7, pageSize: 4096 },
		{ t: t(60), kind: 'chunk', fetched: 1 },
		{ t: t(70), kind: 'summary', pagesAsked: 1, alreadyResident: 0, fetched: 1, bytesRead: 4096 },
	]
		.map((l) => JSON.stringify(l))
		.join('\n') + '\n{"t": "cut sh';
	const totals = warmTotals(record, Date.UTC(2026, 0, 1) + 20, 'done');
	assert.equal(totals, {
		prefetchers: [7],
		firstStart: Date.UTC(2026, 0, 1),
		lastEnd: Date.UTC(2026, 0, 1) + 70,
		askedBytes: 21 * 4096,
		alreadyResidentBytes: 5 * 4096,
		fetchedBytes: 16 * 4096,
		bytesRead: 65536,
		fetchedAfterResume: 6 * 4096,
		status: 'done',
	});
});

parts('images cross whole, in order, and the writer refuses what does not fit', async () => {
	const from = path.join(base, 'from');
	const to = path.join(base, 'to');
	mkdirSync(from);
	mkdirSync(to);
	writeFileSync(path.join(from, 'pages-1.img'), randomBytes(3 << 20));
	writeFileSync(path.join(from, 'empty.img'), '');
	writeFileSync(path.join(from, 'dump.log'), 'not sent');
	writeFileSync(path.join(from, '.hotcache.img.tmp'), 'not sent');
	const { source, agent } = pair();
	const writer = new ImageWriter(to);
	const received = (async () => {
		for (;;) {
			const m = await agent.next();
			if (m.type === 'file') writer.write(m);
			if (m.type === 'files-done') return writer.finish(m.files, m.bytes);
		}
	})();
	const sent = await sendImages(source, from, null, () => {});
	assert.equal(await received, sent);
	assert.equal(sent, { files: 2, bytes: 3 << 20 });
	assert.ok(readFileSync(path.join(to, 'pages-1.img')).equals(readFileSync(path.join(from, 'pages-1.img'))));
	assert.is(readFileSync(path.join(to, 'empty.img')).length, 0);

	const w = new ImageWriter(to);
	const piece = (name: string, offset: number, size: number, n: number) => ({ type: 'file' as const, name, size, offset, data: new Uint8Array(n) });
	assert.throws(() => w.write(piece('../x', 0, 1, 1)), (e: unknown) => e instanceof ImagesError);
	assert.throws(() => w.write(piece('pages-1.img', 0, 1, 1)), /EEXIST/, 'never over a file already there');
	w.write(piece('new.img', 0, 8, 4));
	assert.throws(() => w.write(piece('new.img', 6, 8, 2)), /does not follow/);
	assert.throws(() => w.finish(1, 4), /4 of 8 bytes/);
});

parts('--link-mbps paces the images from the first byte: the waits add up to bytes / rate', async () => {
	const from = path.join(base, 'paced');
	mkdirSync(from);
	writeFileSync(path.join(from, 'pages-1.img'), randomBytes(3 << 20));
	let now = 0;
	const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
	const bucket = await linkPace(1e6, clock); // --link-mbps 8
	assert.is(now, 0, 'no burst to wait for at the start');
	const { source, agent } = pair();
	const drained = (async () => {
		for (;;) if ((await agent.next()).type === 'files-done') return;
	})();
	await sendImages(source, from, bucket, () => {});
	await drained;
	assert.ok(Math.abs(now - ((3 << 20) / 1e6) * 1000) < 1, `3 MiB at 1 MB/s took ${now} ms of the link's time`);
	assert.is(await linkPace(0, clock), null);
});

parts('the terminal shows each phase on a line and a bar with bytes and rate where the total is known', () => {
	let text = '';
	const ui = terminalUi({ write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream);
	ui.phase('warm-up');
	ui.progress('warm-up', 50e6, 100e6, 117e6);
	ui.note('a note');
	ui.phase('freeze');
	assert.is(text, 'hotcache migrate: warm-up\n\r  warm-up [############............] 50.0/100.0 MB  117.0 MB/s\x1b[K\nhotcache migrate: a note\nhotcache migrate: freeze\n');
});

parts('--events: one JSON line per phase and note as it happens, which the benchmark reads back; other lines are not events', () => {
	let text = '';
	const ui = eventsUi({ write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream);
	ui.phase('freeze');
	ui.progress('warm-up', 1, 2, 3);
	ui.note('a note');
	const lines = text.trim().split('\n');
	assert.is(lines.length, 2, 'a progress tick is no event');
	const freeze = parseEvent(lines[0]!);
	assert.is(freeze?.phase, 'freeze');
	assert.ok(Math.abs(freeze!.atMs - Date.now()) < 60_000, `wall-clock ms: ${freeze?.atMs}`);
	assert.is(parseEvent(lines[1]!), null);
	assert.is(JSON.parse(lines[1]!).note, 'a note');
	assert.is(parseEvent('hotcache migrate: freeze'), null);
});

parts('the plugin\'s notice: one line on a unix socket', async () => {
	assert.equal(parseNotice('written 407\n'), { written: true, bytes: 407 });
	assert.equal(parseNotice('failed No space left on device\n'), { written: false, reason: 'No space left on device' });
	assert.is(parseNotice('hello').written, false);
	const notice = await CaptureNotice.listen();
	try {
		const conn = connect(notice.socket);
		conn.end('written 12\n');
		assert.equal(await notice.notice, { written: true, bytes: 12 });
	} finally {
		notice.close();
	}
});

parts('the plan from the freeze stops the warm-up in progress and fetches only what it left', async () => {
	const dir = path.join(base, 'warm');
	mkdirSync(dir);
	const data = path.join(dir, 'data');
	const pages = 16384; // 64 MiB, at 20 MB/s: seconds of work
	writeFile(data, pages * 4096);
	await evict(data);
	const plan = image([imageFile(data, data, [hot(0, pages)])]);
	let firstProgress: () => void = () => {};
	const progressed = new Promise<void>((resolve) => (firstProgress = resolve));
	const finished: { seq: number; stopped: string | null }[] = [];
	const warmer = new Warmer({
		recordFile: path.join(dir, 'record.jsonl'),
		statusFile: path.join(dir, 'status'),
		pidFile: path.join(dir, 'prefetcher.pid'),
		config: { workers: 2, bandwidth: 20e6, activate: false },
		label: 'test',
		events: { started() {}, progress: () => firstProgress(), finished: (seq, _bytes, stopped) => finished.push({ seq, stopped }) },
	});
	try {
		warmer.enqueue(0, plan, '/', false);
		await progressed;
		warmer.enqueue(1, plan, '/', true);
		await warmer.idle();
	} finally {
		warmer.close();
	}
	assert.equal(finished.map((f) => f.seq), [0, 1]);
	assert.match(finished[0]!.stopped ?? '', /superseded/);
	assert.is(finished[1]!.stopped, null);
	const events = readFileSync(path.join(dir, 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | null>);
	const firstEnd = events.findIndex((e) => e.kind === 'summary');
	const done = events.slice(0, firstEnd).filter((e) => e.kind === 'chunk' && !e.error && Number(e.resident) + Number(e.fetched) >= Number(e.count)).reduce((n, e) => n + Number(e.count), 0);
	assert.ok(done > 0 && done < pages, `the first run was stopped part way (${done} of ${pages} pages)`);
	const second = events.slice(firstEnd + 1).find((e) => e.kind === 'summary')!;
	assert.is(second.pagesAsked, pages - done, 'the second run asked for exactly what the first left');
	assert.match(readFileSync(path.join(dir, 'prefetcher.pid'), 'utf8'), new RegExp(`^${process.pid} \\d+\n$`), 'this process, PID START');
});

parts.run();
