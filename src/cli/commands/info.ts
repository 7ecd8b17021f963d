// `tagllm info --model PATH [--json]`: what a model is, without running it.
import type { CliCommand } from '../command';
import { statSync } from 'node:fs';
import { loadModel, localModelPath } from '../../runtime/model/load';
import { modelSpecOf, reportDownload } from '../modelArgument';
import { summarizeGguf, summarizeLoaded, type ModelSummary } from '../../runtime/model/summary';
import { ESTIMATE_CONTEXT_TOKENS, formatGigabytes } from '../../runtime/model/memoryEstimate';
import { escapeControl } from '../../runtime/safeText';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'Show a model\'s architecture, parameter count, shapes and tokenizer',
  help: [
    'Usage: tagllm info --model PATH [--json]',
    '',
    '  --model PATH  a GGUF file, a Hugging Face folder, or a Hugging Face repo id / URL to download\n                (default: $TAGLLM_MODEL, else the default model)',
    '  --json        print one JSON object instead of text',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, signal) {
    const path = await localModelPath(modelSpecOf(args), { signal, onProgress: reportDownload });
    const summary = statSync(path).isFile() ? summarizeGguf(path) : summarizeLoaded(await loadModel(path, { signal }));
    process.stdout.write(args.values.json ? JSON.stringify(summaryJson(summary)) + '\n' : summaryText(summary));
  },
};

function summaryJson(s: ModelSummary): Record<string, unknown> {
  const c = s.config;
  return {
    path: s.source.path,
    format: s.source.format,
    architecture: c.architecture,
    parameters: s.parameters,
    layers: c.numLayers,
    hiddenSize: c.hiddenSize,
    intermediateSize: c.intermediateSize,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    vocabSize: c.vocabSize,
    tokenizer: s.tokenizer,
    contextLength: c.maxPositionEmbeddings,
    ropeTheta: c.ropeTheta,
    ropeScaling: c.ropeScaling ?? null,
    tiedEmbeddings: c.tieWordEmbeddings,
    memoryEstimateBytes: s.memoryEstimate?.totalBytes ?? null,
  };
}

function summaryText(s: ModelSummary): string {
  const c = s.config;
  const rows: [string, string][] = [
    ['model', `${s.source.path} (${s.source.format})`],
    ['architecture', c.architecture],
    ['parameters', s.parameters.toLocaleString('en-US')],
    ['layers', String(c.numLayers)],
    ['hidden size', String(c.hiddenSize)],
    ['FFN size', String(c.intermediateSize)],
    ['heads', `${c.numHeads} (${c.numKvHeads} KV heads, head size ${c.headDim})`],
    ['vocab', String(c.vocabSize)],
    ['tokenizer', s.tokenizer],
    ['context', String(c.maxPositionEmbeddings)],
    ['RoPE', `theta ${c.ropeTheta}${c.ropeScaling ? `, ${c.ropeScaling.type} scaling x${c.ropeScaling.factor}` : ''}`],
    ['output head', c.tieWordEmbeddings ? 'tied to the embeddings' : 'separate'],
  ];
  const m = s.memoryEstimate;
  if (m) {
    rows.push(['memory', `about ${formatGigabytes(m.totalBytes)} at peak (weights ${formatGigabytes(m.weightBytes)}, KV cache of ${ESTIMATE_CONTEXT_TOKENS} tokens ${formatGigabytes(m.kvCacheBytes)}, runtime ${formatGigabytes(m.overheadBytes)})`]);
  }
  // the architecture and tokenizer kind are strings from the file
  return rows.map(([k, v]) => `${k.padEnd(13)} ${escapeControl(v)}`).join('\n') + '\n';
}
