// Inline SVG plots for the panel: the training loss curve and the predicted-against-true parity plot.
// Built as DOM nodes (no innerHTML), so the webview's CSP needs no 'unsafe-inline'.

const SVG = 'http://www.w3.org/2000/svg';
const width = 420;
const height = 260;
const margin = { left: 48, right: 12, top: 12, bottom: 32 };

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

interface Scale {
  (v: number): number;
}

function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function tickLabel(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

function frame(svg: SVGSVGElement, x: Scale, y: Scale, xs: [number, number], ys: [number, number], xLabel: string, yLabel: string): void {
  const axis = { class: 'axis' };
  svg.append(el('line', { ...axis, x1: margin.left, y1: height - margin.bottom, x2: width - margin.right, y2: height - margin.bottom }));
  svg.append(el('line', { ...axis, x1: margin.left, y1: margin.top, x2: margin.left, y2: height - margin.bottom }));
  for (const v of xs) svg.append(el('text', { class: 'tick', x: x(v), y: height - margin.bottom + 14, 'text-anchor': 'middle' }, tickLabel(v)));
  for (const v of ys) svg.append(el('text', { class: 'tick', x: margin.left - 4, y: y(v) + 4, 'text-anchor': 'end' }, tickLabel(v)));
  svg.append(el('text', { class: 'label', x: (margin.left + width - margin.right) / 2, y: height - 4, 'text-anchor': 'middle' }, xLabel));
  svg.append(el('text', { class: 'label', x: 12, y: (margin.top + height - margin.bottom) / 2, transform: `rotate(-90 12 ${(margin.top + height - margin.bottom) / 2})`, 'text-anchor': 'middle' }, yLabel));
}

export function lossCurve(points: ReadonlyArray<{ step: number; loss: number; validLoss?: number }>): SVGSVGElement {
  const svg = el('svg', { class: 'plot loss-curve', viewBox: `0 0 ${width} ${height}`, width, height });
  if (points.length === 0) return svg;
  const steps = points.map((p) => p.step);
  const losses = points.flatMap((p) => (p.validLoss === undefined ? [p.loss] : [p.loss, p.validLoss])).filter(Number.isFinite);
  const xs: [number, number] = [Math.min(...steps), Math.max(...steps)];
  const ys: [number, number] = [Math.min(...losses), Math.max(...losses)];
  const x = linear(xs[0], xs[1], margin.left, width - margin.right);
  const y = linear(ys[0], ys[1], height - margin.bottom, margin.top);
  frame(svg, x, y, xs, ys, 'step', 'loss');
  svg.append(el('polyline', { class: 'series train', points: points.map((p) => `${x(p.step)},${y(p.loss)}`).join(' ') }));
  const valid = points.filter((p) => p.validLoss !== undefined);
  if (valid.length > 0) svg.append(el('polyline', { class: 'series valid', points: valid.map((p) => `${x(p.step)},${y(p.validLoss as number)}`).join(' ') }));
  svg.append(el('text', { class: 'legend train', x: width - margin.right, y: margin.top + 10, 'text-anchor': 'end' }, 'train'));
  if (valid.length > 0) svg.append(el('text', { class: 'legend valid', x: width - margin.right, y: margin.top + 24, 'text-anchor': 'end' }, 'validation'));
  return svg;
}

export function parityPlot(points: ReadonlyArray<[number, number]>): SVGSVGElement {
  const svg = el('svg', { class: 'plot parity', viewBox: `0 0 ${width} ${height}`, width, height });
  if (points.length === 0) return svg;
  const all = points.flat().filter(Number.isFinite);
  const range: [number, number] = [Math.min(...all), Math.max(...all)];
  const x = linear(range[0], range[1], margin.left, width - margin.right);
  const y = linear(range[0], range[1], height - margin.bottom, margin.top);
  frame(svg, x, y, range, range, 'true', 'predicted');
  svg.append(el('line', { class: 'diagonal', x1: x(range[0]), y1: y(range[0]), x2: x(range[1]), y2: y(range[1]) }));
  for (const [predicted, truth] of points) svg.append(el('circle', { class: 'point', cx: x(truth), cy: y(predicted), r: 2.5 }));
  return svg;
}
