import type { AdvertiserEntity, CampaignEntity, CreativeEntity, CreativeFormat, LineItemEntity } from '@app/campaigns';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, RowLock, UUID_PATTERN } from '@app/platform';
import { ConflictException } from '@nestjs/common';
import type { CampaignRepositories, CampaignsStore } from '../../libs/campaigns/src/repositories/campaigns.store';
import type { ApprovedContent } from '../../libs/campaigns/src/repositories/creative.repository';
import type { AssignedCreative, Assignment, LineItemInFlight } from '../../libs/campaigns/src/repositories/line-item.repository';

type Row = { id: string; version: number; updatedAt: Date; updatedBy: string };

const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * One table in memory with what every tenant repository does (findOwned, page, insert,
 * updateVersioned), for fast tests of the services' rules. The SQL itself is tested on MariaDB by the
 * e2e suites; this only has to answer as the repositories do.
 */
class MemoryTable<E extends Row> {
  readonly rows = new Map<string, E>();
  /** Set to make the next updateVersioned find another version (a concurrent write). */
  concurrentWrite = false;

  constructor(private readonly owner: (row: E) => string) {}

  async findOwned(id: string, scope: string | undefined, _lock?: RowLock): Promise<E | null> {
    const row = UUID_PATTERN.test(id) ? this.rows.get(id) : undefined;
    return row && (scope === undefined || this.owner(row) === scope) ? { ...row } : null;
  }

  async page(query: PageQuery, scope: string | undefined, filters: Record<string, string | undefined> = {}): Promise<Page<E>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const all = [...this.rows.values()]
      .filter((r) => scope === undefined || this.owner(r) === scope)
      .filter((r) => Object.entries(filters).every(([column, value]) => value === undefined || (r as Record<string, unknown>)[camel(column)] === value))
      .filter((r) => !query.cursor || r.id < query.cursor)
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    const from = !query.cursor && query.page ? (query.page - 1) * limit : 0;
    const data = all.slice(from, from + limit);
    return { data, next: all.length > from + limit ? data[data.length - 1].id : null };
  }

  async insert(row: E): Promise<void> {
    if (this.rows.has(row.id)) throw new Error(`duplicate id ${row.id}`);
    this.rows.set(row.id, { ...row });
  }

  async updateVersioned(kind: string, id: string, expectedVersion: number, patch: Partial<E>, actor: string, now: Date): Promise<void> {
    const row = this.rows.get(id);
    if (!row || row.version !== expectedVersion || this.concurrentWrite) {
      this.concurrentWrite = false;
      throw new ConflictException(`${kind} ${id} was changed concurrently (version ${expectedVersion} is no longer current); reload it and retry`);
    }
    this.rows.set(id, { ...row, ...patch, version: row.version + 1, updatedAt: now, updatedBy: actor });
  }

  async findByIds(ids: string[]): Promise<E[]> {
    return ids.flatMap((id) => (this.rows.has(id) ? [{ ...this.rows.get(id)! }] : []));
  }
}

export class InMemoryCampaignRepositories implements CampaignRepositories {
  readonly creativeTable = new MemoryTable<CreativeEntity>((c) => c.advertiserId);
  readonly lineItemTable = new MemoryTable<LineItemEntity>((li) => li.advertiserId);
  readonly campaignTable = new MemoryTable<CampaignEntity>((c) => c.advertiserId);
  readonly advertiserTable = new MemoryTable<AdvertiserEntity>((a) => a.id);
  /** line item id → its assignments. */
  readonly assigned = new Map<string, Assignment[]>();
  /** creative id → its approved versions, oldest first. */
  readonly approved = new Map<string, Array<ApprovedContent & { version: number; creativeVersion: number }>>();

  readonly advertisers: CampaignRepositories['advertisers'];
  readonly campaigns: CampaignRepositories['campaigns'];
  readonly lineItems: CampaignRepositories['lineItems'];
  readonly creatives: CampaignRepositories['creatives'];

  constructor() {
    const t = (table: MemoryTable<never>) => ({
      findOwned: table.findOwned.bind(table),
      page: table.page.bind(table),
      insert: table.insert.bind(table),
      updateVersioned: table.updateVersioned.bind(table),
      findByIds: table.findByIds.bind(table),
    });
    this.advertisers = {
      ...t(this.advertiserTable as never),
      countCampaigns: async (advertiserId: string) => [...this.campaignTable.rows.values()].filter((c) => c.advertiserId === advertiserId).length,
      accounts: async () => [...this.advertiserTable.rows.values()].map((a) => ({ id: a.id, currency: a.currency, timezone: a.timezone })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    } as CampaignRepositories['advertisers'];
    this.campaigns = {
      ...t(this.campaignTable as never),
      completeEnded: async () => {
        throw new Error('completeEnded is set-based SQL: tested on MariaDB (campaigns.e2e-spec.ts)');
      },
      lineItemsOutside: async (campaignId: string, startAt: Date, endAt: Date, budgetMicros: number | null) => {
        const items = [...this.lineItemTable.rows.values()].filter((li) => li.campaignId === campaignId && li.status !== 'archived');
        const first = (test: (li: LineItemEntity) => boolean) => items.find(test)?.id;
        return {
          startingBefore: first((li) => li.startAt !== null && li.startAt < startAt),
          endingAfter: first((li) => li.endAt !== null && li.endAt > endAt),
          inverted: first((li) => (li.endAt ?? endAt) <= (li.startAt ?? startAt)),
          overBudget: budgetMicros === null ? undefined : first((li) => li.budgetMicros > budgetMicros),
        };
      },
    } as CampaignRepositories['campaigns'];
    this.creatives = {
      ...t(this.creativeTable as never),
      latestApprovedVersion: async (creativeId: string) => this.approved.get(creativeId)?.at(-1) ?? null,
      insertApprovedVersion: async (creativeId: string, version: number, content: ApprovedContent, creativeVersion: number) => {
        const versions = this.approved.get(creativeId) ?? [];
        if (versions.some((v) => v.version === version)) throw new Error(`duplicate approved version ${creativeId}/${version}`);
        this.approved.set(creativeId, [...versions, { ...content, version, creativeVersion }]);
      },
    } as CampaignRepositories['creatives'];
    this.lineItems = {
      ...t(this.lineItemTable as never),
      assignments: async (lineItemId: string) => [...(this.assigned.get(lineItemId) ?? [])],
      assign: async (lineItemId: string, assignments: Assignment[]) => {
        this.assigned.set(lineItemId, [...(this.assigned.get(lineItemId) ?? []), ...assignments]);
      },
      replaceAssignments: async (lineItemId: string, assignments: Assignment[]) => {
        this.assigned.set(lineItemId, [...assignments]);
      },
      assignedCreatives: async (lineItemIds: string[]): Promise<AssignedCreative[]> =>
        lineItemIds
          .flatMap((lineItemId) => (this.assigned.get(lineItemId) ?? []).map((a) => ({ lineItemId, ...a, status: this.creativeTable.rows.get(a.creativeId)!.status })))
          .sort((a, b) => (a.creativeId < b.creativeId ? -1 : 1)),
      countApprovedCreatives: async (lineItemId: string, format: CreativeFormat) =>
        (this.assigned.get(lineItemId) ?? []).filter((a) => {
          const creative = this.creativeTable.rows.get(a.creativeId);
          return creative?.status === 'approved' && creative.format === format;
        }).length,
      inFlight: async (now: Date, advertiserId?: string): Promise<LineItemInFlight[]> =>
        [...this.lineItemTable.rows.values()]
          .map((li) => ({ li, campaign: this.campaignTable.rows.get(li.campaignId)! }))
          .map(({ li, campaign }) => ({ li, campaign, startAt: li.startAt ?? campaign.startAt, endAt: li.endAt ?? campaign.endAt }))
          .filter(({ li, campaign, startAt, endAt }) => li.status === 'active' && campaign.status === 'active' && startAt <= now && endAt > now && (!advertiserId || li.advertiserId === advertiserId))
          .sort((a, b) => (a.li.id < b.li.id ? -1 : 1))
          .map(({ li, startAt, endAt }) => ({ id: li.id, advertiserId: li.advertiserId, campaignId: li.campaignId, name: li.name, budgetMicros: li.budgetMicros, startAt, endAt })),
      termsOf: async (ids: string[]) =>
        new Map(ids.flatMap((id) => (this.lineItemTable.rows.has(id) ? [[id, { pricingModel: this.lineItemTable.rows.get(id)!.pricingModel, rateMicros: this.lineItemTable.rows.get(id)!.rateMicros }] as const] : []))),
    } as CampaignRepositories['lineItems'];
  }
}

/**
 * A CampaignsStore on InMemoryCampaignRepositories. A transaction is all or nothing, as in MySQL:
 * a rule that throws half way leaves the tables as they were.
 */
export function inMemoryCampaignsStore(repos = new InMemoryCampaignRepositories()): CampaignsStore & { memory: InMemoryCampaignRepositories } {
  const tables = [repos.advertiserTable, repos.campaignTable, repos.lineItemTable, repos.creativeTable] as unknown as Array<MemoryTable<Row>>;
  const snapshot = () => ({
    tables: tables.map((t) => new Map(t.rows)),
    assigned: new Map(repos.assigned),
    approved: new Map(repos.approved),
  });
  return {
    memory: repos,
    repos,
    async transaction<T>(work: (r: CampaignRepositories) => Promise<T>): Promise<T> {
      const before = snapshot();
      try {
        return await work(repos);
      } catch (err) {
        tables.forEach((t, i) => {
          t.rows.clear();
          for (const [k, v] of before.tables[i]) t.rows.set(k, v);
        });
        repos.assigned.clear();
        for (const [k, v] of before.assigned) repos.assigned.set(k, v);
        repos.approved.clear();
        for (const [k, v] of before.approved) repos.approved.set(k, v);
        throw err;
      }
    },
  } as unknown as CampaignsStore & { memory: InMemoryCampaignRepositories };
}
