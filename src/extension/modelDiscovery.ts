// Finds language models already on disk: Ollama's manifest/blob store and LM Studio's model folders,
// and what the picker says about each (family, size, quantization, whether memory holds it).
// Pure file reading, no vscode, so tests build fake stores in a temp folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeVerdict, formatGigabytes } from '../runtime/model/memoryEstimate';
import { formatParameters, listGguf, type GgufListing, type MachineMemory } from '../runtime/model/ggufListing';

export interface FoundModel {
  /** What the user sees: "ollama: library/llama3:8b", "LM Studio: publisher/repo/file.gguf". */
  label: string;
  /** A GGUF file or a Hugging Face folder the runtime can load. */
  path: string;
  source: 'ollama' | 'lmstudio';
}

const ollamaModelLayer = 'application/vnd.ollama.image.model';
const maxManifestBytes = 1 << 20;

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Every file under `dir` (to `depth` levels), as paths relative to it. */
function filesUnder(dir: string, depth: number, prefix = ''): string[] {
  if (depth < 0) return [];
  return listDir(path.join(dir, prefix)).flatMap((e) => {
    const rel = path.join(prefix, e.name);
    return e.isDirectory() ? filesUnder(dir, depth - 1, rel) : e.isFile() ? [rel] : [];
  });
}

/** Ollama: manifests/<registry>/<namespace>/<model>/<tag> name a model layer whose blob is a GGUF file. */
export function findOllamaModels(modelsDir: string): FoundModel[] {
  const manifests = path.join(modelsDir, 'manifests');
  const found: FoundModel[] = [];
  for (const rel of filesUnder(manifests, 4)) {
    const file = path.join(manifests, rel);
    try {
      if (fs.statSync(file).size > maxManifestBytes) continue;
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { layers?: Array<{ mediaType?: string; digest?: string }> };
      const layer = manifest.layers?.find((l) => l.mediaType === ollamaModelLayer);
      if (!layer?.digest || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) continue;
      const blob = path.join(modelsDir, 'blobs', layer.digest.replace(':', '-'));
      if (!fs.existsSync(blob)) continue;
      const parts = rel.split(path.sep);
      const name = `${parts.slice(1, -1).join('/')}:${parts.at(-1)}`;
      found.push({ label: `Ollama: ${name}`, path: blob, source: 'ollama' });
    } catch {
      // An unreadable or foreign manifest is not a model.
    }
  }
  return found.sort((a, b) => a.label.localeCompare(b.label));
}

/** LM Studio: models/<publisher>/<repo>/<file>.gguf. */
export function findLmStudioModels(modelsDir: string): FoundModel[] {
  return filesUnder(modelsDir, 3)
    .filter((rel) => rel.toLowerCase().endsWith('.gguf') && !path.basename(rel).startsWith('mmproj'))
    .map((rel) => ({ label: `LM Studio: ${rel.split(path.sep).join('/')}`, path: path.join(modelsDir, rel), source: 'lmstudio' as const }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

export function findModelsOnDisk(home: string, env: NodeJS.ProcessEnv = process.env): FoundModel[] {
  const ollamaDir = env.OLLAMA_MODELS || path.join(home, '.ollama', 'models');
  const lmStudioDirs = [path.join(home, '.lmstudio', 'models'), path.join(home, '.cache', 'lm-studio', 'models')];
  return [...findOllamaModels(ollamaDir), ...lmStudioDirs.flatMap(findLmStudioModels)];
}

export interface ModelPickText {
  /** family · parameters · quantization · file size */
  readonly description: string;
  /** Whether this machine's memory holds it, or why it cannot run. */
  readonly detail: string;
  /** Set when picking it must be refused: the message to show. */
  readonly refusal?: string;
}

/** The picker's lines for one GGUF file; an unreadable file says so rather than hiding. */
export function modelPickText(file: string, machine: MachineMemory): ModelPickText {
  let listing: GgufListing;
  try {
    listing = listGguf(file, machine);
  } catch (err) {
    const reason = (err as Error).message.replace(`${file}: `, '');
    return { description: 'unreadable', detail: `$(error) ${reason}`, refusal: `${file} cannot be read: ${reason}` };
  }
  const description = [listing.family, `${formatParameters(listing.parameters)} parameters`, listing.quantization, formatGigabytes(listing.fileBytes)].join(' · ');
  if (listing.unsupported !== undefined) {
    return { description, detail: `$(warning) not supported: ${listing.unsupported}`, refusal: `${file} cannot run here: ${listing.unsupported}` };
  }
  const verdict = describeVerdict(listing.memory!);
  if (listing.memory!.fits) return { description, detail: `$(check) fits in memory: ${verdict}` };
  return {
    description,
    detail: `$(error) too large for this machine's memory: ${verdict}`,
    refusal: `This model ${verdict}. Loading it would swap or be stopped by the system, so Tag-LLM does not select it; free memory or pick a smaller or more quantized model.`,
  };
}
