import { Principal, actorOf, invalidField, scopeOf, uuidv7 } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CreateCreativeDto, CreativeDto, CreativeListQueryDto, ReviewCreativeDto, UpdateCreativeDto, mimeTypeFits } from '../dto/creative.dto';
import { CreativeEntity } from '../entities/creative.entity';
import { checkIfMatch, isId, notFound } from '../http/errors';
import { AdvertisersService } from './advertisers.service';
import { CatalogNotifier } from './catalog-notifier.service';
import { Page, paginate, auditOf, isoOrNull, toPage, updateVersioned } from './persistence';

/** Fields whose change puts a creative back in review: what the listener hears, sees or is sent to. */
const REVIEWED_FIELDS = ['mediaUrl', 'clickThroughUrl', 'companionImageUrl'] as const;

@Injectable()
export class CreativesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly advertisers: AdvertisersService,
    private readonly notifier: CatalogNotifier,
  ) {}

  async create(dto: CreateCreativeDto, principal: Principal): Promise<CreativeDto> {
    const advertiser = await this.advertisers.findVisible(this.dataSource.manager, dto.advertiserId, scopeOf(principal));
    const now = new Date();
    const actor = actorOf(principal);
    const repo = this.dataSource.getRepository(CreativeEntity);
    const row = repo.create({
      id: uuidv7(),
      advertiserId: advertiser.id,
      name: dto.name,
      format: dto.format,
      mediaUrl: dto.mediaUrl,
      mimeType: dto.mimeType,
      durationSeconds: dto.durationSeconds,
      clickThroughUrl: dto.clickThroughUrl,
      companionImageUrl: dto.companionImageUrl ?? null,
      status: 'pending_review',
      reviewNote: null,
      reviewedAt: null,
      reviewedBy: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: actor,
      updatedBy: actor,
    });
    await repo.insert(row);
    return toCreativeDto(row);
  }

  async list(query: CreativeListQueryDto, principal: Principal): Promise<Page<CreativeDto>> {
    const scope = scopeOf(principal);
    const qb = this.dataSource.getRepository(CreativeEntity).createQueryBuilder('cr');
    if (scope !== undefined) qb.andWhere('cr.advertiser_id = :scope', { scope });
    if (query.advertiserId !== undefined) qb.andWhere('cr.advertiser_id = :advertiserId', { advertiserId: query.advertiserId });
    if (query.status !== undefined) qb.andWhere('cr.status = :status', { status: query.status });
    if (query.format !== undefined) qb.andWhere('cr.format = :format', { format: query.format });
    const limit = paginate(qb, 'cr', query);
    return toPage(await qb.getMany(), limit, (rows) => rows.map(toCreativeDto));
  }

  async get(id: string, principal: Principal): Promise<CreativeDto> {
    return toCreativeDto(await this.findVisible(this.dataSource.manager, id, scopeOf(principal)));
  }

  async update(id: string, dto: UpdateCreativeDto, ifMatch: string | undefined, principal: Principal): Promise<CreativeDto> {
    const updated = await this.dataSource.transaction(async (manager) => {
      const current = await this.findVisible(manager, id, scopeOf(principal));
      checkIfMatch(ifMatch, 'creative', id, current.version);
      if (dto.mimeType !== undefined && !mimeTypeFits(current.format, dto.mimeType)) {
        throw invalidField('mimeType', `must be a ${current.format === 'display' ? 'image' : current.format}/* type for a ${current.format} creative`);
      }
      const patch: Partial<CreativeEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.mediaUrl !== undefined) patch.mediaUrl = dto.mediaUrl;
      if (dto.mimeType !== undefined) patch.mimeType = dto.mimeType;
      if (dto.durationSeconds !== undefined) patch.durationSeconds = dto.durationSeconds;
      if (dto.clickThroughUrl !== undefined) patch.clickThroughUrl = dto.clickThroughUrl;
      if (dto.companionImageUrl !== undefined) patch.companionImageUrl = dto.companionImageUrl;
      if (REVIEWED_FIELDS.some((field) => patch[field] !== undefined && patch[field] !== current[field])) {
        Object.assign(patch, { status: 'pending_review', reviewNote: null, reviewedAt: null, reviewedBy: null });
      }
      await updateVersioned(manager, CreativeEntity, 'creative', id, current.version, patch, actorOf(principal), new Date());
      return this.findVisible(manager, id, undefined);
    });
    await this.notifier.changed('creative', [id]);
    return toCreativeDto(updated);
  }

  /** Admin only (enforced by the controller): approve or reject; only approved creatives serve. */
  async review(id: string, dto: ReviewCreativeDto, ifMatch: string | undefined, principal: Principal): Promise<CreativeDto> {
    const updated = await this.dataSource.transaction(async (manager) => {
      const current = await this.findVisible(manager, id, scopeOf(principal));
      checkIfMatch(ifMatch, 'creative', id, current.version);
      const now = new Date();
      const actor = actorOf(principal);
      await updateVersioned(manager, CreativeEntity, 'creative', id, current.version, { status: dto.decision, reviewNote: dto.note ?? null, reviewedAt: now, reviewedBy: actor }, actor, now);
      const reviewed = await this.findVisible(manager, id, undefined);
      if (dto.decision === 'approved') await recordApprovedVersion(manager, reviewed, actor, now);
      return reviewed;
    });
    await this.notifier.changed('creative', [id]);
    return toCreativeDto(updated);
  }

  async findVisible(manager: EntityManager, id: string, scope: string | undefined): Promise<CreativeEntity> {
    if (!isId(id)) throw notFound('creative', id);
    const row = await manager.getRepository(CreativeEntity).findOne({ where: { id } });
    if (!row || (scope !== undefined && row.advertiserId !== scope)) throw notFound('creative', id);
    return row;
  }
}

/**
 * Keeps what was just approved as the creative's next approved version, in the review's transaction
 * (after its versioned update, which holds the creative's row lock: concurrent reviews cannot race for
 * a version number). Approving content identical to the latest approved version adds nothing, so
 * re-approving keeps ads already served and ads served next on the same version.
 */
async function recordApprovedVersion(manager: EntityManager, creative: CreativeEntity, actor: string, now: Date): Promise<void> {
  const [latest] = (await manager.query(
    `SELECT version, media_url, mime_type, duration_seconds, click_through_url, companion_image_url
       FROM creative_approved_versions WHERE creative_id = ? ORDER BY version DESC LIMIT 1`,
    [creative.id],
  )) as Array<{ version: number; media_url: string; mime_type: string; duration_seconds: number; click_through_url: string; companion_image_url: string | null }>;
  if (
    latest &&
    latest.media_url === creative.mediaUrl &&
    latest.mime_type === creative.mimeType &&
    Number(latest.duration_seconds) === creative.durationSeconds &&
    latest.click_through_url === creative.clickThroughUrl &&
    latest.companion_image_url === creative.companionImageUrl
  ) {
    return;
  }
  await manager.query(
    `INSERT INTO creative_approved_versions
       (creative_id, version, media_url, mime_type, duration_seconds, click_through_url, companion_image_url, creative_version, approved_at, approved_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [creative.id, (latest ? Number(latest.version) : 0) + 1, creative.mediaUrl, creative.mimeType, creative.durationSeconds, creative.clickThroughUrl, creative.companionImageUrl, creative.version, now, actor],
  );
}

export function toCreativeDto(c: CreativeEntity): CreativeDto {
  return {
    id: c.id,
    advertiserId: c.advertiserId,
    name: c.name,
    format: c.format,
    mediaUrl: c.mediaUrl,
    mimeType: c.mimeType,
    durationSeconds: c.durationSeconds,
    clickThroughUrl: c.clickThroughUrl,
    companionImageUrl: c.companionImageUrl,
    status: c.status,
    reviewNote: c.reviewNote,
    reviewedAt: isoOrNull(c.reviewedAt),
    reviewedBy: c.reviewedBy,
    ...auditOf(c),
  };
}
