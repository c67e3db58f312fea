import { ApiKeyEntity, ApiKeyService, Principal, scopeOf } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, FindOptionsWhere, LessThan } from 'typeorm';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto';
import { ListQueryDto } from '../dto/common.dto';
import { isId, notFound } from '../http/errors';
import { AdvertisersService } from './advertisers.service';
import { DEFAULT_PAGE_SIZE, Page, isoOrNull, toPage } from './persistence';

/**
 * The HTTP side of API keys, on top of the platform's ApiKeyService (hashing, resolution, the
 * revocation broadcast). An advertiser key may manage its own advertiser's keys only; the keys it mints
 * are its children and are revoked with it (see ApiKeyService).
 */
@Injectable()
export class AdvertiserApiKeysService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: ApiKeyService,
    private readonly advertisers: AdvertisersService,
  ) {}

  async create(advertiserId: string, dto: CreateApiKeyDto, principal: Principal): Promise<CreatedApiKeyDto> {
    await this.advertisers.findVisible(this.dataSource.manager, advertiserId, scopeOf(principal));
    const created = await this.keys.create(advertiserId, dto.name ?? 'default', principal);
    return { id: created.id, advertiserId, name: created.name, parentKeyId: created.parentKeyId, keyPrefix: created.keyPrefix, createdAt: created.createdAt.toISOString(), key: created.key };
  }

  async list(advertiserId: string, query: ListQueryDto, principal: Principal): Promise<Page<ApiKeyDto>> {
    await this.advertisers.findVisible(this.dataSource.manager, advertiserId, scopeOf(principal));
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: FindOptionsWhere<ApiKeyEntity> = { advertiserId };
    if (query.cursor) where.id = LessThan(query.cursor);
    const skip = !query.cursor && query.page ? (query.page - 1) * limit : 0;
    const rows = await this.dataSource.getRepository(ApiKeyEntity).find({ where, order: { id: 'DESC' }, skip, take: limit + 1 });
    return toPage(rows, limit, (page) => page.map(toApiKeyDto));
  }

  async revoke(id: string, principal: Principal): Promise<ApiKeyDto> {
    if (!isId(id)) throw notFound('api key', id);
    return toApiKeyDto(await this.keys.revoke(id, scopeOf(principal), principal));
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
