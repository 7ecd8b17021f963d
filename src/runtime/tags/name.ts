// Tag names and values. A tag is written `<Name>` everywhere: in templates, in the bundle's
// tensor keys (`tag.<SMILES>`) and in tagbundle.json, so one validated form serves them all.
import { UsageError } from '../errors';

/** A tag's name including its angle brackets, e.g. `<SMILES>`, `<QED>`. */
export type TagName = string & { readonly __brand: 'TagName' };

/** Domain tags mark where specialised data starts; function tags end the input and feed a head. */
export type TagKind = 'domain' | 'function';

/** p vectors of model width H, row-major [p, H]. */
export interface TagValue {
  readonly p: number;
  readonly hiddenSize: number;
  readonly data: Float32Array;
}

// Letters, digits, `_` and `-`, starting with a letter: enough for <SMILES>, <Protein>,
// <QED>, <pIC50>, <Drug-Synergy>, and never ambiguous with template text such as `<=`.
const TAG_NAME = /^<[A-Za-z][A-Za-z0-9_-]{0,63}>$/;

export function isTagName(text: string): text is TagName {
  return TAG_NAME.test(text);
}

export function parseTagName(text: string, where?: string): TagName {
  if (!isTagName(text)) {
    throw new UsageError(`"${text}" is not a tag name; write it as <Name> (a letter, then letters, digits, _ or -)`, where);
  }
  return text;
}
