/**
 * Characters no text field of the API accepts: C0 controls (tab and newlines included), DEL, C1
 * controls (U+0085 too), the non-characters U+FFFE and U+FFFF, and lone surrogates (in a `u` pattern a
 * surrogate range matches only an unpaired half). XML 1.0 forbids most of them, HTTP headers all of them.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF\uD800-\uDFFF]/u;

/** The index of the first control character (see CONTROL_CHARACTER) in `value`, or -1. */
export function controlCharacterIn(value: string): number {
  const match = CONTROL_CHARACTER.exec(value);
  return match ? match.index : -1;
}

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/** "U+0007": the code unit at `index`, as error messages name it (never the character itself). */
export function describeCodePoint(value: string, index: number): string {
  return `U+${value.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0')}`;
}

const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'gu');

/** `value` with each control character (see CONTROL_CHARACTER) replaced; a lone surrogate is one character. */
export function replaceControlCharacters(value: string, replacement: string | ((character: string) => string)): string {
  return typeof replacement === 'string' ? value.replace(CONTROL_CHARACTERS, replacement) : value.replace(CONTROL_CHARACTERS, replacement);
}
