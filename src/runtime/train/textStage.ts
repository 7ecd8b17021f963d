// Text-output function tags (stage 2, or stage 3 with the domain tags frozen): a function tag
// learned by next-token likelihood on the output tokens only, in the paper's placement
// `Input: <EN> {en} Output: <DE> <Translate> {de}` (the function tag ends the input and the
// output follows it). Several templates train one tag together (<Translate> on en→de and
// en→fr), each reading and writing the columns its slots name. The output is followed by
// EOS, so a trained tag also learns where to stop. Evaluation generates for the test rows
// and scores chrF and BLEU beside the same model with no tags: a plain instruction, and the
// instruction with k solved examples before it.
import { basename } from 'node:path';
import { UsageError } from '../errors';
import { randomSplit } from '../data/split';
import type { SamplingOptions } from '../generate';
import { createTextGenerator, generateUntagged } from '../generateText';
import type { LoadedModel } from '../model/description';
import { makeTagBundle, type TagBundle, type TagEntry } from '../tags/bundle';
import { saveTagBundle } from '../tags/bundleFiles';
import { appendTokens, expandInput, modelExpansionContext } from '../tags/expand';
import { modelFingerprint } from '../tags/fingerprint';
import type { TagName, TagValue } from '../tags/name';
import { fillPlainText, lastTag, outputSlot, parseTemplate, type SlotValues, type Template } from '../tags/template';
import { Tokenizer } from '../tokenizer/tokenizer';
import { checkpointFolderFor } from './checkpoint';
import { ExpandedExamples, nextTokenNll, nextTokenObjective, tagParameter } from './objectives';
import { SeededRng } from './rng';
import { DEFAULT_BATCH, DEFAULT_LR, DEFAULT_MICRO_BATCH, DEFAULT_P, DEFAULT_SPLIT_FRACTION, setUpTags, type RunReport, type StageOptions } from './stages';
import { bleu, chrF } from './textMetrics';
import { trainParameters, type TrainResult } from './trainer';

export const DEFAULT_FEW_SHOT = 3;
/** Enough for a Multi30k caption in German, French or Czech on a 512-token vocabulary. */
export const DEFAULT_MAX_NEW_TOKENS = 96;

export interface TextTask {
  /** TEXT ending with the output slot after the function tag. */
  readonly template: string;
  /**
   * The untagged baselines' prompt: plain text with the same input slots ("Translate English
   * to German: {en} German:"). Default: the template's text with its tags left out.
   */
  readonly instruction?: string;
}

/** The training settings are StageOptions' (stages.ts); the data is rows, and the tasks are templates. */
export interface TextStageOptions
  extends Pick<StageOptions, 'model' | 'backend' | 'startBundles' | 'p' | 'lr' | 'steps' | 'epochs' | 'batchSize' | 'microBatch' | 'seed' | 'evalEvery' | 'patience' | 'out' | 'signal' | 'onProgress' | 'onMessage'> {
  readonly stage: 'function' | 'cross';
  /** The data's rows by column name. */
  readonly rows: readonly SlotValues[];
  /** The data's name, kept in the bundle's training summary. */
  readonly dataName: string;
  readonly tasks: readonly TextTask[];
  /** Tags that stay fixed. Default: none in stage function, the domain tags in stage cross. */
  readonly freeze?: readonly TagName[];
  /** Test and validation share each of a seeded random split of the rows. */
  readonly splitFraction?: number;
  /** Score at most this many test rows per task (the first of the split); 0 skips scoring. */
  readonly testRows?: number;
  readonly maxNewTokens?: number;
  /** Solved examples in the few-shot baseline (default 3). */
  readonly fewShot?: number;
  readonly baselines?: boolean;
}

export interface TextScores {
  readonly chrf: number;
  readonly bleu: number;
}

export interface TextTaskReport {
  readonly template: string;
  readonly test: TextScores;
  /** instruction, few_shot_K. */
  readonly baselines: Readonly<Record<string, TextScores>>;
  /** The first few test rows: reference and output. */
  readonly samples: readonly { readonly reference: string; readonly output: string }[];
}

export interface TextStageReport extends RunReport {
  readonly stage: 'function' | 'cross';
  readonly tasks: readonly TextTaskReport[];
}

interface ParsedTask {
  readonly template: Template;
  readonly output: string;
  readonly instruction: string;
}

function parseTask(task: TextTask): ParsedTask {
  const template = parseTemplate(task.template);
  const output = outputSlot(template);
  if (output === undefined) throw new UsageError(`template "${task.template}" has no output slot; end it with the function tag and the slot it writes, e.g. "<Translate> {de}"`);
  return { template, output, instruction: task.instruction ?? untaggedInstruction(template, output) };
}

/** The template's text without its tags and output slot: the prompt the model gets with no tags. */
export function untaggedInstruction(template: Template, output: string): string {
  const text = template.segments.map((s) => (s.kind === 'text' ? s.text : s.kind === 'slot' ? (s.slot === output ? '' : `{${s.slot}}`) : ' ')).join('');
  return text.replace(/\s+/g, ' ').trim();
}

/** Whether `row` fills every slot of the task (inputs and output) with text. */
function fills(task: ParsedTask, row: SlotValues): boolean {
  return task.template.slots.every((s) => typeof row[s] === 'string' && row[s].trim() !== '');
}

export async function runTextStage(options: TextStageOptions): Promise<TextStageReport> {
  const started = Date.now();
  const say = options.onMessage ?? (() => undefined);
  const seed = options.seed ?? 0;
  const { model, backend, stage } = options;
  if (options.tasks.length === 0) throw new UsageError('give at least one template with an output slot');
  const tasks = options.tasks.map(parseTask);
  const functionTag = lastTag(tasks[0].template);
  for (const t of tasks) if (lastTag(t.template) !== functionTag) throw new UsageError(`templates end with different function tags (${functionTag}, ${lastTag(t.template)}); one run learns one`);
  const tagNames = [...new Set(tasks.flatMap((t) => t.template.tags))];
  const domains = tagNames.filter((t) => t !== functionTag);

  const split = randomSplit(options.rows.length, options.splitFraction ?? DEFAULT_SPLIT_FRACTION, seed);
  const tokenizer = Tokenizer.forModel(model);
  const eos = model.specialTokens.eos;
  if (eos === undefined) throw new UsageError('the model names no EOS token, so a text-output tag could not learn to stop', model.source.path);
  const p = options.p ?? DEFAULT_P;
  const values = new Map<TagName, TagValue>();
  const context = modelExpansionContext(model, tokenizer, (t) => values.get(t)!);
  const setup = await setUpTags({ model, startBundles: options.startBundles, p: options.p, functionTag }, tagNames, p, context);
  for (const [k, v] of setup.values) values.set(k, v);
  const frozen = new Set(options.freeze ?? (stage === 'cross' ? domains : []));
  const trainable = new Set(tagNames.filter((t) => !frozen.has(t)));
  if (!trainable.has(functionTag)) throw new UsageError(`the function tag ${functionTag} is frozen; nothing would learn the output`);

  // every (task, row) pair whose row fills the task's slots: training and validation items
  const items = (rows: readonly number[]) => tasks.flatMap((task, k) => rows.filter((i) => fills(task, options.rows[i])).map((i) => ({ task: k, row: i })));
  const trainItems = items(split.train);
  const validItems = items(split.valid);
  const all = [...trainItems, ...validItems];
  if (trainItems.length === 0) throw new UsageError(`no training row fills the templates' slots (${[...new Set(tasks.flatMap((t) => t.template.slots))].join(', ')})`, options.dataName);
  const examples = new ExpandedExamples(
    all.length,
    (i) => appendTokens(expandInput(tasks[all[i].task].template, options.rows[all[i].row], context, functionTag), [eos], context.embedding),
    values,
  );
  const train = trainItems.map((_, i) => i);
  const valid = validItems.map((_, i) => trainItems.length + i);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const microBatch = Math.min(options.microBatch ?? DEFAULT_MICRO_BATCH, batchSize);
  const evalBatch = Math.max(microBatch, 16);
  const params = new Map<string, Float32Array>();
  for (const t of trainable) params.set(tagParameter(t), values.get(t)!.data);

  const writtenTags = tagNames.filter((t) => trainable.has(t) || !setup.loaded.has(t));
  const lr = options.lr ?? DEFAULT_LR;
  const bundleOf = (names: readonly TagName[], metrics?: Record<string, number>): TagBundle =>
    makeTagBundle(
      modelFingerprint(model),
      names.map((name): TagEntry => {
        const training = { stage, data: basename(options.dataName), n_train: trainItems.length, seed, lr };
        if (name !== functionTag) return { name, kind: 'domain', description: `${name.slice(1, -1)} domain`, value: values.get(name)!, training };
        return { name, kind: 'function', output: 'text', description: `${name.slice(1, -1)} (text output)`, template: tasks[0].template.text, value: values.get(name)!, training, ...(metrics && { metrics }) };
      }),
    );

  const nBatchesPerEpoch = Math.max(1, Math.ceil(train.length / batchSize));
  const steps = options.steps ?? Math.ceil((options.epochs ?? 1) * nBatchesPerEpoch);
  let result: TrainResult = { steps: 0, stoppedBy: 'steps', bestStep: 0, history: [], examplesSeen: 0 };
  if (steps > 0) {
    say(`training ${[...trainable].join(', ')} on ${train.length} outputs of ${tasks.length} template(s) for up to ${steps} steps`);
    const objective = nextTokenObjective({ backend, examples, train, valid, trainableTags: trainable, evalBatch });
    result = await trainParameters(params, objective, {
      lr, steps, batchSize, microBatch, seed, evalEvery: options.evalEvery ?? Math.max(1, Math.round(steps / 10)), patience: options.patience ?? 3,
      checkpointEvery: Math.max(1, Math.floor(steps / 10)), ...(options.out && { checkpointDir: checkpointFolderFor(options.out) }),
      signal: options.signal, onProgress: options.onProgress, toBundle: () => bundleOf(writtenTags),
    });
  }
  const validLoss = valid.length > 0 && steps === 0 ? await nextTokenNll(backend, examples, valid, evalBatch) : undefined;

  const trained = { path: options.out ?? '(this run)', bundle: bundleOf(tagNames) };
  const reports: TextTaskReport[] = [];
  if (options.testRows !== 0) say('generating for the test rows');
  for (const task of options.testRows === 0 ? [] : tasks) {
    const test = split.test.filter((i) => fills(task, options.rows[i])).slice(0, options.testRows);
    const pool = split.train.filter((i) => fills(task, options.rows[i])).map((i) => options.rows[i]);
    reports.push(
      await scoreTextTask({
        model, bundles: [trained], template: task.template.text, instruction: task.instruction, rows: test.map((i) => options.rows[i]), fewShotPool: pool,
        fewShot: options.baselines === false ? 0 : options.fewShot ?? DEFAULT_FEW_SHOT, instructionBaseline: options.baselines !== false, maxNewTokens: options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS, seed, signal: options.signal,
      }),
    );
  }
  if (options.out) {
    const metrics = Object.fromEntries(reports.flatMap((r, k) => [[`chrf_${k}`, r.test.chrf], [`bleu_${k}`, r.test.bleu]]));
    await saveTagBundle(options.out, bundleOf(writtenTags, metrics));
  }
  return {
    task: `${functionTag} text`,
    stage,
    n_train: trainItems.length,
    n_valid: validItems.length,
    n_test: split.test.length,
    tasks: reports,
    steps: result.steps,
    stopped_by: result.stoppedBy,
    best_step: result.bestStep,
    valid_loss_start: result.startValidationLoss ?? validLoss ?? null,
    valid_loss_best: result.bestValidationLoss ?? null,
    provider: backend.provider,
    ...(options.out && { out: options.out }),
    wall_s: (Date.now() - started) / 1000,
  };
}

export interface ScoreTextOptions {
  readonly model: LoadedModel;
  readonly bundles: Parameters<typeof createTextGenerator>[0]['bundles'];
  /** TEXT ending with the output slot; its tags may come from several bundles (zero-shot composition). */
  readonly template: string;
  /** The untagged prompt (default: the template without its tags). */
  readonly instruction?: string;
  /** Rows to translate; each fills the template's slots, the output slot holding the reference. */
  readonly rows: readonly SlotValues[];
  /** Rows the few-shot baseline's examples are drawn from (seeded). */
  readonly fewShotPool: readonly SlotValues[];
  /** Solved examples in the few-shot baseline; 0 skips it. */
  readonly fewShot: number;
  /** Whether to score the plain instruction baseline. */
  readonly instructionBaseline: boolean;
  readonly maxNewTokens: number;
  /** Decode every method by sampling with these settings (default greedy). */
  readonly sampling?: SamplingOptions;
  readonly seed: number;
  readonly signal?: AbortSignal;
}

/** A translation is one line: everything after the first line break is the model rambling on. */
export function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/** Outputs of the tagged template and of the untagged baselines for `rows`, decoded alike, scored against the rows' outputs. */
export async function scoreTextTask(o: ScoreTextOptions): Promise<TextTaskReport> {
  const task = parseTask({ template: o.template, ...(o.instruction !== undefined && { instruction: o.instruction }) });
  const references = o.rows.map((r) => r[task.output]);
  const scores = (outputs: readonly string[]): TextScores => ({ chrf: chrF(outputs, references), bleu: bleu(outputs, references) });
  const generator = await createTextGenerator({ model: o.model, bundles: o.bundles });
  const decoding = { maxNewTokens: o.maxNewTokens, signal: o.signal, ...(o.sampling && { sampling: o.sampling }) };
  const tagged = (await generator.generate(o.rows, { template: o.template, ...decoding })).map((g) => firstLine(g.text));
  const baselines: Record<string, TextScores> = {};
  const plain = (row: SlotValues) => fillPlainText(task.instruction, row);
  if (o.instructionBaseline) {
    baselines.instruction = scores((await generateUntagged(o.model, o.rows.map(plain), decoding)).map(firstLine));
  }
  if (o.fewShot > 0 && o.fewShotPool.length >= o.fewShot) {
    const shots = new SeededRng(o.seed ^ 0xf3).permutation(o.fewShotPool.length).slice(0, o.fewShot).map((i) => o.fewShotPool[i]);
    const solved = shots.map((row) => `${plain(row)} ${row[task.output]}`).join('\n');
    const prompts = o.rows.map((row) => `${solved}\n${plain(row)}`);
    baselines[`few_shot_${o.fewShot}`] = scores((await generateUntagged(o.model, prompts, decoding)).map(firstLine));
  }
  return { template: o.template, test: scores(tagged), baselines, samples: tagged.slice(0, 3).map((output, k) => ({ reference: references[k], output })) };
}
