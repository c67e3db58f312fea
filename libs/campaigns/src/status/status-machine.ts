/**
 * The delivery status of campaigns and line items, and the pure rules of moving between states:
 *
 *   draft -> active <-> paused -> completed (by time only, the completion job)
 *   any state except archived -> archived (final)
 *
 * Services load the facts, ask these functions, and write; nothing here touches I/O.
 */
export const DELIVERY_STATUSES = ['draft', 'active', 'paused', 'completed', 'archived'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a caller may ask for; `complete` is reserved to the completion job. */
export type StatusAction = 'activate' | 'pause' | 'archive' | 'complete';

export type TransitionResult =
  | { ok: true; to: DeliveryStatus; changed: boolean }
  | { ok: false; reason: string };

const TARGET: Record<StatusAction, DeliveryStatus> = { activate: 'active', pause: 'paused', archive: 'archived', complete: 'completed' };

const ALLOWED_FROM: Record<StatusAction, readonly DeliveryStatus[]> = {
  activate: ['draft', 'paused'],
  pause: ['active'],
  archive: ['draft', 'active', 'paused', 'completed'],
  complete: ['active', 'paused'],
};

/**
 * Whether `action` may move an item out of `from`. Asking for the state it is already in is not an
 * error (a retried request must not fail): it answers `changed: false`.
 */
export function transition(from: DeliveryStatus, action: StatusAction): TransitionResult {
  const to = TARGET[action];
  if (from === to) return { ok: true, to, changed: false };
  if (ALLOWED_FROM[action].includes(from)) return { ok: true, to, changed: true };
  return { ok: false, reason: `cannot ${action} a ${from} item` };
}

export interface CampaignFacts {
  status: DeliveryStatus;
  endAt: Date;
}

export interface LineItemFacts {
  status: DeliveryStatus;
  budgetMicros: number;
  /** The line item's own end, or the campaign's when it has none. */
  effectiveEndAt: Date;
  approvedCreativeCount: number;
  campaign: { status: DeliveryStatus };
}

/** Everything that stops a campaign from being activated now; empty when it can be. */
export function campaignActivationProblems(c: CampaignFacts, now: Date): string[] {
  const problems: string[] = [];
  const move = transition(c.status, 'activate');
  if (!move.ok) problems.push(`campaign is ${c.status}`);
  if (c.endAt.getTime() <= now.getTime()) problems.push(`campaign flight ended at ${c.endAt.toISOString()}`);
  return problems;
}

/** Everything that stops a line item from being activated now; empty when it can be. */
export function lineItemActivationProblems(li: LineItemFacts, now: Date): string[] {
  const problems: string[] = [];
  const move = transition(li.status, 'activate');
  if (!move.ok) problems.push(`line item is ${li.status}`);
  if (li.campaign.status === 'archived' || li.campaign.status === 'completed') problems.push(`campaign is ${li.campaign.status}`);
  if (!(li.budgetMicros > 0)) problems.push('budgetMicros must be greater than 0');
  if (li.effectiveEndAt.getTime() <= now.getTime()) problems.push(`flight ended at ${li.effectiveEndAt.toISOString()}`);
  if (li.approvedCreativeCount < 1) problems.push('no approved creative assigned');
  return problems;
}
