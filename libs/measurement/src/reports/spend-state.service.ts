import { DeliveryLedger } from '@app/delivery-ledger';
import { SpendState, SpendStateReader } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Spend of line items and campaigns for `deliveryState`: one primary-key read of the ledger, one Redis script call. */
@Injectable()
export class SpendStateService implements SpendStateReader {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly counters: DeliveryLedger,
  ) {}

  async lineItems(ids: readonly string[]): Promise<Map<string, SpendState>> {
    const billed = await this.billed('line_item', ids);
    // Today's spend lives only in the counters; without Redis the state still answers from the ledger.
    const today = await this.counters.readLineItems(ids).catch(() => new Map<string, { spentTodayMilliMicros: number }>());
    return new Map(ids.map((id) => [id, { billedMilli: billed.get(id) ?? 0n, spentTodayMilli: BigInt(Math.trunc(today.get(id)?.spentTodayMilliMicros ?? 0)) }]));
  }

  async campaigns(ids: readonly string[]): Promise<Map<string, SpendState>> {
    const billed = await this.billed('campaign', ids);
    return new Map(ids.map((id) => [id, { billedMilli: billed.get(id) ?? 0n, spentTodayMilli: 0n }]));
  }

  private async billed(kind: 'line_item' | 'campaign', ids: readonly string[]): Promise<Map<string, bigint>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.dataSource.query('SELECT account_id, billed_mmicros FROM spend_ledger WHERE account_kind = ? AND account_id IN (?)', [kind, ids])) as Array<{ account_id: string; billed_mmicros: string }>;
    return new Map(rows.map((r) => [r.account_id, BigInt(String(r.billed_mmicros))]));
  }
}
