// BOS/EOS ids and whether BOS is prepended, for a Hugging Face folder. transformers takes the
// token strings and `add_bos_token` from tokenizer_config.json when they are there; otherwise
// what tokenizer.json's post-processor inserts decides, and config.json supplies the ids.
import type { LoadedModel } from '../description';

type SpecialTokens = LoadedModel['specialTokens'];

export function hfSpecialTokens(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown> | undefined,
  config: Record<string, unknown>,
): SpecialTokens {
  const idOf = tokenIdLookup(tokenizerJson);
  const fromConfig = (key: string) => {
    const v = config[key];
    const id = Array.isArray(v) ? v[0] : v; // Llama 3 lists several EOS ids; the first is the main one.
    return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : undefined;
  };
  const bos = idOf(tokenContent(tokenizerConfig?.bos_token)) ?? fromConfig('bos_token_id');
  const eos = idOf(tokenContent(tokenizerConfig?.eos_token)) ?? fromConfig('eos_token_id');
  const declared = tokenizerConfig?.add_bos_token;
  const addBos = typeof declared === 'boolean' ? declared : bos !== undefined && postProcessorPrepends(tokenizerJson.post_processor, bos);
  return { bos, eos, addBos: addBos && bos !== undefined };
}

/** tokenizer_config.json writes special tokens as a string or as an AddedToken object. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function tokenIdLookup(tokenizerJson: Record<string, unknown>): (token: string | undefined) => number | undefined {
  const ids = new Map<string, number>();
  const vocab = (tokenizerJson.model as { vocab?: unknown } | undefined)?.vocab;
  if (typeof vocab === 'object' && vocab !== null && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab)) if (typeof id === 'number') ids.set(token, id);
  }
  for (const added of (tokenizerJson.added_tokens as { id?: unknown; content?: unknown }[] | undefined) ?? []) {
    if (typeof added.content === 'string' && typeof added.id === 'number') ids.set(added.content, added.id);
  }
  return (token) => (token === undefined ? undefined : ids.get(token));
}

/** Does the post-processor (TemplateProcessing, possibly inside a Sequence) put `bos` before the text? */
function postProcessorPrepends(processor: unknown, bos: number): boolean {
  if (typeof processor !== 'object' || processor === null) return false;
  const p = processor as { type?: unknown; processors?: unknown; single?: unknown; special_tokens?: unknown };
  if (p.type === 'Sequence' && Array.isArray(p.processors)) return p.processors.some((q) => postProcessorPrepends(q, bos));
  if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return false;
  const first = p.single[0] as { SpecialToken?: { id?: unknown } } | undefined;
  const name = first?.SpecialToken?.id;
  if (typeof name !== 'string') return false;
  const table = p.special_tokens as Record<string, { ids?: unknown }> | undefined;
  const entry = table && Object.hasOwn(table, name) ? table[name] : undefined;
  return Array.isArray(entry?.ids) && entry.ids[0] === bos;
}
