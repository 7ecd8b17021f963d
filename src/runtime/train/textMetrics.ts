// Corpus chrF and BLEU exactly as sacreBLEU 2 computes them with its defaults (one reference
// per segment), so scores here read like the papers' tables: statistics are summed over
// the segments, then turned into one score.
// - chrF: character n-grams of orders 1..6 with whitespace removed, β = 2; precision and
//   recall averaged over the orders that both sides have ("effective order"), as sacreBLEU
//   does unless eps smoothing is asked for.
// - BLEU: the 13a (mteval-v13a) tokenization, word n-grams 1..4, the brevity penalty, and
//   'exp' smoothing of orders with no match.
// Both are 0–100.

const CHRF_ORDER = 6;
const CHRF_BETA = 2;
const BLEU_ORDER = 4;

/** Corpus chrF (β = 2) of `hypotheses` against one reference each. */
export function chrF(hypotheses: readonly string[], references: readonly string[]): number {
  sameLength(hypotheses, references);
  const hyp = new Array<number>(CHRF_ORDER).fill(0);
  const ref = new Array<number>(CHRF_ORDER).fill(0);
  const match = new Array<number>(CHRF_ORDER).fill(0);
  hypotheses.forEach((h, k) => {
    const hc = Array.from(h.split(/\s+/).join(''));
    const rc = Array.from(references[k].split(/\s+/).join(''));
    for (let n = 1; n <= CHRF_ORDER; n++) {
      const stats = ngramStats(ngrams(hc, n), ngrams(rc, n));
      hyp[n - 1] += stats.hyp;
      ref[n - 1] += stats.ref;
      match[n - 1] += stats.match;
    }
  });
  let precision = 0;
  let recall = 0;
  let order = 0;
  for (let n = 0; n < CHRF_ORDER; n++) {
    if (hyp[n] > 0 && ref[n] > 0) {
      precision += match[n] / hyp[n];
      recall += match[n] / ref[n];
      order++;
    }
  }
  if (order === 0) return 0;
  precision /= order;
  recall /= order;
  if (precision + recall === 0) return 0;
  const b2 = CHRF_BETA ** 2;
  return (100 * (1 + b2) * precision * recall) / (b2 * precision + recall);
}

/** Corpus BLEU with 13a tokenization and exp smoothing, of `hypotheses` against one reference each. */
export function bleu(hypotheses: readonly string[], references: readonly string[]): number {
  sameLength(hypotheses, references);
  const correct = new Array<number>(BLEU_ORDER).fill(0);
  const total = new Array<number>(BLEU_ORDER).fill(0);
  let sysLength = 0;
  let refLength = 0;
  hypotheses.forEach((h, k) => {
    const hw = tokenize13a(h.trimEnd()).split(' ').filter((w) => w !== '');
    const rw = tokenize13a(references[k].trimEnd()).split(' ').filter((w) => w !== '');
    sysLength += hw.length;
    refLength += rw.length;
    for (let n = 1; n <= BLEU_ORDER; n++) {
      const stats = ngramStats(ngrams(hw, n), ngrams(rw, n));
      correct[n - 1] += stats.match;
      total[n - 1] += stats.hyp;
    }
  });
  const brevity = sysLength >= refLength ? 1 : sysLength > 0 ? Math.exp(1 - refLength / sysLength) : 0;
  if (correct.every((c) => c === 0)) return 0;
  let smooth = 1;
  let logSum = 0;
  for (let n = 0; n < BLEU_ORDER; n++) {
    // sacreBLEU stops at the first order the system has no n-grams of, and averages over all orders
    if (total[n] === 0) {
      logSum += (BLEU_ORDER - n) * LOG_ZERO;
      break;
    }
    let precision: number;
    if (correct[n] === 0) {
      smooth *= 2;
      precision = 100 / (smooth * total[n]);
    } else {
      precision = (100 * correct[n]) / total[n];
    }
    logSum += Math.log(precision);
  }
  return brevity * Math.exp(logSum / BLEU_ORDER);
}

/** sacreBLEU's stand-in for log(0): a precision of 0 drives the score to 0. */
const LOG_ZERO = -9999999999;

/** The mteval-v13a tokenization as sacreBLEU implements it. */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  s = ` ${s} `;
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return s.split(/\s+/).filter((w) => w !== '').join(' ');
}

function ngrams(items: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= items.length; i++) {
    const key = items.slice(i, i + n).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function ngramStats(hyp: Map<string, number>, ref: Map<string, number>): { hyp: number; ref: number; match: number } {
  let h = 0;
  let r = 0;
  let match = 0;
  for (const [key, count] of hyp) {
    h += count;
    match += Math.min(count, ref.get(key) ?? 0);
  }
  for (const count of ref.values()) r += count;
  return { hyp: h, ref: r, match };
}

function sameLength(hypotheses: readonly string[], references: readonly string[]): void {
  if (hypotheses.length !== references.length) throw new RangeError(`${hypotheses.length} hypotheses but ${references.length} references`);
}
