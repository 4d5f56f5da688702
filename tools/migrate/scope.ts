// The capture's scope a command line asks for (hotcache scan --scope, hotcache migrate --scope). A
// migration asks the same one of the capture of the running process (hotcache-capture --scope) and of the
// plugin at the freeze (HOTCACHE_SCOPE in criu's environment); unset, both read the configuration's.
import { SCOPE } from '../../contract/out/contract.js';

export type Scope = keyof typeof SCOPE;
export const SCOPES = Object.keys(SCOPE) as Scope[];

export function isScope(value: string): value is Scope {
	return (SCOPES as string[]).includes(value);
}
