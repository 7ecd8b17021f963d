// Templates: the text a tagged input is written in. Tag placeholders (`<SMILES>`, `<QED>`)
// expand to a tag's p vectors; input slots (`{smiles}`, `{seq}`) take the user's text.
// A template is parsed once into segments; slot values are filled in as plain text, so an
// input can never introduce a tag of its own.
import { UsageError } from '../errors';
import { isTagName, type TagName } from './name';

export type TemplateSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tag'; readonly tag: TagName }
  | { readonly kind: 'slot'; readonly slot: string };

export interface Template {
  /** The template text, as written (after a named template was instantiated). */
  readonly text: string;
  readonly segments: readonly TemplateSegment[];
  /** Distinct tag names in order of first appearance. */
  readonly tags: readonly TagName[];
  /** Distinct slot names in order of first appearance. */
  readonly slots: readonly string[];
}

/** Input values by slot name, e.g. `{ smiles: 'CCO' }`. */
export type SlotValues = Readonly<Record<string, string>>;

const PLACEHOLDER = /<[A-Za-z][A-Za-z0-9_-]{0,63}>|\{[a-z][a-z0-9_]*\}/g;

export function parseTemplate(text: string): Template {
  const segments: TemplateSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index;
    if (at > last) segments.push({ kind: 'text', text: text.slice(last, at) });
    const token = match[0];
    if (token.startsWith('{')) segments.push({ kind: 'slot', slot: token.slice(1, -1) });
    else if (isTagName(token)) segments.push({ kind: 'tag', tag: token });
    last = at + token.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  const tags = unique(segments.flatMap((s) => (s.kind === 'tag' ? [s.tag] : [])));
  const slots = unique(segments.flatMap((s) => (s.kind === 'slot' ? [s.slot] : [])));
  if (tags.length === 0) throw new UsageError(`template "${text}" has no tag placeholder such as <SMILES>`);
  return { text, segments, tags, slots };
}

/** One run of text between tags, or a tag. */
export type TemplatePiece = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'tag'; readonly tag: TagName };

/**
 * Fills the slots and splits the result at tags. The boundary rule: whitespace touching a tag
 * is dropped, and each text run is later tokenized on its own, as if it began a text. A tag
 * is therefore a word boundary, and the words after it are tokenized the same way whatever
 * the tag's name (with SentencePiece, the run gets its usual leading "▁"). This is how the
 * paper's code behaved: its tags were added special tokens, which the tokenizer of the day
 * split out with the spaces around them stripped. Empty runs are dropped. One consequence:
 * punctuation right after a tag is encoded as a word of its own ("<SMILES>." gives "▁."), so
 * templates put a word or a space-separated input after a tag, never bare punctuation.
 */
export function fillTemplate(template: Template, values: SlotValues): TemplatePiece[] {
  const missing = template.slots.filter((s) => typeof values[s] !== 'string');
  if (missing.length > 0) {
    throw new UsageError(`template "${template.text}" needs ${missing.map((s) => `{${s}}`).join(', ')}; got ${Object.keys(values).map((s) => `{${s}}`).join(', ') || 'no inputs'}`);
  }
  const pieces: TemplatePiece[] = [];
  let run = '';
  const flush = () => {
    const text = run.trim();
    if (text.length > 0) pieces.push({ kind: 'text', text });
    run = '';
  };
  for (const segment of template.segments) {
    if (segment.kind === 'tag') {
      flush();
      pieces.push({ kind: 'tag', tag: segment.tag });
    } else {
      run += segment.kind === 'text' ? segment.text : values[segment.slot];
    }
  }
  flush();
  return pieces;
}

/** What a parameterised template needs to know about its function tag. */
export interface FunctionTagSpec {
  readonly tag: TagName;
  /** What the tag predicts, as it reads in a sentence: "quantitative estimate of druglikeness score". */
  readonly description: string;
}

interface NamedTemplate {
  readonly summary: string;
  /** `$FUNCTION` and `$DESCRIPTION` are replaced from a FunctionTagSpec. */
  readonly text: string;
  /** The paper's function tag for this task, used when none is given; absent for domain-only templates. */
  readonly defaultFunction?: FunctionTagSpec;
}

const fn = (tag: string, description: string): FunctionTagSpec => ({ tag: tag as TagName, description });

// Wording follows the paper's released code (sjunhongshen/Tag-LLM get_data.py, TDCdata.py),
// minus its "# #" markdown prefixes and the ground-truth "<output>" it appended after the
// function tag, which a causal model never sees from the read position anyway.
const MOLECULE_PROPERTY = 'Input: The SMILES of the molecule is <SMILES> {smiles}. Output: the $DESCRIPTION is $FUNCTION';
const PROTEIN_PROPERTY = 'Input: The protein sequence is <Protein> {seq}. Output: The $DESCRIPTION is $FUNCTION';
const BINDING = 'Input: The protein sequence is <Protein> {seq}. The SMILES of the drug is <SMILES> {smiles}. Output: The $DESCRIPTION is $FUNCTION';
const DRUG_PAIR = 'Input: Drug 1 has the SMILES <SMILES> {smiles1}. Drug 2 has the SMILES <SMILES> {smiles2}. Output: The $DESCRIPTION is $FUNCTION';

export const NAMED_TEMPLATES: Readonly<Record<string, NamedTemplate>> = {
  'molecule-property': { summary: 'SMILES {smiles} -> a function tag (default <QED>)', text: MOLECULE_PROPERTY, defaultFunction: fn('<QED>', 'quantitative estimate of druglikeness score') },
  'protein-property': { summary: 'protein sequence {seq} -> a function tag (default <Descriptor>)', text: PROTEIN_PROPERTY, defaultFunction: fn('<Descriptor>', 'descriptor value') },
  'binding-affinity': { summary: 'protein {seq} + drug {smiles} -> a function tag (default <BA>)', text: BINDING, defaultFunction: fn('<BA>', 'binding affinity') },
  'drug-synergy': { summary: 'two SMILES {smiles1}, {smiles2} -> a function tag (default <DC>)', text: DRUG_PAIR, defaultFunction: fn('<DC>', 'drug combination sensitivity score') },
  'smiles-domain': { summary: 'stage 1: <SMILES> {text}', text: '<SMILES> {text}' },
  'protein-domain': { summary: 'stage 1: <Protein> {text}', text: '<Protein> {text}' },
};

/**
 * A template given by NAME (one of NAMED_TEMPLATES) or as TEXT. Named task templates take
 * their function tag from `functionTag`, else the paper's tag for that task; TEXT is used as
 * written, and its last tag is the function tag.
 */
export function resolveTemplate(nameOrText: string, functionTag?: FunctionTagSpec): Template {
  const named = Object.hasOwn(NAMED_TEMPLATES, nameOrText) ? NAMED_TEMPLATES[nameOrText] : undefined;
  if (!named) {
    if (!/[<{]/.test(nameOrText)) {
      throw new UsageError(`unknown template "${nameOrText}"; use one of ${Object.keys(NAMED_TEMPLATES).join(', ')}, or write the template text with tags such as <SMILES> and slots such as {smiles}`);
    }
    return parseTemplate(nameOrText);
  }
  const spec = functionTag ?? named.defaultFunction;
  if (!spec) return parseTemplate(named.text);
  return parseTemplate(named.text.replace('$DESCRIPTION', spec.description).replace('$FUNCTION', spec.tag));
}

/** The last tag in the template: where a function tag sits, and so where a head reads. */
export function lastTag(template: Template): TagName {
  for (let i = template.segments.length - 1; i >= 0; i--) {
    const s = template.segments[i];
    if (s.kind === 'tag') return s.tag;
  }
  throw new UsageError(`template "${template.text}" has no tag`);
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/**
 * The slot a text-output function tag writes: the template's last segment, a slot right
 * after its last tag with only whitespace between (`Input: <EN> {en} Output: <DE> <Translate> {de}`,
 * the paper's placement). Undefined for regression and domain templates. The slot must not
 * also be an input, or the answer would be in the prompt.
 */
export function outputSlot(template: Template): string | undefined {
  const meaningful = template.segments.filter((s) => s.kind !== 'text' || s.text.trim() !== '');
  const [beforeLast, last] = meaningful.slice(-2);
  if (last?.kind !== 'slot' || beforeLast?.kind !== 'tag') return undefined;
  const uses = template.segments.filter((s) => s.kind === 'slot' && s.slot === last.slot).length;
  if (uses > 1) throw new UsageError(`template "${template.text}" uses its output slot {${last.slot}} also as an input`);
  return last.slot;
}

/** What a text-output tag continues from: the template up to its output slot, so it ends with the function tag. */
export function promptTemplate(template: Template): Template {
  const slot = outputSlot(template);
  if (slot === undefined) return template;
  return parseTemplate(template.text.slice(0, template.text.lastIndexOf(`{${slot}}`)).trimEnd());
}

/**
 * The segments whose expansion is the same for every input: those up to the last tag before
 * the first slot. Text just before a slot is not part of it, since it is tokenized together
 * with the slot's value.
 */
export function constantPrefixSegments(template: Template): number {
  const firstSlot = template.segments.findIndex((s) => s.kind === 'slot');
  const end = firstSlot < 0 ? template.segments.length : firstSlot;
  for (let i = end - 1; i >= 0; i--) if (template.segments[i].kind === 'tag') return i + 1;
  return 0;
}

/**
 * Plain text with slots filled (the untagged baselines' prompts): `{slot}` placeholders only;
 * a tag in it is an error, since the untagged model has none.
 */
export function fillPlainText(text: string, values: SlotValues): string {
  const tag = text.match(/<[A-Za-z][A-Za-z0-9_-]{0,63}>/);
  if (tag && isTagName(tag[0])) throw new UsageError(`plain prompt "${text}" contains the tag ${tag[0]}`);
  return text.replace(/\{([a-z][a-z0-9_]*)\}/g, (_, slot: string) => {
    const value = values[slot];
    if (typeof value !== 'string') throw new UsageError(`plain prompt "${text}" needs {${slot}}`);
    return value;
  });
}
