import type { ReportRowDto } from '../dto/report.dto';
import { csvField, reportToCsv } from './report-csv';

const row = (over: Partial<ReportRowDto> = {}): ReportRowDto => ({
  impressions: 10,
  starts: 9,
  firstQuartiles: 8,
  midpoints: 7,
  thirdQuartiles: 6,
  completes: 5,
  clicks: 1,
  ctr: 0.1,
  completionRate: 0.5,
  reach: 4,
  frequency: 2.5,
  reachMethod: 'exact',
  spendMicros: 12345,
  writtenOffMicros: 678,
  invalidImpressions: 2,
  invalidClicks: 0,
  invalidEvents: 3,
  invalidByReason: { expired: 0, bot: 3, sequence: 0, rateLimit: 0 },
  ...over,
});

describe('report CSV', () => {
  it('writes a header and one line per row, metrics only for a total', () => {
    const csv = reportToCsv([row()], 'total', []);
    expect(csv).toBe(
      'impressions,starts,firstQuartiles,midpoints,thirdQuartiles,completes,clicks,ctr,completionRate,reach,frequency,spendMicros,writtenOffMicros,invalidImpressions,invalidClicks,invalidEvents,reachMethod\r\n' +
        '10,9,8,7,6,5,1,0.1,0.5,4,2.5,12345,678,2,0,3,exact\r\n',
    );
  });

  it('adds period and breakdown columns in order', () => {
    const csv = reportToCsv([row({ period: '2026-11-25', country: 'US', platform: 'ios', creativeId: 'c1' })], 'day', ['platform', 'creative', 'country']);
    const [header, line] = csv.split('\r\n');
    expect(header.split(',').slice(0, 5)).toEqual(['period', 'platform', 'creativeId', 'country', 'impressions']);
    expect(line.split(',').slice(0, 5)).toEqual(['2026-11-25', 'ios', 'c1', 'US', '10']);
  });

  it('writes only the header when there are no rows', () => {
    expect(reportToCsv([], 'hour', ['country']).split('\r\n')).toEqual([expect.stringMatching(/^period,country,impressions,/), '']);
  });

  it('quotes fields with commas, quotes and line breaks, and defuses formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('x\ny')).toBe('"x\ny"');
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField(-5)).toBe('-5');
    expect(csvField(undefined)).toBe('');
  });
});
