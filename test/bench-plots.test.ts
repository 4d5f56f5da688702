// The benchmark's plots: vega-lite rendered to SVG and PNG from a known result, every file written,
// each a valid image (the PNG's chunks and compressed pixels check out, the SVG renders again).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { writeReports } from '../tools/bench/report/write.js';
import { histogramSpec, timelineSpec } from '../tools/bench/report/plots.js';
import { knownResult } from './bench-support.js';
import { scratchDir } from './support.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const crc32 = (zlib as unknown as { crc32: (data: Buffer) => number }).crc32;

/** Checks a PNG through and through; returns its size. */
function checkPng(buf: Buffer): { width: number; height: number } {
	assert.ok(buf.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
	let pos = 8;
	let header: { width: number; height: number; depth: number; color: number } | null = null;
	const idat: Buffer[] = [];
	let ended = false;
	while (pos < buf.length) {
		const len = buf.readUInt32BE(pos);
		const type = buf.toString('latin1', pos + 4, pos + 8);
		const data = buf.subarray(pos + 8, pos + 8 + len);
		assert.is(buf.readUInt32BE(pos + 8 + len), crc32(buf.subarray(pos + 4, pos + 8 + len)) >>> 0, `CRC of ${type}`);
		if (type === 'IHDR') header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8]!, color: data[9]! };
		if (type === 'IDAT') idat.push(data);
		if (type === 'IEND') ended = true;
		pos += 12 + len;
	}
	assert.ok(header && ended, 'IHDR and IEND');
	const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[header!.color as 0 | 2 | 4 | 6];
	assert.ok(channels && header!.depth === 8, `8-bit gray or RGB(A), not color type ${header!.color} depth ${header!.depth}`);
	const pixels = inflateSync(Buffer.concat(idat));
	assert.is(pixels.length, header!.height * (1 + header!.width * channels!), 'one filter byte and a full row per line');
	return { width: header!.width, height: header!.height };
}

/** Checks an SVG: vega's root element with a size, and resvg parses and renders it at that size. */
function checkSvg(text: string): { width: number; height: number } {
	const m = /^<svg [^>]*width="(\d+)" height="(\d+)"/.exec(text);
	assert.ok(m, `an <svg> root with a width and a height: ${text.slice(0, 100)}`);
	assert.ok(text.trimEnd().endsWith('</svg>'), 'closed');
	const size = { width: Number(m![1]), height: Number(m![2]) };
	const img = new Resvg(text).render();
	assert.equal({ width: img.width, height: img.height }, size, 'renders at its declared size');
	return size;
}

const plots = suite('bench: plots');

plots('the timeline and the histogram of every workload, in SVG and PNG, valid, the PNG at twice the SVG\'s size', async () => {
	const dir = scratchDir('bench-plots').dir;
	try {
		const files = await writeReports(knownResult(), dir);
		const names = files.map((f) => path.basename(f)).sort();
		assert.equal(names, ['histogram-reread.png', 'histogram-reread.svg', 'result.json', 'runs.csv', 'summary.csv', 'summary.md', 'timeline-reread.png', 'timeline-reread.svg', 'timelines.csv']);
		for (const plot of ['timeline-reread', 'histogram-reread']) {
			const svg = readFileSync(path.join(dir, `${plot}.svg`), 'utf8');
			const size = checkSvg(svg);
			const png = checkPng(readFileSync(path.join(dir, `${plot}.png`)));
			assert.equal(png, { width: size.width * 2, height: size.height * 2 }, plot);
		}
		const timeline = readFileSync(path.join(dir, 'timeline-reread.svg'), 'utf8');
		// One line per variant that ran, named in the legend, and the axis titles.
		assert.is((timeline.match(/aria-roledescription="line mark"/g) ?? []).length, 3, 'three lines');
		for (const text of ['no migration', 'CRIU alone', '--warm freeze', 'seconds since the migration was asked', 'MB/s, 100 ms samples']) assert.ok(timeline.includes(text), `timeline shows "${text}"`);
		assert.not.ok(timeline.includes('--warm precopy'), 'a variant that did not run is not in the legend');
		const histogram = readFileSync(path.join(dir, 'histogram-reread.svg'), 'utf8');
		assert.is((histogram.match(/<path [^>]*aria-roledescription="bar"/g) ?? []).length, 3, 'one bin per variant: each variant\'s two runs read the same');
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

plots('the timeline plots each variant\'s median run, in MB/s per sample, against the time since the migration was asked', () => {
	const spec = timelineSpec(knownResult(), 'reread') as { layer: { data: { values: { variant: string; t: number; rate: number }[] } }[] };
	const off = spec.layer[0]!.data.values.filter((v) => v.variant === 'CRIU alone');
	assert.is(off.length, 100);
	// migratedTimeline: frozen from 4 s, the migration asked at 4 s: the sample ending 0.5 s after is 0.
	assert.equal(off.find((v) => v.t === 0.5)!.rate, 0);
	assert.ok(Math.abs(off.find((v) => v.t === 1.5)!.rate - 20) < 1e-6, '20 MB/s right after the resume');
	const hist = histogramSpec(knownResult(), 'reread') as { data: { values: { amount: number }[] } };
	assert.is(hist.data.values.length, 6, 'one value per run');
});

plots.run();
