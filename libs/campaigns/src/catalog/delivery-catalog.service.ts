import { RedisService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DeliveryCatalogRepository, ServableCreative, ServableLineItem } from '../repositories/delivery-catalog.repository';
import type { CatalogLineItem, DeliveryCatalog } from './delivery-catalog.types';

/**
 * The read side delivery builds its in-memory index from. `load()` reads the whole servable catalog
 * in two set-based queries (no per-row queries); `version()` is a cheap token that changes whenever
 * anything in the catalog may have changed, to poll between pub/sub messages.
 */
@Injectable()
export class DeliveryCatalogService {
  private readonly logger = new Logger(DeliveryCatalogService.name);
  private readonly repository: DeliveryCatalogRepository;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly redis: RedisService,
  ) {
    this.repository = new DeliveryCatalogRepository(dataSource.manager);
  }

  /**
   * Every servable line item with its approved creatives of its format (line items without one are
   * left out), joined with the advertiser's timezone and currency. Line items whose flight has not
   * started yet are included (delivery checks startAt). Reads `version()` first, so a change that
   * lands during the load shows up as a newer version on the next check.
   */
  async load(now: Date = new Date()): Promise<DeliveryCatalog> {
    const version = await this.version();
    const lineItems = await this.repository.servableLineItems(now);
    // What serves is the creative's latest approved version, with its number for the tracking token: a click leads where the approved ad said.
    const creatives = await this.repository.servableCreatives(now);
    const byLineItem = new Map<string, ServableCreative[]>();
    for (const row of creatives) {
      const list = byLineItem.get(row.lineItemId) ?? [];
      list.push(row);
      byLineItem.set(row.lineItemId, list);
    }
    const items: CatalogLineItem[] = [];
    for (const row of lineItems) {
      const rows = byLineItem.get(row.id);
      if (!rows?.length) continue;
      items.push(toCatalogLineItem(row, rows));
    }
    items.sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1));
    return { loadedAt: now.getTime(), version, lineItems: items };
  }

  /**
   * A token that changes whenever the catalog may have changed: the Redis change counter (bumped
   * after every committed change) and the newest `updated_at` in MySQL (moves even when Redis was
   * unreachable at change time or has lost its keys). One indexed MAX() per table, one GET.
   * Compare tokens for equality only.
   */
  async version(): Promise<string> {
    const ms = await this.repository.newestChangeMs();
    let counter = 'none';
    try {
      counter = (await this.redis.client.get(this.redis.key('catalog', 'version'))) ?? '0';
    } catch (err) {
      this.logger.debug(`catalog counter unavailable, using MySQL only: ${(err as Error).message}`);
    }
    return `${counter}.${ms}`;
  }
}

function toCatalogLineItem(row: ServableLineItem, creativeRows: ServableCreative[]): CatalogLineItem {
  const { lineItemVersion, campaignVersion, advertiserVersion, ...lineItem } = row;
  const fingerprint = [lineItemVersion, campaignVersion, advertiserVersion, ...creativeRows.map((c) => `${c.id}:${c.version}:${c.approvedVersion}:${c.weight}`)].join('|');
  const creatives = creativeRows.map(({ lineItemId: _lineItem, version: _version, ...creative }) => creative);
  return { ...lineItem, creatives, version: fingerprintNumber(fingerprint) };
}

/** 48 bits of SHA-1: a number that changes with any of the versions it covers. */
function fingerprintNumber(text: string): number {
  return createHash('sha1').update(text).digest().readUIntBE(0, 6);
}
