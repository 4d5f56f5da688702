// The engine's decisions on recorded runs: what the cost model learns from completions (bandwidth,
// request cost, useful depth), when the process counts as reading, and the pace that follows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CostModel, PRIOR, type CostEstimate } from '../hooks/cost-model.js';
import { Demand, HOLD_MS } from '../hooks/demand.js';
import { decide, IDLE_DELAY_S, SATURATED_SHARE, YIELD_DELAY_S } from '../hooks/yield-policy.js';

const MB = 1e6;
const PAGE = 4096;

/**
 * A device that serves requests of `bytes` at depth d at `rate(d)` bytes per second: feeds the model
 * the completions of `count` requests kept d in flight, from `t` on; returns the time after them.
 */
function serve(model: CostModel, rate: (d: number) => number, bytes: number, count: number, t: number, alone = true, depth = model.estimate().depth): number {
	const interval = (bytes / rate(depth)) * 1000;
	for (let i = 0; i < count; i++) {
		t += interval;
		model.observe({ bytes, sentMs: t - depth * interval, doneMs: t }, depth, alone);
	}
	return t;
}

test('the depth doubles while the rate grows by a tenth, and settles at the smallest depth that reached it', () => {
	const rates: Record<number, number> = { 1: 100 * MB, 2: 180 * MB, 4: 190 * MB, 8: 195 * MB, 16: 196 * MB };
	const model = new CostModel(16);
	assert.is(model.estimate().depth, 1, 'the first requests go one at a time');
	let t = 0;
	const seen: number[] = [];
	for (let i = 0; i < 6 && model.estimate().probing; i++) {
		seen.push(model.estimate().depth);
		t = serve(model, (d) => rates[d]!, MB, 40, t);
	}
	assert.equal(seen, [1, 2, 4], 'tried 1, 2 and 4');
	assert.is(model.estimate().depth, 2, '4 gave less than a tenth more than 2');
	assert.ok(Math.abs(model.estimate().bandwidth - 190 * MB) < MB, 'the bandwidth is the best rate delivered');
});

test('a settled depth tries its double again now and then, and keeps it when the storage now rewards it', () => {
	const model = new CostModel(8);
	let rates: Record<number, number> = { 1: 100 * MB, 2: 104 * MB, 4: 104 * MB };
	let t = serve(model, (d) => rates[d]!, MB, 40, 0);
	t = serve(model, (d) => rates[d]!, MB, 40, t);
	assert.is(model.estimate().depth, 1);
	assert.not.ok(model.estimate().probing);
	rates = { 1: 100 * MB, 2: 150 * MB, 4: 152 * MB }; // another client left the link
	for (let i = 0; i < 12 && model.estimate().depth === 1; i++) t = serve(model, (d) => rates[d]!, MB, 20, t);
	assert.is(model.estimate().depth, 2, 'the double was tried again and kept');
});

test('windows while the process reads move neither the depth nor the request cost', () => {
	const model = new CostModel(8);
	serve(model, () => 20 * MB, 4096, 64, 0, false);
	const e = model.estimate();
	assert.is(e.depth, 1);
	assert.ok(e.probing);
	assert.is(e.requestCost, PRIOR.requestCost);
});

test('an IOPS-bound device: small requests measure the request cost, and gaps below it are read through', () => {
	// 117 MB/s and 3000 requests per second, as blkio throttles it.
	const device = (bytes: number) => (d: number) => Math.min(117 * MB, (d >= 2 ? 3000 : 2500) * bytes);
	const model = new CostModel(8);
	let t = serve(model, device(MB), MB, 40, 0);
	assert.ok(Math.abs(model.estimate().bandwidth - 117 * MB) < MB);
	for (let i = 0; i < 10; i++) t = serve(model, device(PAGE), PAGE, 320, t, true, 2);
	const cost = model.estimate().requestCost;
	const expected = 1 / 3000 - PAGE / (117 * MB);
	assert.ok(Math.abs(cost - expected) < 0.02e-3, `request cost ${cost * 1e3} ms, expected about ${expected * 1e3} ms`);
	const { pace } = decide(false, 0, model.estimate(), PAGE, 8);
	assert.is(pace.gapPages, Math.floor((117 * MB * cost) / PAGE), 'a gap of up to ~8 pages costs less than a request');
	assert.is(pace.gapPages, 8);
});

test('small requests alone lower neither the bandwidth (they measure their own cost) nor, before a large one did, the request cost', () => {
	const model = new CostModel(8);
	serve(model, () => 13 * MB, 40 * PAGE, 400, 0); // a fast disk serving 160 KiB requests one at a time
	assert.equal([model.estimate().bandwidth, model.estimate().requestCost], [PRIOR.bandwidth, PRIOR.requestCost]);
	serve(model, () => 40 * MB, 1 * MB, 40, 1e6); // the first window of large requests sets the bandwidth, even below the prior
	assert.ok(Math.abs(model.estimate().bandwidth - 40 * MB) < MB);
});

test('requests that found everything resident teach nothing', () => {
	const model = new CostModel(8);
	for (let i = 0; i < 64; i++) model.observe({ bytes: 0, sentMs: i, doneMs: i + 0.01 }, 1, true);
	assert.equal(model.estimate(), { bandwidth: PRIOR.bandwidth, requestCost: PRIOR.requestCost, latency: null, depth: 1, probing: true });
});

test('the process counts as reading while its files grow faster than the threshold, and for a while after', () => {
	const demand = new Demand();
	const threshold = 300; // pages per second
	assert.not.ok(demand.quiet(0), 'not known quiet before any sample');
	for (let t = 0; t <= 1000; t += 100) demand.observe(t, 100, threshold); // a trickle
	assert.not.ok(demand.reading(1000));
	assert.ok(demand.quiet(1000));
	for (let t = 1100; t <= 2000; t += 100) demand.observe(t, 3000, threshold);
	assert.ok(demand.reading(2000));
	assert.is(demand.rate(), 3000);
	for (let t = 2100; t <= 4000; t += 100) {
		demand.observe(t, 0, threshold); // it stopped
		if (t <= 2000 + HOLD_MS) assert.ok(demand.reading(t), `still reading at ${t} (held)`);
	}
	assert.not.ok(demand.reading(4000));
	demand.observe(4100, 3000, threshold, 2000); // samples 2 s apart: the hold covers the gap between them
	assert.ok(demand.reading(5900));
});

const estimate = (depth: number, bandwidth = 117 * MB, requestCost = 0.3e-3): CostEstimate => ({ bandwidth, requestCost, latency: 0, depth, probing: false });

test('alone on the link: the learned depth, the process\'s order, low-value pages allowed, a bounded time in flight', () => {
	const d = decide(false, 0, estimate(4, 3e9), PAGE, 8);
	assert.is(d.depth, 4);
	assert.equal({ ...d.pace, chunkPages: 0 }, { gapPages: Math.floor((3e9 * 0.3e-3) / PAGE), chunkPages: 0, fromBack: false, lowValue: true });
	assert.is(d.pace.chunkPages, Math.floor((3e9 * IDLE_DELAY_S) / 4 / PAGE), 'the readahead cap bounds it further, per file');
	assert.is(decide(false, 0, estimate(16), PAGE, 8).depth, 8, 'never more than the workers');
	// On a Gigabit link a reader that starts now waits for at most 50 ms of the prefetch's requests.
	const g = decide(false, 0, estimate(2), PAGE, 8);
	assert.is(g.inFlightPages, Math.floor((117 * MB * IDLE_DELAY_S) / PAGE));
	assert.ok(g.depth * g.pace.chunkPages <= g.inFlightPages);
});

test('while the process reads: 8 ms of link time in flight (1 MiB at least), in requests of half of it or less, from the back, no low-value pages', () => {
	const d = decide(true, 10 * MB, estimate(8, 400 * MB), PAGE, 8);
	assert.is(d.inFlightPages, Math.floor((400 * MB * YIELD_DELAY_S) / PAGE));
	assert.is(d.pace.chunkPages, Math.floor(d.inFlightPages / 2));
	assert.is(d.depth, 8, 'smaller requests may be more, within the pages in flight');
	assert.ok(d.pace.fromBack);
	assert.not.ok(d.pace.lowValue);
	const slow = decide(true, 0.1 * MB, estimate(8, 1 * MB), PAGE, 8);
	assert.equal([slow.inFlightPages, slow.pace.chunkPages], [256, 128], 'never below 1 MiB in flight: requests of 512 KiB');
	assert.is(decide(true, 10 * MB, estimate(8), PAGE, 1).depth, 1, 'one worker: one request');
});

test('when the process\'s own reads take most of the link, the prefetch sends nothing', () => {
	assert.is(decide(true, SATURATED_SHARE * 117 * MB, estimate(4), PAGE, 8).depth, 0, 'a sequential reader at the link\'s speed');
	assert.is(decide(true, 12 * MB, estimate(4), PAGE, 8).depth, 8, 'a scattered reader bound by its latency leaves the bandwidth');
	assert.is(decide(false, 117 * MB, estimate(4), PAGE, 8).depth, 4, 'not reading: the rate is not looked at');
});

test.run();
