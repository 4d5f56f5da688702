// Text from an image (paths, reasons, the capture's host and tool) printed for a person: a hostile
// image must not be able to move the cursor, clear the screen or fake lines of output. Control
// characters (C0, DEL, C1) and the invisible ones that reorder or break lines (bidi controls, line
// and paragraph separators) are written as escapes; a backslash is doubled so escapes stay unambiguous.

const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

function escape(ch: string): string {
	if (ch === '\\') return '\\\\';
	const code = ch.charCodeAt(0);
	return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function printable(text: string): string {
	return text.replace(UNPRINTABLE, escape);
}

// JSON.stringify escapes C0 but leaves DEL, C1 and the separators as they are: \u escapes for them
// parse back to the same string.
const JSON_UNPRINTABLE = /[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One line of JSON that a terminal shows as it is. */
export function jsonLine(value: unknown): string {
	return JSON.stringify(value).replace(JSON_UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}
