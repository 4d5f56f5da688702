// The ways of moving a process that the benchmark compares, in the order they are run and shown.
import { parseIdList } from './id-list.js';

export type VariantId = 'none' | 'off' | 'resident' | 'reference' | 'restore' | 'freeze' | 'precopy';

export interface Variant {
	id: VariantId;
	/** Short name for tables and plot legends. */
	label: string;
	/** What it does, for the settings printed with every result. */
	detail: string;
}

const VARIANTS: readonly Variant[] = [
	{ id: 'none', label: 'no migration', detail: 'the process is never moved: the upper bound' },
	{ id: 'off', label: 'CRIU alone', detail: 'hotcache migrate --warm off: dump, images, restore, no prefetch' },
	{ id: 'resident', label: 'all resident, at restore', detail: 'every page resident at the dump, in file order, one pread thread, started at restore (what a vmtouch user would do)' },
	{ id: 'reference', label: 'reference: hot, at freeze', detail: 'the seed study: the hot pages, one pread thread, started at the freeze' },
	{ id: 'restore', label: '--warm restore', detail: 'hotcache migrate --warm restore: the action script starts the prefetch at restore' },
	{ id: 'freeze', label: '--warm freeze', detail: 'hotcache migrate --warm freeze: the plugin\'s plan is shipped at the freeze, prefetch starts then' },
	{ id: 'precopy', label: '--warm precopy', detail: 'hotcache migrate --warm precopy: prefetch while the process still runs on the source, then the difference' },
];

export function variant(id: VariantId): Variant {
	const v = VARIANTS.find((x) => x.id === id);
	if (!v) throw new Error(`unknown variant ${id}`);
	return v;
}

export function parseVariants(text: string): VariantId[] {
	return parseIdList(text, VARIANTS.map((v) => v.id), 'variant');
}
