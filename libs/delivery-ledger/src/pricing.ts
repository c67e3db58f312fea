/** The beacon events the ledger understands (names as in tracking URLs). */
export type CountableEventName = 'impression' | 'start' | 'firstQuartile' | 'midpoint' | 'thirdQuartile' | 'complete' | 'click';

export type PricingModel = 'CPM' | 'CPC' | 'CPCL';

/**
 * Spend is counted in milli-micros (1/1000 of a micro) so that a CPM impression, which costs
 * rateMicros / 1000 micros, is counted exactly: one CPM impression costs `rateMicros` milli-micros.
 */
export const MILLI_PER_MICRO = 1000;

/** The event a pricing model bills. */
export function billableEvent(model: PricingModel): CountableEventName {
  return model === 'CPM' ? 'impression' : model === 'CPC' ? 'click' : 'complete';
}

/** Price of one billable event in milli-micros. */
export function eventPriceMilliMicros(model: PricingModel, rateMicros: number): number {
  return model === 'CPM' ? rateMicros : rateMicros * MILLI_PER_MICRO;
}

/** What `event` costs under `model` at `rateMicros`, in milli-micros (0 for events that are not billed). */
export function eventCostMilliMicros(model: PricingModel, rateMicros: number, event: CountableEventName): number {
  return billableEvent(model) === event ? eventPriceMilliMicros(model, rateMicros) : 0;
}

/** Whole micros in an amount of milli-micros (rounded down: spend is never rounded up into a bill). */
export function milliToMicros(milliMicros: number): number {
  return Math.floor(milliMicros / MILLI_PER_MICRO);
}
