/**
 * A line item's or campaign's budget and what the ledger has billed to it so far, milli-micros, as
 * bigints: a budget past $9M is past 2^53 milli-micros, where doubles stop counting units exactly.
 */
export interface CapAccount {
  /** null: no budget at this level (a campaign without one). */
  budgetMilli: bigint | null;
  billedMilli: bigint;
}

/** One billable event (a CPM impression, a CPC click, a CPCL complete), in arrival order. */
export interface CapEvent {
  id: number;
  lineItemId: string;
  campaignId: string;
  costMilli: bigint;
  /** Events this entry stands for (1; more for a line item's whole range billed at once). */
  events?: number;
}

export interface CapOutcome {
  /** Ids of the events written off (delivered past a budget), in arrival order. */
  writtenOff: number[];
  /** Per account key (`li:<id>`, `cp:<id>`): billed and written off in this call, milli-micros and events. */
  changes: Map<string, AccountChange>;
}

export interface AccountChange {
  billedMilli: bigint;
  billedEvents: number;
  writtenOffMilli: bigint;
  writtenOffEvents: number;
}

export const lineItemKey = (id: string) => `li:${id}`;
export const campaignKey = (id: string) => `cp:${id}`;

/**
 * Bills events in arrival order while they fit: an event is billed when its whole cost fits both its
 * line item's and its campaign's remaining budget, and written off otherwise (a unit is billed whole
 * or not at all, so billed units times the rate is the billed amount). Written-off events bill nothing
 * to either account. Billed spend can therefore never pass a budget, whatever arrives late or clicks
 * more than expected. `accounts` is updated in place (billedMilli), so calls can be chained.
 */
export function capToBudgets(events: readonly CapEvent[], accounts: Map<string, CapAccount>): CapOutcome {
  const writtenOff: number[] = [];
  const changes = new Map<string, AccountChange>();
  const change = (key: string) => {
    let c = changes.get(key);
    if (!c) changes.set(key, (c = { billedMilli: 0n, billedEvents: 0, writtenOffMilli: 0n, writtenOffEvents: 0 }));
    return c;
  };
  for (const e of events) {
    const liKey = lineItemKey(e.lineItemId);
    const cpKey = campaignKey(e.campaignId);
    const li = accountOf(accounts, liKey);
    const cp = accountOf(accounts, cpKey);
    if (fits(li, e.costMilli) && fits(cp, e.costMilli)) {
      li.billedMilli += e.costMilli;
      cp.billedMilli += e.costMilli;
      for (const key of [liKey, cpKey]) {
        const c = change(key);
        c.billedMilli += e.costMilli;
        c.billedEvents += e.events ?? 1;
      }
    } else {
      writtenOff.push(e.id);
      for (const key of [liKey, cpKey]) {
        const c = change(key);
        c.writtenOffMilli += e.costMilli;
        c.writtenOffEvents += e.events ?? 1;
      }
    }
  }
  return { writtenOff, changes };
}

/** True when `spendMilli` more can be billed to every account given without passing its budget. */
export function fitsWhole(accounts: readonly CapAccount[], spendMilli: readonly bigint[]): boolean {
  return accounts.every((a, i) => fits(a, spendMilli[i]));
}

function fits(account: CapAccount, costMilli: bigint): boolean {
  return account.budgetMilli === null || account.billedMilli + costMilli <= account.budgetMilli;
}

function accountOf(accounts: Map<string, CapAccount>, key: string): CapAccount {
  const a = accounts.get(key);
  // An account the caller did not load has no known budget: nothing can be billed to it safely.
  if (!a) throw new Error(`budget cap: account ${key} not loaded`);
  return a;
}
