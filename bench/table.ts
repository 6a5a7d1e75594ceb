// Plain-text and Markdown tables for the benchmark reports.

/** Columns right-aligned except the first, for the terminal. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

export function mdTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (r: readonly string[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export const fmt = {
  n: (x: number) => Math.round(x).toLocaleString('en-US'),
  r: (x: number) => x.toFixed(3),
  f1: (x: number) => x.toFixed(1),
};
