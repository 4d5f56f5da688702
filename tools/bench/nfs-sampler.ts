// The progress sampler inside an NFS VM (tools/vm/guest-nfs.sh runs it on both clients with the guest's
// Node): makes the workload's progress file, samples it every 100 ms on the guest's clock until the
// stop file appears, then writes the samples as JSON. On the destination (--counting) the file starts
// with the workload's magic and zero counts: the restored workload maps it there by path and adds what
// it reads after the resume; the source's file keeps what it read before the freeze.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createProgressFile, ProgressReader } from './progress-file.js';
import { Sampler } from './sampler.js';

const { values } = parseArgs({
	options: {
		progress: { type: 'string' },
		units: { type: 'string' },
		stop: { type: 'string' },
		ready: { type: 'string' },
		out: { type: 'string' },
		counting: { type: 'boolean', default: false },
	},
});
const { progress, stop, ready, out } = values;
const units = Number(values.units);
if (!progress || !stop || !ready || !out || !Number.isInteger(units) || units < 0) {
	console.error('usage: nfs-sampler --progress FILE --units N --stop FILE --ready FILE --out FILE [--counting]');
	process.exit(2);
}
createProgressFile(progress, units, { counting: values.counting });
const reader = new ProgressReader(progress);
const sampler = new Sampler(() => reader.read());
sampler.start();
writeFileSync(ready, '');
const poll = setInterval(() => {
	if (!existsSync(stop)) return;
	clearInterval(poll);
	const samples = sampler.stop();
	reader.close();
	writeFileSync(`${out}.tmp`, JSON.stringify(samples));
	renameSync(`${out}.tmp`, out);
}, 50);
