import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AdvertiserRepository } from './advertiser.repository';
import { CampaignRepository } from './campaign.repository';
import { CreativeRepository } from './creative.repository';
import { LineItemRepository } from './line-item.repository';

/** The public surface of a repository class (what a service may call, and an in-memory fake implements). */
export type PublicOf<T> = Pick<T, keyof T>;

export interface CampaignRepositories {
  advertisers: PublicOf<AdvertiserRepository>;
  campaigns: PublicOf<CampaignRepository>;
  lineItems: PublicOf<LineItemRepository>;
  creatives: PublicOf<CreativeRepository>;
}

function repositoriesOn(manager: EntityManager): CampaignRepositories {
  return { advertisers: new AdvertiserRepository(manager), campaigns: new CampaignRepository(manager), lineItems: new LineItemRepository(manager), creatives: new CreativeRepository(manager) };
}

/**
 * Campaign management's way to MySQL: the repositories of its aggregates, outside a transaction
 * (`repos`) or inside one (`transaction`). Services hold the rules and never write SQL.
 */
@Injectable()
export class CampaignsStore {
  readonly repos: CampaignRepositories;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.repos = repositoriesOn(dataSource.manager);
  }

  transaction<T>(work: (repos: CampaignRepositories) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(repositoriesOn(manager)));
  }
}
