import { PlatformConfig } from '@app/platform';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BreachRow, BreachesRepository } from '../repositories/breaches.repository';

/** The webhook body (DESIGN.md, Operations); fields after endedAt are additions. */
export interface AlertBody {
  dedupKey: string;
  status: 'firing' | 'resolved';
  slaId: string;
  subject: string;
  /** The value when the breach opened (firing) or when it resolved (resolved). */
  value: number;
  target: number;
  startedAt: string;
  endedAt?: string;
  worstValue: number;
  unit: string;
  severity: 'warning' | 'critical';
  cause: string;
  kind: string;
  detail?: string;
}

export function alertBody(b: BreachRow, status: 'firing' | 'resolved'): AlertBody {
  return {
    dedupKey: b.dedupKey,
    status,
    slaId: b.slaId,
    subject: b.subject,
    value: status === 'firing' ? b.firstValue : b.lastValue,
    target: b.target,
    startedAt: b.startedAt.toISOString(),
    ...(status === 'resolved' && b.endedAt ? { endedAt: b.endedAt.toISOString() } : {}),
    worstValue: b.worstValue,
    unit: b.unit,
    severity: b.severity,
    cause: b.cause,
    kind: b.kind,
    ...(b.detail ? { detail: b.detail } : {}),
  };
}

/**
 * Sends one alert: to the log, and to ALERT_WEBHOOK_URL when set. The log line is written at the first
 * attempt, whatever the webhook answers (the log must not wait for it); the webhook's POST is marked sent
 * once the sink answered 2xx, so a retry after success sends nothing, and anything else throws for the
 * caller to retry. A resolution never goes out before its breach's firing: a firing not delivered yet
 * (its own retries behind, or its sender gone) is delivered first, in the same attempt.
 */
@Injectable()
export class AlertService {
  private readonly logger = new Logger('Alert');

  constructor(
    private readonly breaches: BreachesRepository,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {}

  /**
   * Delivers the alert of a breach; 'already-sent' when it had been delivered before. `firstAttempt`:
   * the caller's first try, which writes the log line.
   */
  async deliver(breachId: string, status: 'firing' | 'resolved', firstAttempt = true): Promise<'sent' | 'already-sent' | 'gone'> {
    const breach = await this.breaches.get(breachId);
    if (!breach) return 'gone';
    if ((status === 'firing' ? breach.firingSentAt : breach.resolvedSentAt) !== null) return 'already-sent';
    const body = alertBody(breach, status);
    if (firstAttempt) this.log(body, status);
    if (status === 'resolved' && breach.firingSentAt === null) await this.post(alertBody(breach, 'firing'), 'firing', breachId);
    await this.post(body, status, breachId);
    return 'sent';
  }

  private log(body: AlertBody, status: 'firing' | 'resolved'): void {
    const line = `SLA ${status === 'firing' ? 'BREACHED' : 'resolved'}: ${body.slaId} on ${body.subject}: ${body.value}${body.unit === 'ratio' ? '' : ` ${body.unit}`} (target ${body.target}${body.detail ? `; ${body.detail}` : ''})`;
    if (status === 'firing') this.logger.warn(`${line} ${JSON.stringify(body)}`);
    else this.logger.log(`${line} ${JSON.stringify(body)}`);
  }

  /** POSTs one alert to the webhook (when set) and marks it sent; throws unless the sink answered 2xx. */
  private async post(body: AlertBody, status: 'firing' | 'resolved', breachId: string): Promise<void> {
    const url = this.config.ALERT_WEBHOOK_URL;
    if (url) {
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer().catch(() => undefined);
      } catch (err) {
        throw new Error(`alert ${body.dedupKey} (${status}) not delivered: ${(err as Error).message}`, { cause: err });
      }
      if (response.status < 200 || response.status >= 300) throw new Error(`alert ${body.dedupKey} (${status}) refused by the webhook: HTTP ${response.status}`);
    }
    await this.breaches.markSent(breachId, status);
  }
}
