// RDKit-js decides whether a SMILES candidate is a molecule. The WASM module loads once, on
// first use; verdicts are cached per string, since files repeat the same molecules.
import type { MainModule } from '@rdkit/rdkit';

export interface SmilesJudge {
  /** True when RDKit parses and sanitizes the string. */
  parses(smiles: string): boolean;
  /** Cache misses so far, and the milliseconds spent inside RDKit for them. */
  readonly calls: number;
  readonly ms: number;
}

// Skipping removeHs halves the cost of a parse and does not change which strings are valid.
const PARSE_DETAILS = JSON.stringify({ removeHs: false });
const CACHE_LIMIT = 200_000;

class RdkitJudge implements SmilesJudge {
  private readonly verdicts = new Map<string, boolean>();
  calls = 0;
  ms = 0;

  constructor(private readonly rdkit: MainModule) {}

  parses(smiles: string): boolean {
    const cached = this.verdicts.get(smiles);
    if (cached !== undefined) return cached;
    const t0 = performance.now();
    const mol = this.rdkit.get_mol(smiles, PARSE_DETAILS);
    const ok = mol !== null && mol.is_valid();
    mol?.delete();
    this.ms += performance.now() - t0;
    this.calls++;
    if (this.verdicts.size >= CACHE_LIMIT) this.verdicts.clear();
    this.verdicts.set(smiles, ok);
    return ok;
  }
}

let loading: Promise<SmilesJudge> | undefined;

/** The shared judge; the first call loads RDKit's WASM (a few hundred ms). */
export function loadSmilesJudge(): Promise<SmilesJudge> {
  loading ??= (async () => {
    // The process's one RDKit instance (the runtime's descriptors use it too), with logging off:
    // invalid candidates are the common case. Imported here so that loading this module stays cheap.
    const { loadRDKit } = await import('../runtime/chem/rdkit');
    return new RdkitJudge(await loadRDKit());
  })();
  return loading;
}
