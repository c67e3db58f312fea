import { ApiConfig, CAPPED_BACKOFF_MAX_MS } from '@app/platform';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SlaCatalog } from '../sla/sla-catalog.service';
import { WATCHDOG_SLA_ID } from '../sla/sla.definitions';
import { AlertService } from './alert.service';
import { BreachesRepository } from '../repositories/breaches.repository';

/**
 * Who watches the monitor: every API process checks the monitor's heartbeat (in MySQL) every few
 * seconds and, when no evaluation happened for SLA_WATCHDOG_SECONDS (every worker down, the monitor
 * stuck), opens a breach of its own and sends its alert itself, since no worker may be there to do it.
 * The unique open key makes one replica win the opening (and the resolution), so the alert goes out
 * once however many API processes watch.
 */
@Injectable()
export class WatchdogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WatchdogService.name);
  private timer?: NodeJS.Timeout;
  private checking = false;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(
    private readonly breaches: BreachesRepository,
    private readonly alerts: AlertService,
    private readonly catalog: SlaCatalog,
    private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(5000, Math.max(500, (this.config.SLA_WATCHDOG_SECONDS * 1000) / 4));
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  async check(now = new Date()): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const spec = this.catalog.get(WATCHDOG_SLA_ID)!;
      const age = await this.breaches.secondsSinceHeartbeat();
      // Before any evaluation ever, the clock starts with this process (a fresh deployment is not an outage yet).
      const value = age ?? (now.getTime() - this.startedAt) / 1000;
      const [open] = await this.breaches.open([WATCHDOG_SLA_ID]);
      if (value > spec.target && !open) {
        const row = await this.breaches.tryOpen({
          slaId: spec.id,
          kind: spec.kind,
          subject: spec.subject,
          cause: 'no_evaluation',
          severity: 'critical',
          unit: spec.unit,
          target: spec.target,
          // Rounded up: a value just past the target must not read as the target itself.
          value: Math.ceil(value * 10) / 10,
          detail: age === null ? 'no SLA evaluation has ever been recorded' : 'no worker has evaluated the SLAs (all workers down, or the monitor stuck)',
          startedAt: now,
        });
        if (row) this.deliverInBackground(row.id, 'firing');
      } else if (open && value <= spec.target) {
        if (await this.breaches.resolve(open.id, now, Math.round(value * 10) / 10)) this.deliverInBackground(open.id, 'resolved');
      } else if (open) {
        await this.breaches.observe(open.id, value, Math.max(open.worstValue, value), null);
      }
    } catch (err) {
      this.logger.warn(`watchdog check failed: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /** Retries in this process until the sink answers 2xx (workers may all be down, so no job). */
  private deliverInBackground(breachId: string, status: 'firing' | 'resolved'): void {
    const attempt = (n: number) => {
      if (this.stopped) return;
      this.alerts.deliver(breachId, status, n === 0).catch((err: Error) => {
        const delay = Math.min(1000 * 2 ** n, CAPPED_BACKOFF_MAX_MS);
        this.logger.warn(`${err.message}; retrying in ${delay} ms`);
        setTimeout(() => attempt(n + 1), delay).unref();
      });
    };
    attempt(0);
  }
}
