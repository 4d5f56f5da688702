// The capture's scope a migration asks for (hotcache migrate --scope): the same one for the capture of
// the running process (hotcache-capture --scope) and the plugin's at the freeze (HOTCACHE_SCOPE in
// criu's environment); unset, both read the configuration's HOTCACHE_SCOPE.
import { SCOPE } from '../../contract/out/contract.js';

export type Scope = keyof typeof SCOPE;
export const SCOPES = Object.keys(SCOPE) as Scope[];

export function isScope(value: string): value is Scope {
	return (SCOPES as string[]).includes(value);
}
