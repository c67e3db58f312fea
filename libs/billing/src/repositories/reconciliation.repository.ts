import { sqlBigInt } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type ReconciliationState = 'ok' | 'pending' | 'mismatch';

/** Units and exact spend (milli-micros) of one line item and month, as one source counts them. */
export interface UsageFigure {
  units: number;
  mmicros: bigint;
}

export interface ReconciliationRow {
  advertiserId: string;
  period: string;
  lineItemId: string;
  checkedAt: Date;
  watermark: number;
  invoiced: UsageFigure;
  rollup: UsageFigure;
  /** Null when part of the month's raw events is past retention (dropped): then only invoices and rollups are compared. */
  raw: UsageFigure | null;
  state: ReconciliationState;
}

type Raw = Record<string, unknown>;

/** Rows deleted or inserted per statement. */
const CHUNK = 500;

/** The SQL of reconciliation results: the latest check of each advertiser's month, per line item. */
@Injectable()
export class ReconciliationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Lines found in disagreement by the latest check of their month. */
  async mismatchCount(): Promise<number> {
    const [row] = (await this.dataSource.query("SELECT COUNT(*) AS n FROM invoice_reconciliations WHERE state = 'mismatch'")) as Raw[];
    return Number(row?.n ?? 0);
  }

  async ofMonth(advertiserId: string, period: string): Promise<ReconciliationRow[]> {
    const rows = (await this.dataSource.query('SELECT * FROM invoice_reconciliations WHERE advertiser_id = ? AND period = ? ORDER BY line_item_id', [advertiserId, period])) as Raw[];
    return rows.map((r) => ({
      advertiserId: r.advertiser_id as string,
      period: r.period as string,
      lineItemId: r.line_item_id as string,
      checkedAt: r.checked_at as Date,
      watermark: Number(r.watermark),
      invoiced: { units: Number(r.invoiced_units), mmicros: sqlBigInt(r.invoiced_mmicros) },
      rollup: { units: Number(r.rollup_units), mmicros: sqlBigInt(r.rollup_mmicros) },
      raw: r.raw_units === null ? null : { units: Number(r.raw_units), mmicros: sqlBigInt(r.raw_mmicros) },
      state: r.state as ReconciliationState,
    }));
  }

  /** Replaces, in one transaction, the results of the checked months (advertiser and period) with `rows`. */
  async replace(months: Array<{ advertiserId: string; period: string }>, rows: ReconciliationRow[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const period of new Set(months.map((mo) => mo.period))) {
        const ids = months.filter((mo) => mo.period === period).map((mo) => mo.advertiserId);
        for (let i = 0; i < ids.length; i += CHUNK) await m.query('DELETE FROM invoice_reconciliations WHERE period = ? AND advertiser_id IN (?)', [period, ids.slice(i, i + CHUNK)]);
      }
      for (let i = 0; i < rows.length; i += CHUNK) {
        const values = rows
          .slice(i, i + CHUNK)
          .map((r) => [r.advertiserId, r.period, r.lineItemId, r.checkedAt, r.watermark, r.invoiced.units, String(r.invoiced.mmicros), r.rollup.units, String(r.rollup.mmicros), r.raw?.units ?? null, r.raw === null ? null : String(r.raw.mmicros), r.state]);
        await m.query(
          `INSERT INTO invoice_reconciliations (advertiser_id, period, line_item_id, checked_at, watermark, invoiced_units, invoiced_mmicros, rollup_units, rollup_mmicros, raw_units, raw_mmicros, state) VALUES ?`,
          [values],
        );
      }
    });
  }
}
