// How a prediction's percentile and flags read in the hover card, the panel and the CSV. Pure and
// free of `vscode`, so the webview script bundles it too.
import type { TagPrediction } from './protocol';

const FLAG_TEXT: Readonly<Record<string, string>> = {
  'outside-domain': 'outside training domain',
  'outside-training-range': 'outside training labels’ range',
  'outside-bounds': 'impossible value',
};

export function flagText(flag: string): string {
  return FLAG_TEXT[flag] ?? flag;
}

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st… */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** "71st percentile" (among approved drugs), or undefined without a stored distribution. */
export function percentileText(p: TagPrediction): string | undefined {
  return p.percentile === undefined ? undefined : `${ordinal(Math.round(p.percentile))} percentile`;
}

/** "✓ similarity 0.62", "⚠ outside training domain (similarity 0.18)", or undefined when the bundle keeps no domain and nothing is flagged. */
export function domainText(p: TagPrediction): string | undefined {
  const flags = p.flags ?? [];
  const similarity = p.similarity === undefined ? undefined : `similarity ${p.similarity.toFixed(2)}`;
  if (flags.length > 0) return `⚠ ${flags.map(flagText).join(', ')}${similarity ? ` (${similarity})` : ''}`;
  return similarity && `✓ ${similarity}`;
}
