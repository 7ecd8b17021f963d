// RDKit-js decides whether a SMILES candidate is a molecule. The WASM module loads once, on
// first use; verdicts are cached per string, since files repeat the same molecules.
//
// A candidate that traps RDKit (see runtime/chem/rdkit.ts) costs the judge its instance. Scans
// are synchronous, so `parses` then throws RdkitRestartError, and `judgeScan` awaits a fresh
// instance and runs the scan again: the trapping candidate is cached as no molecule by then,
// so each retry makes progress. Candidates over RDKit's limits are refused before it sees them.
import type { MainModule } from '@rdkit/rdkit';
import { loadRDKit, moleculeInputProblem, MoleculeRejectedError, withMol } from '../runtime/chem/rdkit';

export interface SmilesJudge {
  /** True when RDKit parses and sanitizes the string. */
  parses(smiles: string): boolean;
  /** Cache misses so far, and the milliseconds spent inside RDKit for them. */
  readonly calls: number;
  readonly ms: number;
  /** The candidates that trapped RDKit so far, in order (the first TRAPS_KEPT). */
  readonly trapped: readonly string[];
  /** Resolves once an RDKit instance is ready (after the first load, or after a trap). */
  ready(): Promise<void>;
}

/** A candidate trapped RDKit: the scan must be run again once `judge.ready()` resolves. */
export class RdkitRestartError extends Error {}

// Skipping removeHs halves the cost of a parse and does not change which strings are valid.
const PARSE_DETAILS = JSON.stringify({ removeHs: false });
const CACHE_LIMIT = 200_000;
const TRAPS_KEPT = 1000;

class RdkitJudge implements SmilesJudge {
  private readonly verdicts = new Map<string, boolean>();
  private rdkit: MainModule | undefined;
  readonly trapped: string[] = [];
  calls = 0;
  ms = 0;

  async ready(): Promise<void> {
    this.rdkit ??= await loadRDKit();
  }

  parses(smiles: string): boolean {
    const cached = this.verdicts.get(smiles);
    if (cached !== undefined) return cached;
    if (moleculeInputProblem(smiles)) return this.remember(smiles, false);
    if (!this.rdkit) throw new RdkitRestartError('RDKit is not loaded yet');
    const t0 = performance.now();
    let ok: boolean;
    try {
      ok = withMol(this.rdkit, smiles, () => true, PARSE_DETAILS) ?? false;
    } catch (error) {
      if (!(error instanceof MoleculeRejectedError)) throw error;
      this.rdkit = undefined;
      if (this.trapped.length < TRAPS_KEPT) this.trapped.push(smiles);
      this.remember(smiles, false);
      throw new RdkitRestartError(error.message);
    } finally {
      this.ms += performance.now() - t0;
      this.calls++;
    }
    return this.remember(smiles, ok);
  }

  private remember(smiles: string, ok: boolean): boolean {
    if (this.verdicts.size >= CACHE_LIMIT) this.verdicts.clear();
    this.verdicts.set(smiles, ok);
    return ok;
  }
}

/** Runs a synchronous scan with the judge, again on a fresh RDKit whenever a candidate trapped it. */
export async function judgeScan<T>(judge: SmilesJudge, scan: () => T | Promise<T>): Promise<T> {
  for (;;) {
    await judge.ready();
    try {
      return await scan();
    } catch (error) {
      if (!(error instanceof RdkitRestartError)) throw error;
    }
  }
}

let loading: Promise<SmilesJudge> | undefined;

/** The shared judge; the first call loads RDKit's WASM (a few hundred ms). */
export function loadSmilesJudge(): Promise<SmilesJudge> {
  loading ??= (async () => {
    const judge = new RdkitJudge();
    await judge.ready();
    return judge;
  })();
  return loading;
}
