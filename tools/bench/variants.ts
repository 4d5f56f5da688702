// The ways of moving a process that the benchmark compares, in the order they are run and shown, and
// how each is played: which `hotcache migrate --warm` mode moves it, and which outside prefetcher (one
// thread of pread, baseline-prefetch.ts) reads what on the destination, from which phase on.
import { parseIdList } from './id-list.js';

export type VariantId = 'none' | 'off' | 'resident' | 'reference' | 'restore' | 'freeze' | 'precopy' | 'oracle';

/** What an outside prefetcher reads: every page resident at the capture, the hot ones, or the workload's known hot set. */
export type BaselinePages = 'resident' | 'hot' | 'oracle';

export interface Variant {
	id: VariantId;
	/** Short name for tables and plot legends. */
	label: string;
	/** What it does, for the settings printed with every result. */
	detail: string;
	/** `hotcache migrate --warm`; null: never moved. */
	warm: 'off' | 'restore' | 'freeze' | 'precopy' | null;
	/** The outside prefetcher, started on the destination as `hotcache migrate` enters `at`. */
	baseline: { pages: BaselinePages; at: 'freeze' | 'restore' } | null;
}

const VARIANTS: readonly Variant[] = [
	{ id: 'none', label: 'no migration', detail: 'the process is never moved: the upper bound', warm: null, baseline: null },
	{ id: 'off', label: 'CRIU alone', detail: 'hotcache migrate --warm off: dump, images, restore, no prefetch', warm: 'off', baseline: null },
	{
		id: 'resident',
		label: 'all resident, at restore',
		detail: 'CRIU alone, and every page resident on the source (hotcache-capture before the move) read in file order by one pread thread from the restore on (what a vmtouch user would do)',
		warm: 'off',
		baseline: { pages: 'resident', at: 'restore' },
	},
	{
		id: 'reference',
		label: 'reference: hot, at freeze',
		detail: 'the seed study: CRIU alone, and the hot pages (hotcache-capture before the move) read in file order by one pread thread from the freeze on',
		warm: 'off',
		baseline: { pages: 'hot', at: 'freeze' },
	},
	{ id: 'restore', label: '--warm restore', detail: 'hotcache migrate --warm restore: the action script starts the prefetch at restore', warm: 'restore', baseline: null },
	{ id: 'freeze', label: '--warm freeze', detail: 'hotcache migrate --warm freeze: the plugin\'s plan is shipped at the freeze, prefetch starts then', warm: 'freeze', baseline: null },
	{ id: 'precopy', label: '--warm precopy', detail: 'hotcache migrate --warm precopy (the default): prefetch while the process still runs on the source, then the difference', warm: 'precopy', baseline: null },
	{
		id: 'oracle',
		label: 'oracle, at restore',
		detail: 'CRIU alone, and what the workload is built to read (not measured: known), its hot set first, then the rest, by one pread thread from the restore on; for the workloads that have one',
		warm: 'off',
		baseline: { pages: 'oracle', at: 'restore' },
	},
];

export function variant(id: VariantId): Variant {
	const v = VARIANTS.find((x) => x.id === id);
	if (!v) throw new Error(`unknown variant ${id}`);
	return v;
}

export function parseVariants(text: string): VariantId[] {
	return parseIdList(text, VARIANTS.map((v) => v.id), 'variant');
}
