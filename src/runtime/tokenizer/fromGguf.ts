// Builds a Hugging Face `tokenizer.json` document from a GGUF file's `tokenizer.ggml.*`
// metadata, so GGUF and Hugging Face models share one tokenizer implementation.
//  - `llama`: SentencePiece BPE. GGUF stores tokens and scores but no merges; the merges are
//    derived from the scores as transformers' GGUF converter does (a merge of l+r ranks by the
//    score of the merged piece), with byte-fallback <0xXX> tokens and a ▁ Metaspace pre-tokenizer.
//  - `gpt2`: byte-level BPE with the merges stored in the file and the pre-tokenizer that
//    `tokenizer.ggml.pre` names (llama.cpp's list of pre-tokenizer regexes).
import { InvalidFileError, UnsupportedError } from '../errors';
import type { GgufMetadata, GgufValue } from '../model/gguf/metadata';

export interface SpecialTokenIds {
  readonly bos?: number;
  readonly eos?: number;
  readonly addBos: boolean;
}

export interface TokenizerFromGguf {
  readonly tokenizerJson: Record<string, unknown>;
  readonly specialTokens: SpecialTokenIds;
}

/** llama.cpp's token types (`tokenizer.ggml.token_type`). */
const enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

const SPIECE_UNDERLINE = '\u2581';
/** GGUF writes "no such token" as -1 stored in a uint32. */
const NO_TOKEN = 0xffffffff;

export function tokenizerFromGgufMetadata(metadata: GgufMetadata, path: string): TokenizerFromGguf {
  const meta = new MetadataReader(metadata, path);
  const kind = meta.string('tokenizer.ggml.model');
  const tokens = meta.stringArray('tokenizer.ggml.tokens');
  const tokenTypes = meta.optionalNumberArray('tokenizer.ggml.token_type', tokens.length);
  const bos = meta.optionalTokenId('tokenizer.ggml.bos_token_id', tokens.length);
  const eos = meta.optionalTokenId('tokenizer.ggml.eos_token_id', tokens.length);
  const declaredAddBos = meta.optionalBoolean('tokenizer.ggml.add_bos_token');

  let model: Record<string, unknown>;
  let pipeline: Pick<HfTokenizerJson, 'normalizer' | 'pre_tokenizer' | 'decoder'>;
  let addBos: boolean;
  switch (kind) {
    case 'llama': {
      const scores = meta.numberArray('tokenizer.ggml.scores', tokens.length);
      const storedMerges = meta.optionalStringArray('tokenizer.ggml.merges');
      const unk = meta.optionalTokenId('tokenizer.ggml.unknown_token_id', tokens.length);
      const merges = storedMerges ? splitMerges(storedMerges, path) : mergesFromScores(tokens, scores);
      model = bpeModel(tokens, merges, { unk: unk === undefined ? null : tokens[unk], byteFallback: true, ignoreMerges: false });
      pipeline = sentencePiecePipeline(meta.optionalBoolean('tokenizer.ggml.add_space_prefix') ?? true);
      // llama.cpp prepends BOS for SentencePiece models unless the file says otherwise.
      addBos = declaredAddBos ?? true;
      break;
    }
    case 'gpt2': {
      const merges = splitMerges(meta.stringArray('tokenizer.ggml.merges'), path);
      const pre = byteLevelPreTokenizer(meta.optionalString('tokenizer.ggml.pre') ?? 'gpt-2', path);
      model = bpeModel(tokens, merges, { unk: null, byteFallback: false, ignoreMerges: pre.ignoreMerges });
      pipeline = byteLevelPipeline(pre.preTokenizer);
      addBos = declaredAddBos ?? false;
      break;
    }
    default:
      throw new UnsupportedError(`tokenizer model "${kind}" is not supported (only "llama" and "gpt2")`, path);
  }

  let postProcessor: Record<string, unknown> | null = null;
  if (addBos) {
    if (bos === undefined) throw new InvalidFileError('tokenizer adds a BOS token but tokenizer.ggml.bos_token_id is missing', path);
    // Written for transformers and other readers of the exported tokenizer.json; our Tokenizer adds BOS itself.
    postProcessor = bosTemplate(tokens[bos]!, bos);
  }
  const tokenizerJson: HfTokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(tokens, tokenTypes, metadata.get('general.architecture') === 'phi3'),
    ...pipeline,
    post_processor: postProcessor,
    model,
  };
  return { tokenizerJson: tokenizerJson as unknown as Record<string, unknown>, specialTokens: { bos, eos, addBos } };
}

interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: Record<string, unknown>[];
  normalizer: Record<string, unknown> | null;
  pre_tokenizer: Record<string, unknown> | null;
  post_processor: Record<string, unknown> | null;
  decoder: Record<string, unknown> | null;
  model: Record<string, unknown>;
}

type Merge = readonly [string, string];

/**
 * SentencePiece BPE merges, best first: every split of every vocabulary piece into two
 * pieces that are themselves in the vocabulary, ranked by the merged piece's score
 * (ties: the higher-scored halves first, then vocabulary order). Pieces are split by code
 * point, never inside a surrogate pair.
 */
export function mergesFromScores(tokens: readonly string[], scores: readonly number[]): Merge[] {
  const scoreOf = new Map<string, number>();
  tokens.forEach((t, i) => scoreOf.set(t, scores[i]!));
  const candidates: { merge: Merge; score: number }[] = [];
  tokens.forEach((piece, i) => {
    const chars = Array.from(piece);
    const local: Merge[] = [];
    for (let cut = 1; cut < chars.length; cut++) {
      const left = chars.slice(0, cut).join('');
      const right = chars.slice(cut).join('');
      if (scoreOf.has(left) && scoreOf.has(right)) local.push([left, right]);
    }
    local.sort((a, b) => scoreOf.get(b[0])! - scoreOf.get(a[0])! || scoreOf.get(b[1])! - scoreOf.get(a[1])!);
    for (const merge of local) candidates.push({ merge, score: scores[i]! });
  });
  // Array.prototype.sort is stable, so equal scores keep vocabulary order.
  candidates.sort((a, b) => b.score - a.score);
  return candidates.map((c) => c.merge);
}

function splitMerges(merges: readonly string[], path: string): Merge[] {
  return merges.map((m, i) => {
    const space = m.indexOf(' ');
    if (space <= 0 || space === m.length - 1) {
      throw new InvalidFileError(`tokenizer.ggml.merges[${i}] is not "left right": ${JSON.stringify(m)}`, path);
    }
    return [m.slice(0, space), m.slice(space + 1)] as const;
  });
}

function bpeModel(
  tokens: readonly string[],
  merges: readonly Merge[],
  opts: { unk: string | null | undefined; byteFallback: boolean; ignoreMerges: boolean },
): Record<string, unknown> {
  // no prototype: a token named `__proto__` is then an entry like any other, not a setter
  const vocab: Record<string, number> = Object.create(null);
  // Later duplicates must not shadow the first id a token string had.
  tokens.forEach((t, i) => {
    if (!Object.hasOwn(vocab, t)) vocab[t] = i;
  });
  return {
    type: 'BPE',
    dropout: null,
    unk_token: opts.unk ?? null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: opts.byteFallback,
    byte_fallback: opts.byteFallback,
    ignore_merges: opts.ignoreMerges,
    vocab,
    merges,
  };
}

// Phi-3's chat markers and </s> swallow the whitespace after them (its tokenizer.json's rstrip;
// llama.cpp sets the same by name), except these three.
const PHI3_NOT_RSTRIP: ReadonlySet<string> = new Set(['<unk>', '<s>', '<|endoftext|>']);

/** Control tokens are special (never split, skippable in decode); user-defined ones are plain added tokens. */
function addedTokens(tokens: readonly string[], types: readonly number[] | undefined, phi3: boolean): Record<string, unknown>[] {
  if (!types) return [];
  const added: Record<string, unknown>[] = [];
  types.forEach((type, id) => {
    if (type !== TokenType.Control && type !== TokenType.UserDefined) return;
    added.push({
      id,
      content: tokens[id],
      single_word: false,
      lstrip: false,
      rstrip: phi3 && !PHI3_NOT_RSTRIP.has(tokens[id]!),
      normalized: false,
      special: type === TokenType.Control,
    });
  });
  return added;
}

/**
 * SentencePiece's own normalization: a space prepended (add_dummy_prefix) and every space made
 * ▁, over the whole text with no pre-tokenizer split. (A Metaspace pre-tokenizer prepends ▁ only
 * when the text does not already start with a space, which differs from sentencepiece there.)
 */
function sentencePiecePipeline(addSpacePrefix: boolean): Pick<HfTokenizerJson, 'normalizer' | 'pre_tokenizer' | 'decoder'> {
  const decoders: Record<string, unknown>[] = [
    { type: 'Replace', pattern: { String: SPIECE_UNDERLINE }, content: ' ' },
    { type: 'ByteFallback' },
    { type: 'Fuse' },
  ];
  if (addSpacePrefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  const normalizers: Record<string, unknown>[] = [{ type: 'Replace', pattern: { String: ' ' }, content: SPIECE_UNDERLINE }];
  if (addSpacePrefix) normalizers.unshift({ type: 'Prepend', prepend: SPIECE_UNDERLINE });
  return {
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: null,
    decoder: { type: 'Sequence', decoders },
  };
}

const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// ByteLevel with use_regex splits with the GPT-2 regex itself.
const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const isolatedSplit = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

interface ByteLevelPreTokenizer {
  readonly preTokenizer: Record<string, unknown>;
  /** Llama 3: a pre-token that is itself in the vocabulary is one token, whatever the merges say. */
  readonly ignoreMerges: boolean;
}

/** `tokenizer.ggml.pre` names (as llama.cpp's converter writes them) -> the Hugging Face pre-tokenizer they stand for. */
const BYTE_LEVEL_PRE_TOKENIZERS: ReadonlyMap<string, () => ByteLevelPreTokenizer> = new Map<string, () => ByteLevelPreTokenizer>([
  ['gpt-2', () => ({ preTokenizer: byteLevel(true), ignoreMerges: false })],
  ['default', () => ({ preTokenizer: byteLevel(true), ignoreMerges: false })],
  ['llama-bpe', () => ({ preTokenizer: { type: 'Sequence', pretokenizers: [isolatedSplit(LLAMA3_REGEX), byteLevel(false)] }, ignoreMerges: true })],
  ['qwen2', () => ({ preTokenizer: { type: 'Sequence', pretokenizers: [isolatedSplit(QWEN2_REGEX), byteLevel(false)] }, ignoreMerges: false })],
  ['smollm', () => ({ preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] }, ignoreMerges: false })],
]);

function byteLevelPreTokenizer(pre: string, path: string): ByteLevelPreTokenizer {
  const make = BYTE_LEVEL_PRE_TOKENIZERS.get(pre);
  if (!make) {
    throw new UnsupportedError(`tokenizer.ggml.pre "${pre}" is not supported (known: ${[...BYTE_LEVEL_PRE_TOKENIZERS.keys()].join(', ')})`, path);
  }
  return make();
}

function byteLevelPipeline(preTokenizer: Record<string, unknown>): Pick<HfTokenizerJson, 'normalizer' | 'pre_tokenizer' | 'decoder'> {
  return {
    normalizer: null,
    pre_tokenizer: preTokenizer,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  };
}

function bosTemplate(bosToken: string, bosId: number): Record<string, unknown> {
  const bos = { SpecialToken: { id: bosToken, type_id: 0 } };
  return {
    type: 'TemplateProcessing',
    single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bosToken]: { id: bosToken, ids: [bosId], tokens: [bosToken] } },
  };
}

/** Typed, path-carrying access to the few metadata keys a tokenizer needs. */
class MetadataReader {
  constructor(
    private readonly metadata: GgufMetadata,
    private readonly path: string,
  ) {}

  private invalid(key: string, what: string, value: GgufValue | undefined): InvalidFileError {
    const shown = value === undefined ? 'missing' : Array.isArray(value) ? `an array of ${value.length}` : JSON.stringify(String(value));
    return new InvalidFileError(`metadata ${key} should be ${what}, got ${shown}`, this.path);
  }

  optionalString(key: string): string | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.invalid(key, 'a string', v);
    return v;
  }

  string(key: string): string {
    const v = this.optionalString(key);
    if (v === undefined) throw this.invalid(key, 'a string', v);
    return v;
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.invalid(key, 'a boolean', v);
    return v;
  }

  optionalStringArray(key: string): readonly string[] | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw this.invalid(key, 'an array of strings', v);
    return v as readonly string[];
  }

  stringArray(key: string): readonly string[] {
    const v = this.optionalStringArray(key);
    if (v === undefined || v.length === 0) throw this.invalid(key, 'a non-empty array of strings', v);
    return v;
  }

  optionalNumberArray(key: string, length: number): readonly number[] | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number')) {
      throw this.invalid(key, `an array of ${length} numbers (one per token)`, v);
    }
    return v as readonly number[];
  }

  numberArray(key: string, length: number): readonly number[] {
    const v = this.optionalNumberArray(key, length);
    if (v === undefined) throw this.invalid(key, `an array of ${length} numbers (one per token)`, v);
    return v;
  }

  optionalTokenId(key: string, vocabSize: number): number | undefined {
    const raw = this.metadata.get(key);
    if (raw === undefined) return undefined;
    const v = typeof raw === 'bigint' ? Number(raw) : raw;
    if (v === NO_TOKEN || v === -1) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocabSize) {
      throw this.invalid(key, `a token id below ${vocabSize}`, raw);
    }
    return v;
  }
}
