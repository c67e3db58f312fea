import type { ExportRow } from '../repositories/export-state.repository';
import { needOf } from './export-plan';

const row = (table: ExportRow['table'], state: ExportRow['state'], partial = false): ExportRow => ({
  day: '2026-11-20',
  table,
  state,
  partial,
  rows: 1,
  manifest: null,
  verification: null,
  error: null,
  runId: 'r',
  startedAt: new Date(0),
  finishedAt: null,
  verifiedAt: null,
});

describe('what a closed day needs', () => {
  it('is done only when every table is verified and final', () => {
    expect(needOf([row('raw_events', 'verified'), row('rollups_hourly', 'verified')])).toBe('done');
    expect(needOf([row('raw_events', 'verified')])).toBe('export');
    expect(needOf([row('raw_events', 'verified', true), row('rollups_hourly', 'verified')])).toBe('export');
  });

  it('verifies what was exported but not verified, and exports again anything else', () => {
    expect(needOf([row('raw_events', 'exported'), row('rollups_hourly', 'verified')])).toBe('verify');
    for (const state of ['running', 'failed', 'mismatch'] as const) expect(needOf([row('raw_events', state), row('rollups_hourly', 'verified')])).toBe('export');
    expect(needOf([])).toBe('export');
  });
});
