import { DeliveryLedger } from '@app/delivery-ledger';
import { SpendState, SpendStateReader } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { SpendLedgerRepository } from '../repositories/spend-ledger.repository';

/** Spend of line items and campaigns for `deliveryState`: one primary-key read of the ledger, one Redis script call. */
@Injectable()
export class SpendStateService implements SpendStateReader {
  constructor(
    private readonly ledger: SpendLedgerRepository,
    private readonly counters: DeliveryLedger,
  ) {}

  async lineItems(ids: readonly string[]): Promise<Map<string, SpendState>> {
    const billed = await this.ledger.billed('line_item', ids);
    // Today's spend lives only in the counters; without Redis the state still answers from the ledger.
    const today = await this.counters.readLineItems(ids).catch(() => new Map<string, { spentTodayMilliMicros: number }>());
    return new Map(ids.map((id) => [id, { billedMilli: billed.get(id) ?? 0n, spentTodayMilli: BigInt(Math.trunc(today.get(id)?.spentTodayMilliMicros ?? 0)) }]));
  }

  async campaigns(ids: readonly string[]): Promise<Map<string, SpendState>> {
    const billed = await this.ledger.billed('campaign', ids);
    return new Map(ids.map((id) => [id, { billedMilli: billed.get(id) ?? 0n, spentTodayMilli: 0n }]));
  }
}
