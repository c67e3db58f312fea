import { ApiKeyEntity, ApiKeyService, Page, PageQuery, Principal, mapPage, scopeOf } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto';
import { notFound } from '../http/errors';
import { CampaignsStore } from '../repositories/campaigns.store';
import { isoOrNull } from './audit-fields';
import { findVisible } from './visible';

/**
 * The HTTP side of API keys, on top of the platform's ApiKeyService (hashing, resolution, the
 * revocation broadcast). An advertiser key may manage its own advertiser's keys only; the keys it mints
 * are its children and are revoked with it (see ApiKeyService).
 */
@Injectable()
export class AdvertiserApiKeysService {
  constructor(
    private readonly store: CampaignsStore,
    private readonly keys: ApiKeyService,
  ) {}

  async create(advertiserId: string, dto: CreateApiKeyDto, principal: Principal): Promise<CreatedApiKeyDto> {
    await findVisible('advertiser', advertiserId, this.store.repos.advertisers.findOwned(advertiserId, scopeOf(principal)));
    const created = await this.keys.create(advertiserId, dto.name ?? 'default', principal);
    return { id: created.id, advertiserId, name: created.name, parentKeyId: created.parentKeyId, keyPrefix: created.keyPrefix, createdAt: created.createdAt.toISOString(), key: created.key };
  }

  async list(advertiserId: string, query: PageQuery, principal: Principal): Promise<Page<ApiKeyDto>> {
    await findVisible('advertiser', advertiserId, this.store.repos.advertisers.findOwned(advertiserId, scopeOf(principal)));
    return mapPage(await this.keys.page(advertiserId, query), (rows) => rows.map(toApiKeyDto));
  }

  async revoke(id: string, principal: Principal): Promise<ApiKeyDto> {
    const revoked = await this.keys.revoke(id, scopeOf(principal), principal);
    if (!revoked) throw notFound('api key', id);
    return toApiKeyDto(revoked);
  }
}

export function toApiKeyDto(k: ApiKeyEntity): ApiKeyDto {
  return {
    id: k.id,
    advertiserId: k.advertiserId,
    name: k.name,
    parentKeyId: k.parentKeyId,
    keyPrefix: k.keyPrefix,
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    revokedAt: isoOrNull(k.revokedAt),
    revokedBy: k.revokedBy,
  };
}
