// Scans an editor document's text with the recognizer. The format comes from the file name (a .csv is a
// table, a .fasta a set of records) and, for untitled buffers, from the language id.
import * as path from 'node:path';
import { loadSmilesJudge } from '../../recognize/rdkitJudge';
import { scanTextAsync } from '../../recognize/textScanner';
import type { Entity, TextFormat } from '../../recognize/types';

const formatByExtension: Record<string, TextFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.smi': 'smi',
  '.smiles': 'smi',
  '.fasta': 'fasta',
  '.fa': 'fasta',
  '.faa': 'fasta',
  '.fas': 'fasta',
  '.sdf': 'sdf',
  '.sd': 'sdf',
};
const formatByLanguage: Record<string, TextFormat> = { csv: 'csv', tsv: 'tsv', fasta: 'fasta' };

export function textFormatOf(fileName: string, languageId: string): TextFormat {
  return formatByExtension[path.extname(fileName).toLowerCase()] ?? formatByLanguage[languageId] ?? 'text';
}

export async function scanDocument(text: string, fileName: string, languageId: string, signal?: AbortSignal): Promise<Entity[]> {
  return scanTextAsync(text, textFormatOf(fileName, languageId), await loadSmilesJudge(), signal);
}
