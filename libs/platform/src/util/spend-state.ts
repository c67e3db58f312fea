/**
 * What a line item or campaign has spent, for explaining why it stopped (`deliveryState`). Provided by
 * measurement (ledger in MySQL, today's spend from the delivery counters) under SPEND_STATE; libs that
 * cannot import measurement resolve it at run time, and answer without it when it is absent.
 */
export const SPEND_STATE = Symbol('SPEND_STATE');

export interface SpendState {
  /** Billed spend (never past the budget), milli-micros. */
  billedMilli: bigint;
  /** Measured spend of the current local day (line items; 0 for campaigns), milli-micros. */
  spentTodayMilli: bigint;
}

export interface SpendStateReader {
  lineItems(ids: readonly string[]): Promise<Map<string, SpendState>>;
  campaigns(ids: readonly string[]): Promise<Map<string, SpendState>>;
}

export type DeliveryState = 'budget_spent' | 'daily_budget_spent' | 'flight_ended' | 'not_started' | 'not_active' | 'serving';

/**
 * Why a line item or campaign is (not) serving: money first (what stopped it for money), then its
 * flight, then its status. `unitMilli` is the price of one billable unit: a budget that cannot pay for
 * one more is spent.
 */
export function deliveryStateOf(input: {
  status: string;
  active: boolean;
  startAt: Date;
  endAt: Date;
  now: number;
  budgetMilli: bigint | null;
  dailyBudgetMilli: bigint | null;
  unitMilli: bigint;
  spend: SpendState | undefined;
  parentBudgetSpent?: boolean;
}): DeliveryState {
  const spend = input.spend ?? { billedMilli: 0n, spentTodayMilli: 0n };
  if ((input.budgetMilli !== null && spend.billedMilli + input.unitMilli > input.budgetMilli) || input.parentBudgetSpent) return 'budget_spent';
  if (input.endAt.getTime() <= input.now || input.status === 'completed') return 'flight_ended';
  if (!input.active) return 'not_active';
  if (input.startAt.getTime() > input.now) return 'not_started';
  if (input.dailyBudgetMilli !== null && spend.spentTodayMilli + input.unitMilli > input.dailyBudgetMilli) return 'daily_budget_spent';
  return 'serving';
}
