// JSON files the user hands us (config.json, tokenizer.json, tagbundle.json, the safetensors
// header). A byte-order mark is named rather than quoted: JSON.parse's own message would quote
// it, and a BOM is invisible, so the message would point at nothing. Python's json and the
// safetensors reference refuse a BOM as well.
import { InvalidFileError } from './errors';
import { escapeControl } from './safeText';

/** Parses `text` as JSON; the error names `path`, and `subject` ("safetensors header") when the JSON is part of it. */
export function parseJsonText(text: string, path: string, subject?: string): unknown {
  if (text.startsWith('\ufeff')) {
    throw new InvalidFileError(`${subject ?? 'the file'} starts with an invisible byte-order mark (U+FEFF), which JSON does not allow; save it as UTF-8 without a BOM`, path);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidFileError(`${subject ? `${subject} is ` : ''}not valid JSON (${escapeControl((err as Error).message)})`, path);
  }
}
