// Markdown for a hover card. Pure: takes what the runtime said and returns text, so tests read it directly.
// VS Code renders neither inline <svg> nor file: images in hovers, so the structure travels as a base64 data: URI.
import type { EntityCard, EntityRef, Predictions, TagPrediction } from './protocol';
import { domainText, percentileText } from './trustText';

export interface CardLinks {
  openInPanel: string;
  wrapInDomainTag: string;
}

const kindTitle = { smiles: 'Molecule', protein: 'Protein sequence' } as const;
const maxShownText = 60;

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(3);
  return Number(value.toFixed(abs >= 100 ? 1 : 3)).toString();
}

/** A prediction's result as shown: the number with its unit, or the text a text-output tag wrote (quoted). */
export function predictionResult(p: TagPrediction): string {
  if (p.text !== undefined) return `“${shorten(p.text)}”`;
  return `${formatNumber(p.value ?? NaN)}${p.unit ? ` ${p.unit}` : ''}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => `\\${c}`);
}

function shorten(text: string): string {
  return text.length <= maxShownText ? text : `${text.slice(0, maxShownText - 1)}…`;
}

export function hoverMarkdown(ref: EntityRef, card: EntityCard, predictions: Predictions | 'pending' | Error, links: CardLinks): string {
  const lines: string[] = [];
  lines.push(`**Tag-LLM · ${kindTitle[ref.kind]}** \`${shorten(ref.text).replace(/`/g, "'")}\``, '');
  // The exact descriptors first (one line, always in view), then the predictions with their
  // evidence, then the drawing: a hover is only as tall as the room beside the line.
  if (card.descriptors.length > 0) {
    lines.push(card.descriptors.map((d) => `${escapeMarkdown(d.name)} **${formatNumber(d.value)}**${d.unit ? ` ${escapeMarkdown(d.unit)}` : ''}`).join(' · '), '');
  }
  lines.push(...predictionLines(predictions), '');
  if (card.svg) lines.push(`<img src="${svgDataUri(card.svg)}" width="180" height="135" alt="structure"/>`, '');
  if (card.composition && card.composition.length > 0) {
    const total = card.composition.reduce((sum, [, n]) => sum + n, 0);
    const top = card.composition.slice(0, 8).map(([aa, n]) => `${aa} ${((100 * n) / total).toFixed(1)}%`);
    lines.push(`Composition: ${top.join(' · ')}`, '');
  }
  lines.push(`[Open in panel](${links.openInPanel}) · [Wrap in domain tag](${links.wrapInDomainTag})`);
  return lines.join('\n');
}

function predictionLines(predictions: Predictions | 'pending' | Error): string[] {
  if (predictions === 'pending') return ['*Tag-LLM predictions: computing… (hover again in a moment)*'];
  if (predictions instanceof Error) return [`*Tag-LLM predictions unavailable: ${escapeMarkdown(predictions.message)}*`];
  const footer = `model ${escapeMarkdown(predictions.model)} · device ${escapeMarkdown(predictions.device)}`;
  if (predictions.predictions.length === 0) return [`*No function tags loaded for this kind of entity* (${footer})`];
  const lines = ['| Tag-LLM prediction | value | among approved drugs | nearest training input | bundle |', '| --- | ---: | --- | --- | --- |'];
  for (const p of predictions.predictions) {
    lines.push(`| ${escapeMarkdown(p.tag)} | ${escapeMarkdown(predictionResult(p))} | ${percentileText(p) ?? '–'} | ${escapeMarkdown(domainText(p) ?? '–')} | ${escapeMarkdown(p.bundle)} |`);
  }
  const evidence = predictions.predictions.filter((p) => p.evidence);
  if (evidence.length > 0) lines.push('', evidence.map((p) => `${escapeMarkdown(p.tag)} ${escapeMarkdown(p.evidence!)}`).join('  \n'));
  lines.push('', `*${footer}*`);
  return lines;
}
