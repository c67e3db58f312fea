import { sqlBigInt } from '@app/platform';
import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type SpendAccountKind = 'line_item' | 'campaign';

/** What one aggregation batch adds to an account of the spend ledger. */
export interface SpendLedgerChange {
  kind: SpendAccountKind;
  id: string;
  billedEvents: number;
  billedMilli: bigint;
  writtenOffEvents: number;
  writtenOffMilli: bigint;
}

/** The budgets billing is capped by, micros, as they stand now. */
export interface Budgets {
  /** Line items that exist (a deleted one is absent). */
  lineItems: Map<string, bigint>;
  /** Campaigns that exist; null: no campaign budget. */
  campaigns: Map<string, bigint | null>;
}

/**
 * The SQL of the spend ledger (`spend_ledger`: per line item and campaign, what the aggregation has
 * billed and written off, milli-micros) and of the budgets it is capped by.
 */
@Injectable()
export class SpendLedgerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Billed milli-micros of some accounts of one kind, by id (accounts never billed are absent). */
  async billed(kind: SpendAccountKind, ids: readonly string[]): Promise<Map<string, bigint>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<Array<{ account_id: string; billed_mmicros: string }>>('SELECT account_id, billed_mmicros FROM spend_ledger WHERE account_kind = ? AND account_id IN (?)', [
      kind,
      ids,
    ]);
    return new Map(rows.map((r) => [r.account_id, sqlBigInt(r.billed_mmicros)]));
  }

  /** Billed and written-off milli-micros of some line items, by id (line items never billed are absent). */
  async lineItemTotals(ids: readonly string[]): Promise<Map<string, { billedMilli: bigint; writtenOffMilli: bigint }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<Array<{ account_id: string; billed_mmicros: string; written_off_mmicros: string }>>(
      `SELECT account_id, billed_mmicros, written_off_mmicros FROM spend_ledger WHERE account_kind = 'line_item' AND account_id IN (?)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.account_id, { billedMilli: sqlBigInt(r.billed_mmicros), writtenOffMilli: sqlBigInt(r.written_off_mmicros) }]));
  }

  /** Billed milli-micros of some line items and campaigns (non-empty lists), read in `db`'s transaction. */
  async billedOf(db: Queryable, lineItemIds: string[], campaignIds: string[]): Promise<{ lineItems: Map<string, bigint>; campaigns: Map<string, bigint> }> {
    const rows = await db.query<Array<{ kind: SpendAccountKind; id: string; billed: string }>>(
      `SELECT account_kind AS kind, account_id AS id, billed_mmicros AS billed FROM spend_ledger
       WHERE (account_kind = 'line_item' AND account_id IN (?)) OR (account_kind = 'campaign' AND account_id IN (?))`,
      [lineItemIds, campaignIds],
    );
    const out = { lineItems: new Map<string, bigint>(), campaigns: new Map<string, bigint>() };
    for (const r of rows) (r.kind === 'line_item' ? out.lineItems : out.campaigns).set(r.id, sqlBigInt(r.billed));
    return out;
  }

  /** The budgets of some line items and campaigns (non-empty lists), micros. */
  async budgets(db: Queryable, lineItemIds: string[], campaignIds: string[]): Promise<Budgets> {
    const lineItems = await db.query<Array<{ id: string; budget: string }>>('SELECT id, budget_micros AS budget FROM line_items WHERE id IN (?)', [lineItemIds]);
    const campaigns = await db.query<Array<{ id: string; budget: string | null }>>('SELECT id, budget_micros AS budget FROM campaigns WHERE id IN (?)', [campaignIds]);
    return {
      lineItems: new Map(lineItems.map((r) => [r.id, sqlBigInt(r.budget)])),
      campaigns: new Map(campaigns.map((r) => [r.id, r.budget === null ? null : sqlBigInt(r.budget)])),
    };
  }

  /** Adds a batch's changes to their accounts (creating those not yet billed), in `db`'s transaction. */
  async add(db: Queryable, changes: SpendLedgerChange[]): Promise<void> {
    if (changes.length === 0) return;
    const at = new Date();
    await db.query(
      `INSERT INTO spend_ledger (account_kind, account_id, billed_events, billed_mmicros, written_off_events, written_off_mmicros, updated_at) VALUES ?
       ON DUPLICATE KEY UPDATE billed_events = billed_events + VALUES(billed_events), billed_mmicros = billed_mmicros + VALUES(billed_mmicros),
         written_off_events = written_off_events + VALUES(written_off_events), written_off_mmicros = written_off_mmicros + VALUES(written_off_mmicros), updated_at = VALUES(updated_at)`,
      [changes.map((c) => [c.kind, c.id, c.billedEvents, c.billedMilli.toString(), c.writtenOffEvents, c.writtenOffMilli.toString(), at])],
    );
  }
}
