import { Connection } from 'mysql2/promise';
import { Stack } from './support/stack';
import { BROWSER_UA, codec, createPlacementVia, decision, mysql, postEvents, report, waitForAggregation } from './support/measurement-fixtures';

/**
 * Invalid traffic by source: a script that rotates listener ids still clicks from one IP. On a stack of
 * its own with the per-source rules on (the shared stack turns them off: all its traffic is 127.0.0.1).
 */
describe('per-IP and per-(IP, User-Agent) rate rules (own stack)', () => {
  let stack: Stack;
  let db: Connection;

  beforeAll(async () => {
    const runId = `${process.env.E2E_RUN_ID}ip`;
    stack = await Stack.start({
      dbName: `adp_test_${runId}`,
      queuePrefix: `test-${runId}`,
      env: { IVT_MAX_CLICKS_PER_IP_MINUTE: '40', IVT_MAX_CLICKS_PER_IP_UA_MINUTE: '20', IVT_MAX_IMPRESSIONS_PER_IP_MINUTE: '2000', IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE: '600' },
    });
    db = await mysql(stack.env.DB_NAME);
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await stack?.dropData();
  });

  /** Impression then click of `n` fresh decisions (distinct listener ids), one request each, at event time `at`. */
  async function clicks(placement: Awaited<ReturnType<typeof createPlacementVia>>, n: number, at: number, userAgent: (i: number) => string) {
    const results: Array<{ decisionId: string; impression: { status: string; reason?: string }; click: { status: string; reason?: string } }> = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const claims = decision(placement, { issuedAt: Math.floor(at / 1000) - 5 });
        const token = codec.sign(claims);
        const res = await postEvents([{ event: 'impression', token, occurredAt: at }, { event: 'click', token, occurredAt: at + 1000 }], { baseUrl: stack.baseUrl, userAgent: userAgent(i) });
        expect(res.status).toBe(200);
        results.push({ decisionId: claims.decisionId, impression: res.body.results[0], click: res.body.results[1] });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return results;
  }

  it('200 clicks from one IP with distinct listener ids: all but the threshold are invalid (ip_rate_limit), counted as rate-limited in reports', async () => {
    const placement = await createPlacementVia(stack.baseUrl, { pricingModel: 'CPC', rateMicros: 1_000 });
    // Two whole minutes of event time in the past, so no run straddles a minute.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const t1 = minute - 2 * 60_000 + 5_000;
    const t2 = minute - 60_000 + 5_000;

    // Distinct User-Agents: only the per-IP rule (40 per minute) applies.
    const rotating = await clicks(placement, 200, t1, (i) => `${BROWSER_UA} build/${i}`);
    expect(rotating.every((r) => r.impression.status === 'accepted')).toBe(true);
    expect(rotating.filter((r) => r.click.status === 'accepted')).toHaveLength(40);
    expect(rotating.filter((r) => r.click.status === 'invalid' && r.click.reason === 'ip_rate_limit')).toHaveLength(160);

    // One User-Agent: the tighter per-(IP, User-Agent) rule (20 per minute) applies, same reason.
    const oneUa = await clicks(placement, 30, t2, () => BROWSER_UA);
    expect(oneUa.filter((r) => r.click.status === 'accepted')).toHaveLength(20);
    expect(oneUa.filter((r) => r.click.reason === 'ip_rate_limit')).toHaveLength(10);

    const [stored] = (await db.query("SELECT invalid_reason AS reason, COUNT(*) AS n FROM raw_events WHERE event_type = 'click' GROUP BY invalid_reason ORDER BY invalid_reason")) as unknown as [
      Array<{ reason: string | null; n: string }>,
    ];
    expect(stored.map((r) => [r.reason, Number(r.n)])).toEqual([
      [null, 60],
      ['ip_rate_limit', 170],
    ]);

    await waitForAggregation(db, 60_000);
    const res = await report({ campaignId: placement.campaignId, from: new Date(t1 - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() }, { baseUrl: stack.baseUrl });
    expect(res.status).toBe(200);
    const [row] = res.body.rows;
    expect(row).toMatchObject({ impressions: 230, clicks: 60, invalidClicks: 170, invalidByReason: { rateLimit: 170 }, spendMicros: 60 * 1_000 });
  }, 120_000);

  it("a beacon replayed from one IP counts once in its rates: the replays do not make others' clicks there invalid", async () => {
    const placement = await createPlacementVia(stack.baseUrl, { pricingModel: 'CPC', rateMicros: 1_000 });
    // A minute of event time of its own (the first test uses the two before the current one).
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000 + 5_000;
    const claims = decision(placement, { issuedAt: Math.floor(at / 1000) - 5 });
    const token = codec.sign(claims);
    expect((await postEvents([{ event: 'impression', token, occurredAt: at }], { baseUrl: stack.baseUrl, userAgent: BROWSER_UA })).body.results[0].status).toBe('accepted');
    // The same click 60 times (three times the per-(IP, User-Agent) limit), in separate requests, 8 at a time.
    const outcomes: string[] = [];
    let sent = 0;
    const replay = async () => {
      while (sent++ < 60) outcomes.push((await postEvents([{ event: 'click', token, occurredAt: at + 1000 }], { baseUrl: stack.baseUrl, userAgent: BROWSER_UA })).body.results[0].status);
    };
    await Promise.all(Array.from({ length: 8 }, replay));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(59);
    // Other listeners' clicks from the same IP and User-Agent in that minute are still valid.
    const honest = await clicks(placement, 10, at, () => BROWSER_UA);
    expect(honest.every((r) => r.impression.status === 'accepted' && r.click.status === 'accepted')).toBe(true);
  }, 120_000);
});
