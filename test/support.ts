// Small helpers shared by tests.
import type { Test } from 'uvu';

/** Registers `fn`, or skips it and says why when `reason` is not null (not root, no qemu, ...). */
export function testUnless(reason: string | null, suite: Test, name: string, fn: () => Promise<void> | void): void {
	if (reason === null) {
		suite(name, fn);
		return;
	}
	process.stdout.write(`  skip: ${name}: ${reason}\n`);
	suite.skip(name, fn);
}
