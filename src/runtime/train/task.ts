// What a training run learns, in template form. Stage 1 reads `<Domain> {text}`; stages 2
// and 3 use the team's named task templates (molecule-property, protein-property,
// binding-affinity, drug-synergy) so that a trained bundle's template is the one the
// predictor fills with {smiles} / {seq} / {smiles1} {smiles2}; other input combinations get
// a sentence per input in the same style.
import { UsageError } from '../errors';
import type { InputKind } from '../data/examples';
import type { TagName } from '../tags/name';
import { parseTemplate, resolveTemplate, type FunctionTagSpec, type SlotValues, type Template } from '../tags/template';

export type Stage = 'domain' | 'function' | 'cross';

export interface TaskInput {
  /** The data column the input comes from. */
  readonly column: string;
  /** The domain tag that marks it, e.g. `<SMILES>`. */
  readonly domain: TagName;
  readonly kind: InputKind;
}

export interface TaskTemplate {
  readonly template: Template;
  /** The template slot each input fills, in input order. */
  readonly slots: readonly string[];
}

export function taskTemplate(stage: Stage, inputs: readonly TaskInput[], fn?: FunctionTagSpec): TaskTemplate {
  if (inputs.length === 0) throw new UsageError('a task needs at least one input');
  if (stage === 'domain') {
    if (inputs.length !== 1) throw new UsageError('stage domain trains one domain tag on one input column');
    return { template: parseTemplate(`${inputs[0].domain} {text}`), slots: ['text'] };
  }
  if (!fn) throw new UsageError(`stage ${stage} needs a function tag (--tag)`);
  const kinds = inputs.map((i) => `${i.kind}:${i.domain}`).join(',');
  const standard = (name: string, slots: string[]): TaskTemplate => ({ template: resolveTemplate(name, fn), slots });
  if (kinds === 'smiles:<SMILES>') return standard('molecule-property', ['smiles']);
  if (kinds === 'protein:<Protein>') return standard('protein-property', ['seq']);
  if (kinds === 'protein:<Protein>,smiles:<SMILES>') return standard('binding-affinity', ['seq', 'smiles']);
  if (kinds === 'smiles:<SMILES>,protein:<Protein>') return standard('binding-affinity', ['smiles', 'seq']);
  if (kinds === 'smiles:<SMILES>,smiles:<SMILES>') return standard('drug-synergy', ['smiles1', 'smiles2']);
  const slots = inputs.map((_, k) => `input${k + 1}`);
  const sentences = inputs.map((input, k) => {
    const slot = `{${slots[k]}}`;
    if (input.kind === 'smiles') return `The SMILES of molecule ${k + 1} is ${input.domain} ${slot}.`;
    if (input.kind === 'protein') return `The protein sequence ${k + 1} is ${input.domain} ${slot}.`;
    return `Input ${k + 1} is ${input.domain} ${slot}.`;
  });
  return { template: parseTemplate(`Input: ${sentences.join(' ')} Output: The ${fn.description} is ${fn.tag}`), slots };
}

export function slotValues(task: TaskTemplate, inputs: readonly string[]): SlotValues {
  const values: Record<string, string> = {};
  task.slots.forEach((slot, k) => (values[slot] = inputs[k]));
  return values;
}

/** How a computed or named label reads in a sentence, for the template and the bundle. */
export function labelDescription(label: string): { description: string; units: string; bounds?: readonly [number | null, number | null] } {
  switch (label.toLowerCase()) {
    case 'measured log solubility in mols per litre': // ESOL's label column
      return { description: 'aqueous solubility', units: 'log mol/L' };
    case 'qed':
      return { description: 'quantitative estimate of druglikeness score', units: '', bounds: [0, 1] };
    case 'logp':
      return { description: 'octanol-water partition coefficient (logP)', units: 'log units' };
    case 'tpsa':
      return { description: 'topological polar surface area', units: 'Å²', bounds: [0, null] };
    case 'mw':
      return { description: 'molecular weight', units: 'g/mol', bounds: [0, null] };
    case 'gravy':
      return { description: 'grand average of hydropathy', units: '' };
    case 'instability':
      return { description: 'instability index', units: '' };
    case 'pi':
      return { description: 'isoelectric point', units: 'pH' };
    case 'aromaticity':
      return { description: 'aromaticity', units: 'fraction', bounds: [0, 1] };
    case 'charge':
      return { description: 'net charge at pH 7', units: 'e' };
    default:
      return { description: label, units: '' };
  }
}
