// How much path lookup one image may cost. Links are never followed (open-in-root), so a lookup costs
// the kernel one step per component of the image's own path, "." included (about 40-100 ns each
// here); but an image holds up to 64 MiB of paths, and lookups on network storage are round trips.
// Files past either bound are skipped with the reason.

/** Components looked up for one image: 100,000 files 40 deep; about 0.2-0.4 s of kernel time here. */
export const LOOKUP_COMPONENTS = 4_000_000;
/** Time for all the opens of one image, from the first. */
export const LOOKUP_MS = 60_000;

export class LookupBudget {
	private components = 0;
	private deadline: number | null = null;

	constructor(
		private readonly maxComponents = LOOKUP_COMPONENTS,
		private readonly maxMs = LOOKUP_MS,
		private readonly now: () => number = () => performance.now(),
	) {}

	/** Null when `path` may be looked up (and counts it), else why not. */
	admit(path: string): string | null {
		const now = this.now();
		this.deadline ??= now + this.maxMs;
		if (now > this.deadline) return `not opened: the image's files took more than ${this.maxMs / 1000} s to open`;
		const components = path.split('/').reduce((n, part) => n + (part ? 1 : 0), 0);
		if (this.components + components > this.maxComponents) return `not opened: the image's paths already took ${this.components} of the ${this.maxComponents} path components one image may look up`;
		this.components += components;
		return null;
	}
}
