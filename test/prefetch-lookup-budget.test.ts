// The bound on path lookups per image (hooks/lookup-budget.ts), with a clock the test moves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LookupBudget } from '../hooks/lookup-budget.js';

test('paths are admitted until their components reach the budget; "." and empty parts: each "." counts', () => {
	const budget = new LookupBudget(10, 1000, () => 0);
	assert.is(budget.admit('/a/b/c'), null);
	assert.is(budget.admit('/./././x'), null, '4 components: 7 of 10');
	assert.is(budget.admit('//a//b//'), null, 'empty parts cost nothing: 9 of 10');
	assert.match(budget.admit('/a/b') ?? '', /already took 9 of the 10 path components/);
	assert.is(budget.admit('/z'), null, 'a shorter path still fits');
});

test('no path is admitted once the time for the opens is over, counted from the first', () => {
	let now = 500;
	const budget = new LookupBudget(100, 1000, () => now);
	assert.is(budget.admit('/a'), null);
	now = 1500;
	assert.is(budget.admit('/b'), null, 'exactly at the end');
	now = 1501;
	assert.match(budget.admit('/c') ?? '', /took more than 1 s to open/);
});

test.run();
