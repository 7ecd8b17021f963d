// Which execution provider onnxruntime gives each node of a graph. onnxruntime-node exposes no
// API for it; its verbose log lists the placements when a session is created, on the native
// stderr. So the session is created in a child Node process with verbose logging, and the
// "Node(s) placed on [Provider]" blocks of its stderr are read back as op-type counts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagLlmError } from '../errors';
import type { Provider } from './ortSession';

export interface ProviderNodes {
  readonly nodes: number;
  /** Op type -> node count; empty when every node went to one provider (onnxruntime then lists none). */
  readonly ops: Map<string, number>;
}

/** Per execution provider, as onnxruntime names it (e.g. CPUExecutionProvider). */
export type Placements = Map<string, ProviderNodes>;

/** The placements in an onnxruntime verbose log; empty when it gives none (a CPU-only session). */
export function parsePlacements(log: string): Placements {
  const placements: Placements = new Map();
  let current: Map<string, number> | undefined;
  for (const line of log.split('\n')) {
    const header = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (header) {
      current = new Map();
      placements.set(header[2], { nodes: Number(header[3]), ops: current });
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s{3}(\S+) \(/.exec(line);
    if (node && current) current.set(node[1], (current.get(node[1]) ?? 0) + 1);
    else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = undefined;
  }
  return placements;
}

const CHILD = `
const ort = require(process.argv[1]);
ort.InferenceSession.create(process.argv[2], { executionProviders: [process.argv[3]], logSeverityLevel: 0, logVerbosityLevel: 0 })
  .then(() => process.exit(0), (e) => { process.stderr.write('SESSION FAILED: ' + e.message + '\\n'); process.exit(3); });
`;

/** Creates a session for `model` on `provider` in a child process and reads where each node went. */
export async function placementsOf(model: Uint8Array, provider: Provider): Promise<Placements> {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-placements-'));
  try {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, model);
    const log = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', CHILD, require.resolve('onnxruntime-node'), path, provider], { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', (code) => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (code === 0) resolve(text);
        else reject(new TagLlmError(`a ${provider} session could not be created: ${/SESSION FAILED: (.*)/.exec(text)?.[1] ?? `exit code ${code}`}`));
      });
    });
    return parsePlacements(log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
