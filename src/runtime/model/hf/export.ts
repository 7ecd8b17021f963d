// LoadedModel -> a Hugging Face folder that transformers (and loadHfFolder) can load:
// config.json, model.safetensors (float32, Hugging Face names and q/k layout),
// tokenizer.json, tokenizer_config.json and generation_config.json. The folder is built under
// a temporary name beside the target and renamed into place, so it appears complete or not at all.
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors';
import { writeFolderAtomic } from '../../fs/atomicWrite';
import { Tokenizer, type TokenId } from '../../tokenizer/tokenizer';
import type { LoadedModel } from '../description';
import { writeSafetensors } from '../safetensors/write';
import { hfConfigJsonText, toHfConfigJson } from './config';

export async function exportHfFolder(model: LoadedModel, outDir: string): Promise<void> {
  const target = resolve(outDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new UsageError('output folder already exists and is not empty; remove it or choose another', outDir);
  }
  await writeFolderAtomic(target, async (tmp) => {
    const { bos, eos } = model.specialTokens;
    const json = (name: string, doc: unknown) => writeFile(join(tmp, name), JSON.stringify(doc, null, 2) + '\n');
    await writeFile(join(tmp, 'config.json'), hfConfigJsonText(toHfConfigJson(model.config, { bos, eos })));
    await json('generation_config.json', { bos_token_id: bos ?? null, eos_token_id: eos ?? null });
    await json('tokenizer.json', model.tokenizerJson);
    await json('tokenizer_config.json', tokenizerConfig(model));
    // transformers refuses safetensors files whose metadata does not say which framework wrote them.
    await writeSafetensors(join(tmp, 'model.safetensors'), model.weights, { format: 'pt' });
  });
}

function tokenizerConfig(model: LoadedModel): Record<string, unknown> {
  const tokenizer = Tokenizer.forModel(model);
  const tokenText = (id: number | undefined) => (id === undefined ? null : (tokenizer.idToToken(id as TokenId) ?? null));
  const unk = (model.tokenizerJson.model as { unk_token?: unknown } | undefined)?.unk_token;
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: tokenText(model.specialTokens.bos),
    eos_token: tokenText(model.specialTokens.eos),
    unk_token: typeof unk === 'string' ? unk : null,
    add_bos_token: model.specialTokens.addBos,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: model.config.maxPositionEmbeddings,
  };
}
