// FASTA: `>id description` headers, each followed by sequence lines that join into one sequence.
import { InvalidFileError } from '../errors';

export interface FastaRecord {
  readonly id: string;
  readonly description: string;
  readonly sequence: string;
  /** 1-based line of the header. */
  readonly line: number;
}

export function parseFasta(text: string, path: string): FastaRecord[] {
  const out: FastaRecord[] = [];
  let current: { id: string; description: string; parts: string[]; line: number } | undefined;
  const flush = () => {
    if (current) out.push({ id: current.id, description: current.description, sequence: current.parts.join(''), line: current.line });
  };
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) return;
    if (line.startsWith('>')) {
      flush();
      const header = line.slice(1).trim();
      const space = header.search(/\s/);
      current = {
        id: space < 0 ? header : header.slice(0, space),
        description: space < 0 ? '' : header.slice(space + 1).trim(),
        parts: [],
        line: k + 1,
      };
    } else {
      if (!current) throw new InvalidFileError(`line ${k + 1}: sequence data before the first ">" header`, path);
      current.parts.push(line);
    }
  });
  flush();
  if (out.length === 0) throw new InvalidFileError('no FASTA records (no line starts with ">")', path);
  return out;
}
