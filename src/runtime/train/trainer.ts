// The optimisation loop shared by all three stages. It knows nothing about models: an
// objective turns a micro-batch of training-example indices into a mean loss and gradients
// keyed by parameter name, and gives a validation loss. The loop draws examples in seeded
// epoch order, accumulates micro-batches to the effective batch, steps AdamW on the cosine
// schedule with warm-up, stops early when validation stops improving (restoring the best
// parameters; the starting parameters are validated too and count as step 0, so a run never
// ends worse on validation than where it began), checkpoints every N steps, and resumes from a checkpoint to exactly the
// state an uninterrupted run would have reached.
import { ShapeMismatchError } from '../errors';
import { AdamW, DEFAULT_ADAMW } from './adamw';
import { GradientAccumulator } from './accumulate';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { SeededRng } from './rng';
import { cosineWithWarmup, DEFAULT_WARMUP_FRACTION } from './schedule';
import type { TagBundle } from '../tags/bundle';

/** Parameters by name; the arrays are updated in place. */
export type ParameterMap = ReadonlyMap<string, Float32Array>;

export interface TrainObjective {
  readonly nTrain: number;
  /** Mean loss over the examples `indices`, and its gradient for each trainable parameter. */
  lossAndGradients(indices: readonly number[]): Promise<{ loss: number; gradients: ReadonlyMap<string, Float32Array> }>;
  /** Loss on the validation split, or undefined when there is none. */
  validationLoss(): Promise<number | undefined>;
}

export interface TrainProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  readonly examplesPerSecond: number;
  readonly validationLoss?: number;
}

export interface TrainerOptions {
  readonly lr: number;
  /** Optimizer steps. */
  readonly steps: number;
  /** Effective batch: examples per optimizer step. */
  readonly batchSize: number;
  /** Examples per forward/backward pass; the effective batch is accumulated from these. */
  readonly microBatch: number;
  readonly seed: number;
  readonly warmupFraction?: number;
  readonly weightDecay?: number;
  /** Learning-rate multiplier per parameter name (default 1). */
  readonly lrScale?: ReadonlyMap<string, number>;
  /** Validate every this many steps (0: only at the end). */
  readonly evalEvery: number;
  /** Stop after this many validations without improvement. */
  readonly patience: number;
  /** Write a checkpoint every this many steps (0: only at the end). */
  readonly checkpointEvery: number;
  readonly checkpointDir?: string;
  /** Continue from the checkpoint in checkpointDir. */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainProgress) => void;
  /** The current parameters as a tag bundle, stored in each checkpoint so it can be loaded directly. */
  readonly toBundle?: (params: ParameterMap) => TagBundle;
}

export type StopReason = 'steps' | 'early-stopping' | 'cancelled';

export interface TrainResult {
  readonly steps: number;
  readonly stoppedBy: StopReason;
  readonly bestStep: number;
  readonly bestValidationLoss?: number;
  /** Validation loss of the parameters the run started from (step 0). */
  readonly startValidationLoss?: number;
  readonly history: readonly { step: number; loss: number; validationLoss?: number }[];
  readonly examplesSeen: number;
}

/** Everything besides tensors that a checkpoint needs to continue exactly. */
interface TrainerState {
  readonly step: number;
  readonly rngState: number;
  readonly order: number[];
  readonly cursor: number;
  readonly bestStep: number;
  readonly bestValidationLoss: number | null;
  readonly startValidationLoss?: number | null;
  readonly evalsWithoutImprovement: number;
  readonly history: { step: number; loss: number; validationLoss?: number }[];
  readonly examplesSeen: number;
  readonly finished: StopReason | null;
}

const MOMENT_M = 'adam.m.';
const MOMENT_V = 'adam.v.';
const PARAM = 'param.';
const BEST = 'best.';

export async function trainParameters(params: ParameterMap, objective: TrainObjective, options: TrainerOptions): Promise<TrainResult> {
  const optimizer = new AdamW({ ...DEFAULT_ADAMW, weightDecay: options.weightDecay ?? 0 });
  const rng = new SeededRng(options.seed);
  let order: number[] = [];
  let cursor = 0;
  let step = 0;
  let bestStep = 0;
  let bestValidationLoss: number | undefined;
  let evalsWithoutImprovement = 0;
  let examplesSeen = 0;
  let history: TrainerState['history'] = [];
  let best = snapshot(params);
  let startValidationLoss: number | undefined;

  if (options.resume && options.checkpointDir) {
    const ck = await loadCheckpoint<TrainerState>(options.checkpointDir);
    const s = ck.state;
    for (const [name, p] of params) {
      const saved = ck.tensors.get(PARAM + name);
      if (!saved || saved.length !== p.length) {
        const found = saved ? `${saved.length} values` : 'none';
        throw new ShapeMismatchError(`this checkpoint is from another run: parameter ${name} needs ${p.length} values, it holds ${found} (same --p, tags and model as the run that wrote it, or train without --resume)`, options.checkpointDir);
      }
      p.set(saved);
    }
    best = new Map([...params.keys()].map((k) => [k, Float32Array.from(ck.tensors.get(BEST + k) ?? params.get(k)!)]));
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [k, t] of ck.tensors) {
      if (k.startsWith(MOMENT_M)) m.set(k.slice(MOMENT_M.length), t);
      if (k.startsWith(MOMENT_V)) v.set(k.slice(MOMENT_V.length), t);
    }
    optimizer.setState({ step: s.step, m, v });
    rng.setState(s.rngState);
    ({ order, cursor, step, bestStep, evalsWithoutImprovement, examplesSeen, history } = s);
    bestValidationLoss = s.bestValidationLoss ?? undefined;
    startValidationLoss = s.startValidationLoss ?? undefined;
    if (s.finished) return { steps: step, stoppedBy: s.finished, bestStep, bestValidationLoss, startValidationLoss, history, examplesSeen };
  }

  const checkpoint = async (finished: StopReason | null) => {
    if (!options.checkpointDir) return;
    const tensors = new Map<string, Float32Array>();
    for (const [k, p] of params) tensors.set(PARAM + k, p);
    for (const [k, p] of best) tensors.set(BEST + k, p);
    const st = optimizer.getState();
    for (const [k, a] of st.m) tensors.set(MOMENT_M + k, a);
    for (const [k, a] of st.v) tensors.set(MOMENT_V + k, a);
    const state: TrainerState = {
      step, rngState: rng.getState(), order, cursor, bestStep, bestValidationLoss: bestValidationLoss ?? null,
      startValidationLoss: startValidationLoss ?? null, evalsWithoutImprovement, history, examplesSeen, finished,
    };
    await saveCheckpoint(options.checkpointDir, { state, tensors }, options.toBundle?.(params));
  };

  const nextIndices = (n: number): number[] => {
    const out: number[] = [];
    while (out.length < n) {
      if (cursor >= order.length) {
        order = rng.permutation(objective.nTrain);
        cursor = 0;
      }
      out.push(order[cursor++]);
    }
    return out;
  };

  if (step === 0 && bestValidationLoss === undefined && options.evalEvery > 0) {
    // a warm-started head (or tags from a bundle) may already validate better than anything training reaches
    bestValidationLoss = startValidationLoss = await objective.validationLoss();
  }

  const accumulator = new GradientAccumulator();
  let stoppedBy: StopReason = 'steps';
  const started = Date.now();
  const examplesAtStart = examplesSeen;
  while (step < options.steps) {
    if (options.signal?.aborted) {
      stoppedBy = 'cancelled';
      break;
    }
    const batch = nextIndices(Math.min(options.batchSize, Math.max(1, objective.nTrain)));
    accumulator.reset();
    let lossSum = 0;
    for (let i = 0; i < batch.length; i += options.microBatch) {
      const micro = batch.slice(i, i + options.microBatch);
      const { loss, gradients } = await objective.lossAndGradients(micro);
      // gradients are means over the micro-batch: scale back to sums before accumulating
      accumulator.add(scaled(gradients, micro.length), micro.length);
      lossSum += loss * micro.length;
    }
    const lr = cosineWithWarmup(step, options.steps, options.lr, options.warmupFraction ?? DEFAULT_WARMUP_FRACTION);
    optimizer.update(params, accumulator.mean(), lr, options.lrScale);
    step++;
    examplesSeen += batch.length;
    const loss = lossSum / batch.length;
    const entry: { step: number; loss: number; validationLoss?: number } = { step, loss };
    if ((options.evalEvery > 0 && step % options.evalEvery === 0) || step === options.steps) {
      const val = await objective.validationLoss();
      if (val !== undefined) {
        entry.validationLoss = val;
        if (bestValidationLoss === undefined || val < bestValidationLoss) {
          bestValidationLoss = val;
          bestStep = step;
          best = snapshot(params);
          evalsWithoutImprovement = 0;
        } else evalsWithoutImprovement++;
      }
    }
    history.push(entry);
    const seconds = (Date.now() - started) / 1000;
    options.onProgress?.({
      step, totalSteps: options.steps, loss, lr, examplesPerSecond: seconds > 0 ? (examplesSeen - examplesAtStart) / seconds : 0,
      ...(entry.validationLoss !== undefined ? { validationLoss: entry.validationLoss } : {}),
    });
    if (evalsWithoutImprovement >= options.patience) {
      stoppedBy = 'early-stopping';
      break;
    }
    if (options.checkpointEvery > 0 && step % options.checkpointEvery === 0 && step < options.steps) await checkpoint(null);
  }
  if (stoppedBy === 'cancelled') {
    await checkpoint(null);
  } else {
    // keep the parameters that validated best (all of them when nothing validated)
    if (bestValidationLoss !== undefined) for (const [k, p] of params) p.set(best.get(k)!);
    else bestStep = step;
    await checkpoint(stoppedBy);
  }
  return { steps: step, stoppedBy, bestStep, bestValidationLoss, startValidationLoss, history, examplesSeen };
}

function snapshot(params: ParameterMap): Map<string, Float32Array> {
  return new Map([...params].map(([k, p]) => [k, Float32Array.from(p)]));
}

function scaled(grads: ReadonlyMap<string, Float32Array>, factor: number): Map<string, Float32Array> {
  return new Map([...grads].map(([k, g]) => [k, g.map((x) => x * factor)]));
}
