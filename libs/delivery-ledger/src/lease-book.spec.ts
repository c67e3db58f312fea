import { Lease } from './lease-book';

/** One replica's lease arithmetic, without Redis (the ledger's integration specs drive it through Redis). */
describe('Lease', () => {
  const answer = { lease: 10, spent: 0, res: 0, today: 0, leased: 10, tail: false, granted: 10, room: 100 };

  function granted(now = 1_000): Lease {
    const lease = new Lease('li:x', 3);
    lease.answered(answer, now, 8_000, undefined);
    return lease;
  }

  it('starts with nothing usable, neither in the tail nor lost', () => {
    const lease = new Lease('li:x', 3);
    expect([lease.available(0), lease.tail, lease.lost, lease.answers]).toEqual([0, false, false, 0]);
  });

  it('is usable until its local end, not at it', () => {
    const lease = granted(1_000);
    expect(lease.available(8_999)).toBe(10);
    expect(lease.available(9_000)).toBe(0);
  });

  it('is not usable at all when Redis granted nothing', () => {
    const lease = new Lease('li:x', 3);
    lease.answered({ ...answer, lease: 0, granted: 0 }, 1_000, 8_000, undefined);
    expect(lease.usableUntil).toBe(0);
    expect(lease.available(1_001)).toBe(0);
  });

  it('takes holds and confirmed decisions off what is available, and gives unconfirmed holds back', () => {
    const lease = granted();
    lease.hold(3, 3, 1_100);
    lease.hold(2, 2, 1_100);
    expect(lease.available(1_100)).toBe(5);
    lease.confirm(3, 3, 7);
    lease.giveBack(2, 2);
    expect(lease.available(1_100)).toBe(7);
    expect(lease.ownPending()).toBe(3);
    expect(lease.demand).toBe(3);
  });

  it('spends a lease in exposure (whole prices) while reserving expected costs (a CPC decision)', () => {
    const lease = granted();
    // Reservation 1 (the click rate's bound × price), exposure 4 (the click's price).
    lease.hold(1, 4, 1_100);
    expect(lease.available(1_100)).toBe(6);
    lease.hold(1, 4, 1_100);
    lease.giveBack(1, 4);
    lease.confirm(1, 4, 7);
    lease.hold(1, 4, 1_100);
    lease.confirm(1, 4, 8);
    // Two decisions served: 8 of the lease's 10 taken, though they reserve 2; pacing sees the reservations.
    expect([lease.available(1_100), lease.ownPending(), lease.demand]).toEqual([2, 2, 8]);
    expect(lease.takeReport()).toEqual({ used: [[7, 1], [8, 1]], exposure: 8 });
    expect([lease.sending, lease.sendingExposure, lease.available(1_100)]).toEqual([2, 8, 2]);
    lease.answered({ ...answer, lease: 2 }, 1_200, 8_000, undefined);
    expect([lease.sending, lease.sendingExposure, lease.available(1_200)]).toEqual([0, 0, 2]);
  });

  it('reports confirmed use per bucket once, and again after a failed call (twice at worst, never lost)', () => {
    const lease = granted();
    for (const [amount, bucket] of [[2, 7], [3, 7], [4, 8]]) {
      lease.hold(amount, amount, 1_100);
      lease.confirm(amount, amount, bucket);
    }
    const report = lease.takeReport();
    expect(report).toEqual({ used: [[7, 5], [8, 4]], exposure: 9 });
    // While the call is under way its use still counts against the lease.
    expect([lease.sending, lease.unreportedTotal, lease.available(1_100)]).toEqual([9, 0, 1]);
    lease.reportFailed(report);
    expect([lease.sending, lease.unreportedTotal, lease.unreportedExposure, lease.available(1_100)]).toEqual([0, 9, 9, 1]);
    expect(lease.takeReport()).toEqual({ used: [[7, 5], [8, 4]], exposure: 9 });
  });

  it('asks for its lifetime of the recent rate, over at least a second, at least four decisions', () => {
    const lease = granted(1_000);
    expect(lease.wanted(1_500, 10_000, 2)).toBe(8);
    for (let i = 0; i < 50; i++) {
      lease.hold(2, 2, 1_500);
      lease.confirm(2, 2, 7);
    }
    // 100 used within the first second: taken over a whole second, 100 × 10 s / 1 s.
    expect(lease.wanted(1_500, 10_000, 2)).toBe(1_000);
    // Over four seconds: 100 × 10 / 4.
    expect(lease.wanted(5_000, 10_000, 2)).toBe(250);
  });

  it('counts answers, including a lost stripe, and forgets the lease on loss', () => {
    const lease = granted();
    lease.markLost(2_000, undefined);
    expect([lease.answers, lease.lost, lease.available(2_000), lease.lastGrant]).toEqual([2, true, 0, 0]);
    lease.answered(answer, 3_000, 8_000, undefined);
    expect([lease.answers, lease.lost, lease.available(3_000)]).toEqual([3, false, 10]);
  });
});
