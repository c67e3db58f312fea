import { performance } from 'node:perf_hooks';

/**
 * One API replica's leases (lua/lease.lua): per account (line item or campaign), the slice of its
 * remaining budget this replica may reserve from without asking Redis, and what it reserved from it
 * since its last report. Plain state and arithmetic; DeliveryLedger does the calls.
 *
 * A decision takes two amounts: its **reservation** (its expected cost: what Redis holds for it once
 * reported) and its **exposure** (the most its billed event can cost: the whole price). A lease is
 * spent in exposure, so that however many of the decisions served from it click or complete before
 * the replica reports them, their spend fits in what the lease held; the report then turns each
 * decision's exposure into its reservation (lua/lease.lua). For CPM the two are equal.
 *
 * available = lease (Redis' figure at the last answer) - exposure reported in the call under way -
 * exposure of confirmed decisions not reported yet - exposure of tentative holds (decisions whose
 * listener step is under way). Only confirmed decisions are reported, so Redis never counts a hold
 * that is later given back.
 */
export interface AccountSnapshot {
  spent: number;
  /** Reservations of all replicas' reported decisions. */
  res: number;
  today: number;
  /** Unused leases of all replicas. */
  leased: number;
}

/** One lease call's report: reservations per bucket, and the exposure they took from the lease. */
export interface Report {
  used: Array<[number, number]>;
  exposure: number;
}

export interface LeaseTerms {
  budget: number;
  daily?: number;
  dayQ?: number;
  /** Most the leases of all replicas together may hold. */
  cap: number;
  capTtl?: number;
}

export class Lease implements AccountSnapshot {
  /** Redis' figure of this replica's unused lease at the last answer. */
  lease = 0;
  /** Confirmed reservations carried by the call under way, and their exposure. */
  sending = 0;
  sendingExposure = 0;
  /** Confirmed reservations not reported yet, per reservation bucket; their total and exposure. */
  unreported = new Map<number, number>();
  unreportedTotal = 0;
  unreportedExposure = 0;
  /** Held by decisions whose listener step is under way: reservations and exposure. */
  tentative = 0;
  tentativeExposure = 0;
  /** Local end of the lease (earlier than Redis' expiry, so that it is never used once Redis reclaimed it). */
  usableUntil = 0;
  spent = 0;
  res = 0;
  today = 0;
  leased = 0;
  dayQ: number | undefined;
  /** Within the last part of a budget: CPC/CPCL decisions reserve a whole event's price. */
  tail = false;
  /** Its stripe lost its data (until the rebuild): nothing is served from it. */
  lost = false;
  /** When the last answer came (clock ms); 0 before the first. */
  answeredAt = 0;
  /** When the stripe was found lost (performance.now()). */
  lostAt = 0;
  /** Its last call failed (its shard did not answer): decisions skip it until `unreachableUntil` (performance.now()), and while the next try is under way. */
  failing = false;
  unreachableUntil = 0;
  lastUse = 0;
  /** Answers received, and what the last one granted. */
  answers = 0;
  lastGrant = 0;
  /** Room left for further leases at the last answer (budgets less spend, reservations and all leases). */
  roomLeft = 0;
  /** Exposure confirmed since the last answer, to size the next lease. */
  demand = 0;
  terms: LeaseTerms | null = null;
  /** The last decision amount asked for (periodic renewals are in multiples of it). */
  unit = 1;
  inflight: Promise<void> | null = null;

  constructor(
    readonly key: string,
    readonly stripe: number,
  ) {}

  /** Exposure this lease can still take. */
  available(now: number): number {
    if (this.lost || now >= this.usableUntil) return 0;
    return this.lease - this.sendingExposure - this.unreportedExposure - this.tentativeExposure;
  }

  hold(amount: number, exposure: number, now: number): void {
    this.tentative += amount;
    this.tentativeExposure += exposure;
    this.lastUse = now;
  }

  /** The hold becomes a reservation of `bucket` (reported with the next call). */
  confirm(amount: number, exposure: number, bucket: number): void {
    this.tentative -= amount;
    this.tentativeExposure -= exposure;
    this.unreported.set(bucket, (this.unreported.get(bucket) ?? 0) + amount);
    this.unreportedTotal += amount;
    this.unreportedExposure += exposure;
    this.demand += exposure;
  }

  /**
   * What to ask for: this replica's recent rate of use over `horizonMs` (the lease's lifetime: two
   * renewal periods), at least 4 decisions. Sized from the rate rather than from the use since the last
   * answer, so a busy account reaches its steady size (one renewal every half lifetime) in a few calls.
   * The rate is taken over at least a second, so that a burst at start does not take the whole cap
   * (all replicas' leases together) from the other replicas.
   */
  wanted(now: number, horizonMs: number, unit: number): number {
    const elapsed = Math.max(now - this.answeredAt, 1000);
    return Math.max(4 * unit, (this.demand * horizonMs) / elapsed);
  }

  giveBack(amount: number, exposure: number): void {
    this.tentative -= amount;
    this.tentativeExposure -= exposure;
  }

  /** This replica's use not yet in `res`: spend + reservations as this replica sees them. */
  ownPending(): number {
    return this.sending + this.unreportedTotal + this.tentative;
  }

  /** Takes the unreported use for a call: reservations per bucket, and the exposure they took from the lease. */
  takeReport(): Report {
    const report = { used: [...this.unreported.entries()], exposure: this.unreportedExposure };
    this.sending = this.unreportedTotal;
    this.sendingExposure = this.unreportedExposure;
    this.unreported = new Map();
    this.unreportedTotal = 0;
    this.unreportedExposure = 0;
    return report;
  }

  /** The call failed: its use is reported again with the next one (counted twice at worst: the safe side). */
  reportFailed({ used, exposure }: Report): void {
    for (const [bucket, amount] of used) {
      this.unreported.set(bucket, (this.unreported.get(bucket) ?? 0) + amount);
      this.unreportedTotal += amount;
    }
    this.unreportedExposure += exposure;
    this.sending = 0;
    this.sendingExposure = 0;
  }

  answered(reply: { lease: number; spent: number; res: number; today: number; leased: number; tail: boolean; granted: number; room: number }, sentAt: number, usableMs: number, dayQ: number | undefined): void {
    this.answers++;
    this.lastGrant = reply.granted;
    this.roomLeft = reply.room;
    this.lease = reply.lease;
    this.sending = 0;
    this.sendingExposure = 0;
    this.spent = reply.spent;
    this.res = reply.res;
    this.today = reply.today;
    this.leased = reply.leased;
    this.tail = reply.tail;
    this.dayQ = dayQ;
    this.lost = false;
    this.failing = false;
    this.usableUntil = reply.lease > 0 ? sentAt + usableMs : 0;
    this.answeredAt = sentAt;
    this.demand = 0;
  }

  /** Its call failed: skipped for `retryMs`, then tried again by one decision while the others skip it. */
  markUnreachable(retryMs: number): void {
    this.failing = true;
    this.unreachableUntil = performance.now() + retryMs;
  }

  /** Whether decisions should skip this account now rather than wait for its shard. */
  unreachable(): boolean {
    return this.failing && (performance.now() < this.unreachableUntil || this.inflight !== null);
  }

  markLost(now: number, dayQ: number | undefined): void {
    this.lost = true;
    this.dayQ = dayQ;
    this.answers++;
    this.lastGrant = 0;
    this.lease = 0;
    this.sending = 0;
    this.sendingExposure = 0;
    this.usableUntil = 0;
    this.answeredAt = now;
    this.lostAt = performance.now();
  }
}
