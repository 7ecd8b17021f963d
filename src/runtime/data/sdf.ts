// SD files, the parts training needs: each record's molblock and its `> <NAME>` data
// fields. Records end with `$$$$`.

export interface SdfRecord {
  readonly molblock: string;
  /** Keyed by names from the file, so a Map: `constructor` or `__proto__` are property names like any other. */
  readonly properties: ReadonlyMap<string, string>;
  /** 1-based line where the record starts. */
  readonly line: number;
}

export function parseSdf(text: string): SdfRecord[] {
  const out: SdfRecord[] = [];
  const lines = text.split(/\r?\n/);
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '$$$$') continue;
    const block = lines.slice(start, i);
    const end = block.findIndex((l) => l.trim() === 'M  END');
    const properties = new Map<string, string>();
    if (end >= 0) {
      for (let k = end + 1; k < block.length; k++) {
        const m = /^>.*<([^>]+)>/.exec(block[k]);
        if (!m) continue;
        const values: string[] = [];
        for (k++; k < block.length && block[k].trim() !== ''; k++) values.push(block[k]);
        properties.set(m[1], values.join('\n'));
      }
    }
    const molblock = end >= 0 ? block.slice(0, end + 1).join('\n') : '';
    if (block.some((l) => l.trim() !== '')) out.push({ molblock, properties, line: start + 1 });
    start = i + 1;
  }
  return out;
}
