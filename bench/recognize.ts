// Recognition throughput: `node --import tsx bench/recognize.ts` (run by bench/run-bench.mjs).
// Three inputs built from the shared data: 5 MB of Python code with a SMILES every 40 lines,
// a 2 MB CSV with a SMILES column (about 40,000 distinct molecules), and a 1,000-cell
// notebook. Each is scanned cold (RDKit's verdict cache empty for its molecules), then warm:
// best and median of 5. Times are wall clock and process CPU; the share of wall time spent
// inside RDKit-js is given for the cold pass. Prints a markdown table, then one JSON line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSmilesJudge, RecognizedDocument, scanNotebook, scanText, type SmilesJudge } from '../src/recognize/index';

const dataDir = process.env.TAGLLM_DATA_DIR ?? join(__dirname, '..', '..', 'shared', 'data');
const MB = 1024 * 1024;

function smilesColumn(file: string, column: number): string[] {
  return readFileSync(join(dataDir, 'molnet', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => row.split(',')[column]?.trim())
    .filter((s): s is string => !!s && !s.includes('"'));
}

function pythonCode(smiles: string[], bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const pattern = [
      `def step_${i}(batch, lr=1e-4, warmup=0.03):`,
      `    """Run one optimisation step ${i} (see https://example.org/docs/${i} for the CC/CO notes)."""`,
      `    loss = model(batch["input_ids"], attention_mask=batch["mask"]).loss * SCALE_${i % 7}`,
      `    # NO gradient clipping here; the CO asked for it in ticket CC-${i}`,
      `    run_id = "${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}-9a4d-4e6f-8b2a-7c1d0e5f9a3b"`,
      `    results.append({"step": ${i}, "loss": float(loss), "formula": "C${i % 30}H${i % 50}O${i % 9}"})`,
      `    MAX_SEQUENCE_LENGTH_${i % 5} = ${i % 4096}  # TODO: THE PIPELINE IS NOT READY`,
      i % 40 === 7 ? `    smiles = "${smiles[Math.floor(i / 40) % smiles.length]}"` : `    x_${i} = np.zeros((${i % 64}, ${i % 128}), dtype=np.float32)`,
    ][i % 8];
    lines.push(pattern);
    size += pattern.length + 1;
  }
  return lines.join('\n') + '\n';
}

function smilesCsv(smiles: string[], bytes: number): string {
  const rows = ['id,smiles,activity,source'];
  let size = rows[0].length;
  for (let i = 0; size < bytes; i++) {
    const row = `CPD-${i},${smiles[i % smiles.length]},${(i % 1000) / 100},molnet`;
    rows.push(row);
    size += row.length + 1;
  }
  return rows.join('\n') + '\n';
}

function notebook(smiles: string[], cells: number): string {
  const out = [];
  for (let i = 0; i < cells; i++) {
    const s = (k: number) => smiles[(3 * i + k) % smiles.length];
    if (i % 2 === 0) {
      out.push({ cell_type: 'markdown', source: [`## Batch ${i}\n`, `The reference SMILES is \`${s(0)}\`; NO and CO were excluded by the CC.\n`, 'See https://example.org/assay for details.\n'] });
    } else {
      out.push({
        cell_type: 'code',
        source: `smiles = ["${s(0)}", "${s(1)}"]\nmols = [Chem.MolFromSmiles(m) for m in smiles]\ndf_${i} = featurize(mols)  # C6H12O6 control\ndf_${i}.head()\n`,
        outputs: [{ output_type: 'execute_result', data: { 'text/plain': [`   smiles                     logS\n`, `0  ${s(0)}   -1.2\n`, `1  ${s(1)}   -3.4\n`] } }],
      });
    }
  }
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: out });
}

interface Timing {
  ms: number;
  cpuMs: number;
  rdkitMs: number;
  rdkitCalls: number;
  entities: number;
}

function timed(judge: SmilesJudge, run: () => number): Timing {
  const [ms0, calls0] = [judge.ms, judge.calls];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const entities = run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, rdkitMs: judge.ms - ms0, rdkitCalls: judge.calls - calls0, entities };
}

const WARM_RUNS = 5;

function sorted(xs: Timing[]): Timing[] {
  return [...xs].sort((a, b) => a.ms - b.ms);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const judge = await loadSmilesJudge();
  const rdkitLoadMs = performance.now() - t0;
  const hiv = smilesColumn('hiv.csv', 0);
  const qm9 = smilesColumn('qm9_smiles.csv', 0);
  const esol = smilesColumn('esol.csv', 9);
  const inputs: Array<{ name: string; bytes: number; run: () => number }> = [];
  const code = pythonCode(hiv, 5 * MB);
  inputs.push({ name: 'Python code, 5 MB, a SMILES every 40 lines', bytes: Buffer.byteLength(code), run: () => scanText(code, 'text', judge).length });
  const csv = smilesCsv([...qm9.slice(0, 20_000), ...hiv.slice(4_000)], 2 * MB);
  inputs.push({ name: 'CSV with a SMILES column, 2 MB', bytes: Buffer.byteLength(csv), run: () => scanText(csv, 'csv', judge).length });
  const nb = notebook(esol, 1000);
  inputs.push({ name: 'notebook, 1,000 cells (500 with outputs)', bytes: Buffer.byteLength(nb), run: () => scanNotebook(nb, judge).entities.length });

  const rows = inputs.map(({ name, bytes, run }) => {
    const cold = timed(judge, run);
    const warm = sorted(Array.from({ length: WARM_RUNS }, () => timed(judge, run)));
    return { name, mb: bytes / MB, cold, best: warm[0], median: warm[Math.floor(WARM_RUNS / 2)] };
  });
  console.log(`RDKit-js WASM load: ${rdkitLoadMs.toFixed(0)} ms (once per process)\n`);
  console.log('| input | size | entities | cold: ms (CPU ms) | cold: MB/s | cold: RDKit share (calls) | warm best: ms (CPU ms) | warm best: MB/s | warm median: ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const pct = (t: Timing) => `${((100 * t.rdkitMs) / t.ms).toFixed(0)}%`;
  const mbps = (mb: number, t: Timing) => (mb / (t.ms / 1000)).toFixed(1);
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.mb.toFixed(2)} MB | ${r.cold.entities} | ${r.cold.ms.toFixed(0)} (${r.cold.cpuMs.toFixed(0)}) | ${mbps(r.mb, r.cold)} | ${pct(r.cold)} (${r.cold.rdkitCalls}) | ${r.best.ms.toFixed(0)} (${r.best.cpuMs.toFixed(0)}) | ${mbps(r.mb, r.best)} | ${r.median.ms.toFixed(0)} |`,
    );
  }
  // An editor typing into the 5 MB file: one character at a time, at spread-out lines.
  const doc = new RecognizedDocument(code, 'text', judge);
  const edits = 50;
  const editMs: number[] = [];
  const codeLines = code.split('\n').length - 1;
  for (let i = 0; i < edits; i++) {
    const line = (i * 7919) % codeLines;
    const t = performance.now();
    doc.applyChanges([{ range: { start: { line, character: 4 }, end: { line, character: 4 } }, text: i % 2 ? 'c1ccccc1 ' : 'x' }]);
    editMs.push(performance.now() - t);
  }
  editMs.sort((a, b) => a - b);
  console.log(`\nIncremental: one edit to the 5 MB code document (RecognizedDocument.applyChanges), median ${editMs[edits / 2].toFixed(1)} ms, max ${editMs[edits - 1].toFixed(1)} ms over ${edits} edits.`);
  console.log(JSON.stringify({ rdkitLoadMs, rows, editMedianMs: editMs[edits / 2] }));
}

void main();
