// Jupyter notebooks (nbformat 4): every cell's source, and the text its outputs show (stream
// text; text/plain of execute_result and display_data). Positions are inside the cell source,
// or inside the output's text for entities found in an output.
import { scanText } from './textScanner';
import type { SmilesJudge } from './rdkitJudge';
import type { NotebookEntity } from './types';

type MultilineString = string | string[];

interface NotebookOutput {
  output_type?: string;
  text?: MultilineString;
  data?: Record<string, unknown>;
}

interface NotebookCell {
  source?: MultilineString;
  outputs?: NotebookOutput[];
}

export type NotebookScan = { readonly entities: NotebookEntity[]; readonly skipped?: undefined } | { readonly entities: []; readonly skipped: string };

export function scanNotebook(json: string, judge: SmilesJudge): NotebookScan {
  let notebook: unknown;
  try {
    notebook = JSON.parse(json);
  } catch (err) {
    return { entities: [], skipped: `malformed notebook JSON (${(err as Error).message})` };
  }
  const cells = (notebook as { cells?: unknown })?.cells;
  if (!Array.isArray(cells)) return { entities: [], skipped: 'not an nbformat 4 notebook (no "cells" array)' };
  const entities: NotebookEntity[] = [];
  cells.forEach((raw: unknown, cell) => {
    if (typeof raw !== 'object' || raw === null) return;
    const { source, outputs } = raw as NotebookCell;
    const text = joined(source);
    if (text) for (const e of scanText(text, 'text', judge)) entities.push({ ...e, cell, inOutput: false });
    if (!Array.isArray(outputs)) return;
    outputs.forEach((out, output) => {
      const shown = outputText(out);
      if (shown) for (const e of scanText(shown, 'text', judge)) entities.push({ ...e, cell, inOutput: true, output });
    });
  });
  return { entities };
}

function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join('');
  return '';
}

function outputText(out: NotebookOutput | null | undefined): string {
  if (typeof out !== 'object' || out === null) return '';
  if (out.output_type === 'stream') return joined(out.text);
  if (out.output_type === 'execute_result' || out.output_type === 'display_data') return joined(out.data?.['text/plain']);
  return '';
}
