// Text from files (metadata, column values, SMILES) reaches terminals, logs and editor messages.
// A terminal obeys escape sequences, so a model's metadata could clear the screen or retitle the
// window; an invisible BOM or bidi override makes a message lie about what it quotes; and a
// 70,000-character value buries the line that names the problem. Everything quoted from input
// goes through `quote`, and every line leaving the process through `safeLine`.

/** Values are cut to this many characters, with the full length stated. */
export const QUOTE_LIMIT = 120;
/** A whole line is cut to this many characters (a message is one line with a few values in it). */
export const LINE_LIMIT = 1000;

const NAMED_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

// C0 and C1 controls, DEL, zero-width and bidi-control characters, the BOM, line/paragraph
// separators, and lone surrogates: nothing a reader can see, or something a terminal acts on.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string): string {
  const named = NAMED_ESCAPES.get(c);
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control or invisible character written as an escape (`\n`, `\x1b`, `\ufeff`). */
export function escapeControl(text: string): string {
  return text.replace(INVISIBLE, escapeChar);
}

function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  // never split a surrogate pair
  const end = /[\ud800-\udbff]/.test(text[limit - 1]) ? limit - 1 : limit;
  return `${text.slice(0, end)}…`;
}

/** A value from input, quoted for a message: escaped, and cut to QUOTE_LIMIT characters with its length stated. */
export function quote(value: string, limit: number = QUOTE_LIMIT): string {
  const shown = `"${escapeControl(cut(value, limit))}"`;
  return value.length > limit ? `${shown} (${value.length.toLocaleString('en-US')} characters)` : shown;
}

/**
 * One line that is safe to print: controls escaped, quoted runs longer than QUOTE_LIMIT cut (a
 * backstop for messages that quote a value without `quote`), and the line cut to LINE_LIMIT.
 */
export function safeLine(line: string): string {
  const escaped = escapeControl(line).replace(/"([^"]{121,})"/g, (_, inner: string) => `"${cut(inner, QUOTE_LIMIT)}" (${inner.length.toLocaleString('en-US')} characters)`);
  return escaped.length > LINE_LIMIT ? `${cut(escaped, LINE_LIMIT)} (${escaped.length.toLocaleString('en-US')} characters)` : escaped;
}

/** The message of anything thrown, as one safe line. */
export function errorLine(error: unknown): string {
  return safeLine(error instanceof Error ? error.message : String(error));
}
