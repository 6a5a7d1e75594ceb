// The on-air comparison as tables (terminal and Markdown).
import type { OnAirResult, Summary } from './on-air.ts';
import { fmt, mdTable, textTable } from './table.ts';

const HEAD = ['class', 'msgs', 'size', 'hfmail', 'alone', 'LZHUF', 'B2F', 'B2F alone', 'gzip -9', 'brotli 11', 'SMTP', 'x LZHUF', 'x LZHUF alone', 'median x LZHUF', 'x B2F', 'x gzip'];

function row(label: string, s: Summary): string[] {
  if (s.messages === 0) return [label, '0', ...HEAD.slice(2).map(() => '-')];
  return [
    label,
    String(s.messages),
    fmt.n(s.meanSizeBytes),
    fmt.n(s.meanOnAirBytes),
    fmt.n(s.meanLoneOnAirBytes),
    fmt.n(s.meanLzhufBytes),
    fmt.n(s.meanB2fBytes),
    fmt.n(s.meanB2fLoneBytes),
    fmt.n(s.meanGzipBytes),
    fmt.n(s.meanBrotliBytes),
    fmt.n(s.meanSmtpBytes),
    fmt.r(s.meanRatioToLzhuf),
    fmt.r(s.loneRatioToLzhuf),
    fmt.r(s.medianRatioToLzhuf),
    fmt.r(s.meanRatioToB2f),
    fmt.r(s.meanRatioToGzip),
  ];
}

function rows(r: OnAirResult): string[][] {
  return [row('all', r), ...Object.values(r.classes).map((c) => row(c.label, c))];
}

export function onAirText(r: OnAirResult): string {
  return textTable(HEAD, rows(r));
}

export function onAirMarkdown(r: OnAirResult): string {
  return mdTable(HEAD, rows(r));
}
