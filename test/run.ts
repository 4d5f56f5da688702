// `npm test`: runs every test/*.test.ts (compiled to dist/test) with uvu, then prints one plain
// "N passed, N failed, N skipped" line for CI. An argument narrows the run to matching file names.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../tools/project.js';

// uvu's package exports do not include its CLI, so it is found by path.
const uvu = `${projectRoot}/node_modules/uvu/bin.js`;
const testDir = fileURLToPath(new URL('.', import.meta.url));
const pattern = String.raw`${process.argv[2] ?? ""}.*\.test\.js$`;

const child = spawn(process.execPath, [uvu, testDir, pattern], { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk: Buffer) => {
	process.stdout.write(chunk);
	output += chunk.toString();
});
child.on('close', (code, signal) => {
	// uvu's own summary: "Total: N", "Passed: N", "Skipped: N" (ANSI colour codes stripped first).
	const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
	const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
	const total = count('Total');
	const passed = count('Passed');
	const skipped = count('Skipped');
	// uvu's Total leaves skipped tests out; a crash outside any test still counts as one failure.
	const failed = Math.max(total - passed, code === 0 && !signal ? 0 : 1);
	process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
	process.exitCode = failed === 0 ? 0 : 1;
});
