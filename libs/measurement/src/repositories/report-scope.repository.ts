import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type ScopeKind = 'advertiser' | 'campaign' | 'lineItem';

/** Who owns a report's scope, and the owner's currency and zone. */
export interface ScopeOwner {
  advertiserId: string;
  /** The campaign itself, or the line item's; absent for an advertiser. */
  campaignId?: string;
  currency: string | null;
  timezone: string;
}

const OWNER_SQL: Record<ScopeKind, string> = {
  advertiser: 'SELECT a.id AS advertiser_id, NULL AS campaign_id, a.currency, a.timezone FROM advertisers a WHERE a.id = ?',
  campaign: 'SELECT c.advertiser_id, c.id AS campaign_id, a.currency, a.timezone FROM campaigns c JOIN advertisers a ON a.id = c.advertiser_id WHERE c.id = ?',
  lineItem: 'SELECT l.advertiser_id, l.campaign_id, a.currency, a.timezone FROM line_items l JOIN advertisers a ON a.id = l.advertiser_id WHERE l.id = ?',
};

/** The SQL that resolves a report's scope (an advertiser, campaign or line item) to its owner: one primary-key read. */
@Injectable()
export class ReportScopeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The scope's owner, or null when no such advertiser, campaign or line item exists. */
  async owner(kind: ScopeKind, id: string): Promise<ScopeOwner | null> {
    const [row] = await this.dataSource.query<Array<{ advertiser_id: string; campaign_id: string | null; currency: string | null; timezone: string | null }>>(OWNER_SQL[kind], [id]);
    return row ? { advertiserId: row.advertiser_id, campaignId: row.campaign_id ?? undefined, currency: row.currency, timezone: row.timezone ?? 'UTC' } : null;
  }
}
