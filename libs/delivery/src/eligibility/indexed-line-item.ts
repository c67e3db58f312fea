import type { CatalogCreative, CatalogLineItem, CreativeFormat } from '@app/campaigns';
import { eventPriceMilliMicros, MILLI_PER_MICRO } from '@app/delivery-ledger';
import { ObservedCounts, expectedValueMilliMicros } from '../selection/ranking';
import { CompiledTargeting, compileTargeting } from '../selection/targeting';

/** A catalog line item prepared for matching: compiled targeting, creatives by format, amounts in milli-micros. */
export interface IndexedLineItem {
  lineItem: CatalogLineItem;
  targeting: CompiledTargeting;
  creativesByFormat: Map<CreativeFormat, CatalogCreative[]>;
  /** Sum of creative weights per format, and under 'any' for all creatives. */
  weightByFormat: Map<CreativeFormat | 'any', number>;
  eventPriceMilliMicros: number;
  budgetMilliMicros: number;
  dailyBudgetMilliMicros: number | null;
  campaignBudgetMilliMicros: number | null;
  priority: number;
  /** Expected revenue of one impression (milli-micros) from the latest observed counts; set by rerank. */
  expectedValue: number;
}

const NO_COUNTS: ObservedCounts = { impressions: 0, clicks: 0, completes: 0 };

export function indexLineItem(li: CatalogLineItem): IndexedLineItem {
  const creativesByFormat = new Map<CreativeFormat, CatalogCreative[]>();
  const weightByFormat = new Map<CreativeFormat | 'any', number>();
  for (const c of li.creatives) {
    const weight = Math.max(1, c.weight || 1);
    creativesByFormat.set(c.format, [...(creativesByFormat.get(c.format) ?? []), { ...c, weight }]);
    weightByFormat.set(c.format, (weightByFormat.get(c.format) ?? 0) + weight);
    weightByFormat.set('any', (weightByFormat.get('any') ?? 0) + weight);
  }
  return {
    lineItem: li,
    targeting: compileTargeting(li.targeting),
    creativesByFormat,
    weightByFormat,
    eventPriceMilliMicros: eventPriceMilliMicros(li.pricingModel, li.rateMicros),
    budgetMilliMicros: li.budgetMicros * MILLI_PER_MICRO,
    dailyBudgetMilliMicros: li.dailyBudgetMicros === null ? null : li.dailyBudgetMicros * MILLI_PER_MICRO,
    campaignBudgetMilliMicros: li.campaignBudgetMicros === null ? null : li.campaignBudgetMicros * MILLI_PER_MICRO,
    priority: li.priority,
    expectedValue: expectedValueMilliMicros(li.pricingModel, li.rateMicros, NO_COUNTS),
  };
}

/** The creatives of a line item a request may get (of the requested formats, or all). */
export function creativesFor(item: IndexedLineItem, formats: readonly CreativeFormat[] | undefined): CatalogCreative[] {
  if (!formats) return item.lineItem.creatives;
  if (formats.length === 1) return item.creativesByFormat.get(formats[0]) ?? [];
  return formats.flatMap((f) => item.creativesByFormat.get(f) ?? []);
}

/** Total creative weight of a line item within the requested formats. */
export function weightFor(item: IndexedLineItem, formats: readonly CreativeFormat[] | undefined): number {
  if (!formats) return item.weightByFormat.get('any') ?? 1;
  let total = 0;
  for (const f of formats) total += item.weightByFormat.get(f) ?? 0;
  return total;
}

/**
 * A snapshot of the servable catalog, kept in rank order (priority, then expected value), with a memo
 * of candidate lists per (format, country, platform): the fields every request carries and most line
 * items target, so a decision walks only line items that can match them, best first.
 */
export class EligibilitySnapshot {
  private memo = new Map<string, IndexedLineItem[]>();
  private static readonly MEMO_LIMIT = 20_000;
  /** The items by priority, then expected value (descending). */
  private ordered: IndexedLineItem[];

  constructor(
    readonly items: IndexedLineItem[],
    readonly version: string | number | undefined,
    readonly loadedAt: number,
  ) {
    this.ordered = sortByRank(items);
  }

  static build(lineItems: CatalogLineItem[], version: string | number | undefined, loadedAt: number): EligibilitySnapshot {
    return new EligibilitySnapshot(lineItems.map(indexLineItem), version, loadedAt);
  }

  /** All items in rank order. */
  get ranked(): readonly IndexedLineItem[] {
    return this.ordered;
  }

  /**
   * Recomputes expected values from observed counts; re-sorts (and drops the memo, rebuilt lazily) only
   * when one moved by more than 1%, so a steady catalog costs no re-sorting on each refresh.
   */
  rerank(counts: (lineItemId: string) => ObservedCounts | undefined): boolean {
    const values = this.items.map((item) => expectedValueMilliMicros(item.lineItem.pricingModel, item.lineItem.rateMicros, counts(item.lineItem.id) ?? NO_COUNTS));
    const moved = this.items.some((item, i) => Math.abs(values[i] - item.expectedValue) > item.expectedValue * 0.01);
    if (!moved) return false;
    this.items.forEach((item, i) => (item.expectedValue = values[i]));
    this.ordered = sortByRank(this.items);
    this.memo = new Map();
    return true;
  }

  candidates(formats: readonly CreativeFormat[] | undefined, country: string, platform: string): IndexedLineItem[] {
    const key = `${formats?.join(',') ?? '*'}|${country}|${platform}`;
    let list = this.memo.get(key);
    if (!list) {
      list = this.ordered.filter(
        (item) =>
          (!item.targeting.countries || item.targeting.countries.has(country)) &&
          (!item.targeting.platforms || item.targeting.platforms.has(platform)) &&
          (!formats || formats.some((f) => item.creativesByFormat.has(f))),
      );
      if (this.memo.size >= EligibilitySnapshot.MEMO_LIMIT) this.memo.clear();
      this.memo.set(key, list);
    }
    return list;
  }
}

function sortByRank(items: readonly IndexedLineItem[]): IndexedLineItem[] {
  return [...items].sort((a, b) => a.priority - b.priority || b.expectedValue - a.expectedValue);
}
