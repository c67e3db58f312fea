import type { Breakdown, Granularity, ReportRowDto } from '../dto/report.dto';

const METRICS = [
  'impressions',
  'starts',
  'firstQuartiles',
  'midpoints',
  'thirdQuartiles',
  'completes',
  'clicks',
  'ctr',
  'completionRate',
  'reach',
  'frequency',
  'spendMicros',
  'writtenOffMicros',
  'invalidImpressions',
  'invalidClicks',
  'invalidEvents',
  'reachMethod',
] as const;

const DIMENSION_COLUMN: Record<Breakdown, 'country' | 'platform' | 'creativeId'> = { country: 'country', platform: 'platform', creative: 'creativeId' };

/** One RFC 4180 field: quoted when it holds a comma, quote or line break; formula starters defused. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // Spreadsheets run cells starting with these as formulas; ids and codes never do, but be safe.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The report as CSV: a header row, then one line per row; columns follow granularity and breakdown. */
export function reportToCsv(rows: ReportRowDto[], granularity: Granularity, breakdown: Breakdown[]): string {
  const dimensions = breakdown.map((b) => DIMENSION_COLUMN[b]);
  const columns = [...(granularity === 'total' ? [] : ['period' as const]), ...dimensions, ...METRICS];
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c] as string | number | undefined)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
