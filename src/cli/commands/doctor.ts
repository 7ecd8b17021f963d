// `tagllm doctor [--json] [--placements [--model PATH]]`: whether a GPU can run the model here,
// and if not, why and what to install; with --placements, which operators of the generation and
// training graphs each GPU provider runs and which fall back to the CPU.
import type { CliCommand } from '../command';
import { gpuReport, gpuReportText } from '../../runtime/session/gpuReport';
import { placementsOf, type Placements } from '../../runtime/session/placements';
import { buildDecoderGraph } from '../../runtime/llama/decoderGraph';
import { addGradients, buildLossGraph } from '../../runtime/train/lossGraphs';
import { serializeModel } from '../../runtime/graph/serialize';
import type { Provider } from '../../runtime/session/ortSession';
import type { LoadedModel } from '../../runtime/model/description';
import { loadModelOf } from '../modelArgument';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'Check the GPU: devices, Vulkan and CUDA libraries, a timed MatMul on every provider',
  help: [
    'Usage: tagllm doctor [--json] [--placements [--model PATH]]',
    '',
    '  --json        print one JSON object instead of text',
    '  --placements  also list, for the generation and training graphs of the model, which operators',
    '                each GPU provider that starts runs, and which fall back to the CPU',
    '  --model PATH  the model for --placements (default: $TAGLLM_MODEL, else the default model)',
  ].join('\n'),
  options: {
    json: { type: 'boolean' },
    placements: { type: 'boolean' },
    model: { type: 'string' },
  },
  async run(args, signal) {
    const report = await gpuReport();
    const gpuProviders = report.probes.filter((p) => p.ok && p.provider !== 'cpu').map((p) => p.provider);
    const placements = args.values.placements ? await graphPlacements(await loadModelOf(args, signal), gpuProviders) : undefined;
    if (args.values.json) {
      const json = { ...report, ...(placements && { placements: placementsJson(placements) }) };
      process.stdout.write(JSON.stringify(json) + '\n');
      return;
    }
    process.stdout.write(gpuReportText(report));
    if (placements) process.stdout.write(placementsText(placements));
  },
};

type GraphPlacements = Array<{ graph: string; provider: Provider; placements: Placements }>;

async function graphPlacements(model: LoadedModel, providers: readonly Provider[]): Promise<GraphPlacements> {
  const graphs = [
    { graph: 'generation (KV cache, last logits)', bytes: () => serializeModel(buildDecoderGraph(model.config, model.weights, { logits: 'last', kvCache: true }).graph) },
    { graph: 'training, regression head with gradients', bytes: () => serializeModel(addGradients(buildLossGraph(model.config, model.weights, 'regression')).graph) },
    { graph: 'training, next-token loss with gradients', bytes: () => serializeModel(addGradients(buildLossGraph(model.config, model.weights, 'next_token')).graph) },
  ];
  const out: GraphPlacements = [];
  for (const provider of providers) for (const { graph, bytes } of graphs) out.push({ graph, provider, placements: await placementsOf(bytes(), provider) });
  return out;
}

function placementsJson(list: GraphPlacements) {
  return list.map(({ graph, provider, placements }) => ({ graph, provider, byExecutionProvider: Object.fromEntries([...placements].map(([ep, { nodes, ops }]) => [ep, { nodes, ops: Object.fromEntries(ops) }])) }));
}

function placementsText(list: GraphPlacements): string {
  if (list.length === 0) return '\nNo GPU provider started, so no placements to list.\n';
  const lines = ['', 'Operator placements:'];
  for (const { graph, provider, placements } of list) {
    lines.push(`  ${graph} on ${provider}:`);
    for (const [ep, { nodes, ops }] of placements) {
      lines.push(`    ${ep}: ${nodes} nodes${ops.size === 0 ? ' (all of them)' : ` (${[...ops].map(([op, n]) => `${op} ${n}`).join(', ')})`}`);
    }
  }
  return lines.join('\n') + '\n';
}
