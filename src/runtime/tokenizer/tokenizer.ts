// Text <-> token ids for a loaded model: a thin layer over `@huggingface/tokenizers`, fed the
// model's `tokenizer.json` document (read from a Hugging Face folder, or built from GGUF
// metadata). BOS follows the model's metadata (`LoadedModel.specialTokens`), not the
// document's post-processor, so GGUF and Hugging Face models behave the same.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { LoadedModel } from '../model/description';
import { InvalidFileError } from '../errors';
import { escapeControl } from '../safeText';

/**
 * The library throws plain errors (or TypeErrors from deep inside) for a tokenizer.json it cannot
 * use, at construction or at the first encode; one probe encode and decode turns both into an
 * InvalidFileError here, before any real text meets it.
 */
function loadHfTokenizer(tokenizerJson: Record<string, unknown>): HfTokenizer {
  try {
    const hf = new HfTokenizer(tokenizerJson, { clean_up_tokenization_spaces: false });
    hf.decode(hf.encode('Probe 1 CCO é', { add_special_tokens: false }).ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return hf;
  } catch (error) {
    throw new InvalidFileError(`tokenizer.json cannot be used: ${escapeControl(error instanceof Error ? error.message : String(error))}`);
  }
}

/** An index into the model's vocabulary (an embedding row). */
export type TokenId = number & { readonly __brand: 'TokenId' };

export const asTokenIds = (ids: readonly number[]): TokenId[] => ids as TokenId[];

export interface EncodeOptions {
  /** Prepend BOS. Defaults to the model's own setting. */
  readonly addBos?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, chat markers). Defaults to false, as in Hugging Face `decode`. */
  readonly skipSpecialTokens?: boolean;
}

export class Tokenizer {
  readonly bos: TokenId | undefined;
  readonly eos: TokenId | undefined;
  /** Whether `encode` prepends BOS unless told otherwise. */
  readonly addBos: boolean;
  /** One more than the largest token id the tokenizer knows (added tokens included). */
  readonly vocabSize: number;
  private readonly hf: HfTokenizer;

  constructor(tokenizerJson: Record<string, unknown>, specialTokens: LoadedModel['specialTokens']) {
    // Decoding must round-trip text exactly, so the library's English-only space clean-up stays off.
    this.hf = loadHfTokenizer(withUnicodeDigits(tokenizerJson));
    this.bos = specialTokens.bos as TokenId | undefined;
    this.eos = specialTokens.eos as TokenId | undefined;
    this.addBos = specialTokens.addBos;
    let maxId = -1;
    for (const id of this.hf.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
  }

  static forModel(model: Pick<LoadedModel, 'tokenizerJson' | 'specialTokens'>): Tokenizer {
    return new Tokenizer(model.tokenizerJson, model.specialTokens);
  }

  encode(text: string, options: EncodeOptions = {}): TokenId[] {
    const ids = this.hf.encode(text, { add_special_tokens: false }).ids as TokenId[];
    const addBos = options.addBos ?? this.addBos;
    if (addBos && this.bos === undefined) throw new Error('this tokenizer has no BOS token to add');
    return addBos ? [this.bos!, ...ids] : ids;
  }

  decode(ids: readonly TokenId[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  tokenToId(token: string): TokenId | undefined {
    return this.hf.token_to_id(token) as TokenId | undefined;
  }

  idToToken(id: TokenId): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** A decoder for streaming generation: feed it one id at a time, get the new text. */
  streamDecoder(options: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder(this, options);
  }
}

/**
 * The Rust `tokenizers` library (which transformers and the model's authors ran) splits every
 * Unicode number (½, ², ٣) in its Digits pre-tokenizer; the JavaScript port only ASCII digits.
 * Digits is given to the port as the isolated Split it stands for.
 */
function withUnicodeDigits(tokenizerJson: Record<string, unknown>): Record<string, unknown> {
  const rewrite = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    const n = node as Record<string, unknown>;
    if (n.type === 'Digits') return { type: 'Split', pattern: { Regex: n.individual_digits ? '\\p{N}' : '\\p{N}+' }, behavior: 'Isolated', invert: false };
    if (n.type === 'Sequence' && Array.isArray(n.pretokenizers)) return { ...n, pretokenizers: n.pretokenizers.map(rewrite) };
    return node;
  };
  const pre = tokenizerJson.pre_tokenizer;
  const rewritten = rewrite(pre);
  return rewritten === pre ? tokenizerJson : { ...tokenizerJson, pre_tokenizer: rewritten };
}

/**
 * Incremental decode. Each new id decodes together with a short window of the previous ones
 * (decoders such as SentencePiece's leading-space strip or byte fallback depend on neighbours),
 * and the text is held back while it ends in an incomplete UTF-8 sequence (U+FFFD).
 */
export class StreamDecoder {
  private readonly ids: TokenId[] = [];
  private prefixStart = 0;
  private readStart = 0;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions,
  ) {}

  /** Adds one token; returns the text it completes (often '', while bytes are pending). */
  push(id: TokenId): string {
    this.ids.push(id);
    const before = this.tokenizer.decode(this.ids.slice(this.prefixStart, this.readStart), this.options);
    const after = this.tokenizer.decode(this.ids.slice(this.prefixStart), this.options);
    if (after.length <= before.length || after.endsWith('\uFFFD')) return '';
    this.prefixStart = this.readStart;
    this.readStart = this.ids.length;
    return after.slice(before.length);
  }

  /** Whatever is still held back (an incomplete byte sequence at the end), as decoded text. */
  flush(): string {
    const before = this.tokenizer.decode(this.ids.slice(this.prefixStart, this.readStart), this.options);
    const after = this.tokenizer.decode(this.ids.slice(this.prefixStart), this.options);
    this.prefixStart = this.readStart = this.ids.length;
    return after.slice(before.length);
  }
}
