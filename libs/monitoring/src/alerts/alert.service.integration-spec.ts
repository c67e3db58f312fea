import { Logger } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { PlatformConfig, loadConfig } from '@app/platform';
import { MigratedDatabase } from '../../../../test/support/migrated-database';
import { BreachesRepository } from '../repositories/breaches.repository';
import { AlertService } from './alert.service';

/** A webhook that records what it is sent, answering `status`. */
async function sink(): Promise<{ url: string; status: number; received: Array<{ status: string; dedupKey: string }>; server: Server }> {
  const state = { url: '', status: 204, received: [] as Array<{ status: string; dedupKey: string }>, server: null as unknown as Server };
  state.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      state.received.push(JSON.parse(body) as { status: string; dedupKey: string });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/alerts`;
  return state;
}

/** Alert delivery against a real MariaDB and a local webhook: the log first, the firing before its resolution. */
describe('AlertService (real MariaDB, local webhook)', () => {
  const database = new MigratedDatabase(`adp_int_alerts_${process.pid}`);
  let breaches: BreachesRepository;
  let webhook: Awaited<ReturnType<typeof sink>>;
  let alerts: AlertService;

  beforeAll(async () => {
    breaches = new BreachesRepository(await database.open());
    webhook = await sink();
    alerts = new AlertService(breaches, loadConfig(PlatformConfig, { ALERT_WEBHOOK_URL: webhook.url }));
  });

  afterAll(async () => {
    await new Promise((resolve) => webhook.server.close(resolve));
    await database.drop();
  });

  async function breach(subject: string) {
    const row = await breaches.tryOpen({ slaId: 'aggregation.freshness', kind: 'freshness', subject, cause: 'lag', severity: 'critical', unit: 's', target: 30, value: 45, detail: null, startedAt: new Date() });
    return row!;
  }

  it('writes the log line at the first attempt, while the webhook refuses it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      webhook.status = 503;
      const b = await breach('log-first');
      await expect(alerts.deliver(b.id, 'firing', true)).rejects.toThrow(/refused by the webhook: HTTP 503/);
      expect(warn.mock.calls.filter(([line]) => String(line).startsWith('SLA BREACHED: aggregation.freshness on log-first'))).toHaveLength(1);
      // Retries do not log again; the one that gets through is marked sent.
      await expect(alerts.deliver(b.id, 'firing', false)).rejects.toThrow(/HTTP 503/);
      webhook.status = 204;
      await expect(alerts.deliver(b.id, 'firing', false)).resolves.toBe('sent');
      expect(warn.mock.calls.filter(([line]) => String(line).includes('on log-first'))).toHaveLength(1);
      expect(webhook.received.filter((a) => a.dedupKey === b.dedupKey).map((a) => a.status)).toEqual(['firing', 'firing', 'firing']);
    } finally {
      warn.mockRestore();
      webhook.status = 204;
    }
  });

  it('delivers a firing not delivered yet before its resolution, and never twice', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const b = await breach('resolved-first');
    expect(await breaches.resolve(b.id, new Date(), 10)).toBe(true);
    // The resolution's job runs while the firing's is still in its backoff (or its sender died).
    await expect(alerts.deliver(b.id, 'resolved', true)).resolves.toBe('sent');
    await expect(alerts.deliver(b.id, 'firing', false)).resolves.toBe('already-sent');
    await expect(alerts.deliver(b.id, 'resolved', false)).resolves.toBe('already-sent');
    expect(webhook.received.filter((a) => a.dedupKey === b.dedupKey).map((a) => a.status)).toEqual(['firing', 'resolved']);
    jest.restoreAllMocks();
  });
});
