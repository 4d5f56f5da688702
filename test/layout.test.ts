// The prefetcher ships without the CLI and the test tools: nothing the restore side runs (hooks/, the
// image codec in proto/, the generated contract) imports from tools/ or test/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';

function sources(dir: string): string[] {
	return readdirSync(path.join(projectRoot, dir), { withFileTypes: true }).flatMap((e) => {
		const file = path.join(dir, e.name);
		return e.isDirectory() ? sources(file) : e.name.endsWith('.ts') ? [file] : [];
	});
}

test('hooks/, proto/ and contract/ import nothing from tools/ or test/', () => {
	const shipped = ['hooks', 'proto', 'contract'].flatMap(sources);
	assert.ok(shipped.includes('hooks/prefetcher.ts') && shipped.includes('contract/out/contract.ts'), shipped.join(' '));
	const offending = shipped.flatMap((file) => {
		const specifiers = [...readFileSync(path.join(projectRoot, file), 'utf8').matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'/g)].map((m) => m[1] ?? m[2]!);
		const top = (s: string) => path.relative(projectRoot, path.resolve(path.dirname(path.join(projectRoot, file)), s)).split(path.sep)[0];
		return specifiers.filter((s) => s.startsWith('.') && ['tools', 'test'].includes(top(s) ?? '')).map((s) => `${file}: ${s}`);
	});
	assert.equal(offending, []);
});

test.run();
