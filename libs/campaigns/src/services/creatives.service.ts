import { Page, Principal, actorOf, invalidField, mapPage, scopeOf, uuidv7 } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { CreateCreativeDto, CreativeDto, CreativeListQueryDto, ReviewCreativeDto, UpdateCreativeDto, mimeTypeFits } from '../dto/creative.dto';
import { CreativeEntity } from '../entities/creative.entity';
import { checkIfMatch } from '../http/errors';
import { CampaignsStore } from '../repositories/campaigns.store';
import type { ApprovedContent } from '../repositories/creative.repository';
import { auditOf, isoOrNull, newAudit } from './audit-fields';
import { CatalogNotifier } from './catalog-notifier.service';
import { findVisible } from './visible';

/** Fields whose change puts a creative back in review: what the listener hears, sees or is sent to. */
const REVIEWED_FIELDS = ['mediaUrl', 'clickThroughUrl', 'companionImageUrl'] as const;

@Injectable()
export class CreativesService {
  constructor(
    private readonly store: CampaignsStore,
    private readonly notifier: CatalogNotifier,
  ) {}

  async create(dto: CreateCreativeDto, principal: Principal): Promise<CreativeDto> {
    const { repos } = this.store;
    const advertiser = await findVisible('advertiser', dto.advertiserId, repos.advertisers.findOwned(dto.advertiserId, scopeOf(principal)));
    const row: CreativeEntity = {
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
      ...newAudit(actorOf(principal), new Date()),
    };
    await repos.creatives.insert(row);
    return toCreativeDto(row);
  }

  async list(query: CreativeListQueryDto, principal: Principal): Promise<Page<CreativeDto>> {
    const page = await this.store.repos.creatives.page(query, scopeOf(principal), { advertiser_id: query.advertiserId, status: query.status, format: query.format });
    return mapPage(page, (rows) => rows.map(toCreativeDto));
  }

  async get(id: string, principal: Principal): Promise<CreativeDto> {
    return toCreativeDto(await findVisible('creative', id, this.store.repos.creatives.findOwned(id, scopeOf(principal))));
  }

  async update(id: string, dto: UpdateCreativeDto, ifMatch: string | undefined, principal: Principal): Promise<CreativeDto> {
    const updated = await this.store.transaction(async ({ creatives }) => {
      const current = await findVisible('creative', id, creatives.findOwned(id, scopeOf(principal)));
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
      await creatives.updateVersioned('creative', id, current.version, patch, actorOf(principal), new Date());
      return findVisible('creative', id, creatives.findOwned(id, undefined));
    });
    await this.notifier.changed('creative', [id]);
    return toCreativeDto(updated);
  }

  /**
   * Admin only (enforced by the controller): approve or reject; only approved creatives serve. An
   * approval keeps what was approved as the creative's next approved version, in the review's
   * transaction (after its versioned update, which holds the creative's row lock: concurrent reviews
   * cannot race for a version number). Approving content identical to the latest approved version
   * adds nothing, so ads already served and ads served next stay on the same version.
   */
  async review(id: string, dto: ReviewCreativeDto, ifMatch: string | undefined, principal: Principal): Promise<CreativeDto> {
    const updated = await this.store.transaction(async ({ creatives }) => {
      const current = await findVisible('creative', id, creatives.findOwned(id, scopeOf(principal)));
      checkIfMatch(ifMatch, 'creative', id, current.version);
      const now = new Date();
      const actor = actorOf(principal);
      await creatives.updateVersioned('creative', id, current.version, { status: dto.decision, reviewNote: dto.note ?? null, reviewedAt: now, reviewedBy: actor }, actor, now);
      const reviewed = await findVisible('creative', id, creatives.findOwned(id, undefined));
      if (dto.decision === 'approved') {
        const latest = await creatives.latestApprovedVersion(id);
        const content = approvedContentOf(reviewed);
        if (!latest || !sameContent(latest, content)) await creatives.insertApprovedVersion(id, (latest?.version ?? 0) + 1, content, reviewed.version, now, actor);
      }
      return reviewed;
    });
    await this.notifier.changed('creative', [id]);
    return toCreativeDto(updated);
  }
}

function approvedContentOf(c: CreativeEntity): ApprovedContent {
  return { mediaUrl: c.mediaUrl, mimeType: c.mimeType, durationSeconds: c.durationSeconds, clickThroughUrl: c.clickThroughUrl, companionImageUrl: c.companionImageUrl };
}

function sameContent(a: ApprovedContent, b: ApprovedContent): boolean {
  return a.mediaUrl === b.mediaUrl && a.mimeType === b.mimeType && a.durationSeconds === b.durationSeconds && a.clickThroughUrl === b.clickThroughUrl && a.companionImageUrl === b.companionImageUrl;
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
