import { RedisService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { CATALOG_CHANGED_CHANNEL } from '../catalog/delivery-catalog.types';

export type CatalogEntity = 'advertiser' | 'campaign' | 'line_item' | 'creative';

/** The message published on CATALOG_CHANGED_CHANNEL (JSON). */
export interface CatalogChange {
  entity: CatalogEntity;
  /** Ids of the changed rows (empty when a set-based job changed several). */
  ids: string[];
  /** The Redis catalog counter after this change, or null when Redis could not be reached. */
  counter: number | null;
}

/**
 * Tells every API replica that the delivery catalog changed, after the change is committed: bumps
 * the catalog counter (read by DeliveryCatalogService.version(), so a replica that missed the
 * message notices on its next check) and publishes. Never fails the caller: the write is already
 * committed, and the MySQL part of the version still moves.
 */
@Injectable()
export class CatalogNotifier {
  private readonly logger = new Logger(CatalogNotifier.name);

  constructor(private readonly redis: RedisService) {}

  counterKey(): string {
    return this.redis.key('catalog', 'version');
  }

  async changed(entity: CatalogEntity, ids: string[]): Promise<void> {
    let counter: number | null = null;
    try {
      counter = await this.redis.client.incr(this.counterKey());
      const message: CatalogChange = { entity, ids, counter };
      await this.redis.publish(CATALOG_CHANGED_CHANNEL, JSON.stringify(message));
    } catch (err) {
      this.logger.warn(`catalog change of ${entity} ${ids.join(',')} not announced (counter ${counter ?? 'not bumped'}): ${(err as Error).message}`);
    }
  }
}
