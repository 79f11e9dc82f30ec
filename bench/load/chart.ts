/** A small hand-written SVG chart of a load run: participants against engine CPU and tick lateness. */
import type { StepResult } from './index.js';

const W = 900;
const H = 420;
const PAD = { left: 60, right: 70, top: 30, bottom: 50 };
// Twelve distinct colours: two kernel flavours × five shapes, and the I/O floor's two ramps.
const COLOURS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#e377c2',
  '#000000',
  '#393b79'
];

export function renderChart(steps: StepResult[]): string {
  const series = new Map<string, StepResult[]>();
  for (const s of steps) {
    const key = `${s.kernels} · ${s.shape}${s.round !== undefined && s.round > 1 ? ` · round ${s.round}` : ''}`;
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  const maxN = Math.max(100, ...steps.map((s) => s.participants));
  const maxCpu = Math.max(100, ...steps.map((s) => s.coreSharePct));
  const maxLate = Math.max(5, ...steps.map((s) => s.latenessMsP99));
  const x = (n: number): number => PAD.left + ((W - PAD.left - PAD.right) * n) / maxN;
  const yCpu = (v: number): number => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / maxCpu;
  const yLate = (v: number): number => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / maxLate;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">uasmedia load: engine CPU (solid, left axis) and p99 tick lateness (dashed, right axis)</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="black"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="black"/>`,
    `<line x1="${W - PAD.right}" y1="${PAD.top}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">participants</text>`,
    `<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle">engine CPU, % of one core</text>`,
    `<text x="${W - 16}" y="${H / 2}" transform="rotate(90 ${W - 16} ${H / 2})" text-anchor="middle">p99 tick lateness, ms</text>`
  ];
  for (let i = 0; i <= 5; i++) {
    const n = (maxN * i) / 5;
    parts.push(`<text x="${x(n)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${Math.round(n)}</text>`);
    parts.push(
      `<text x="${PAD.left - 6}" y="${yCpu((maxCpu * i) / 5) + 4}" text-anchor="end">${Math.round((maxCpu * i) / 5)}</text>`
    );
    parts.push(
      `<text x="${W - PAD.right + 6}" y="${yLate((maxLate * i) / 5) + 4}">${((maxLate * i) / 5).toFixed(1)}</text>`
    );
  }
  let k = 0;
  for (const [name, points] of series) {
    const colour = COLOURS[k % COLOURS.length];
    const cpu = points
      .map((p) => `${x(p.participants).toFixed(1)},${yCpu(p.coreSharePct).toFixed(1)}`)
      .join(' ');
    const late = points
      .map((p) => `${x(p.participants).toFixed(1)},${yLate(p.latenessMsP99).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline points="${cpu}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(
      `<polyline points="${late}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5,4"/>`
    );
    parts.push(
      `<text x="${PAD.left + 10}" y="${PAD.top + 16 + 15 * k}" fill="${colour}">${escapeXml(name)}</text>`
    );
    k++;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
