import { sqlWhere, uuidv7 } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface BreachRow {
  id: string;
  slaId: string;
  kind: string;
  subject: string;
  cause: string;
  severity: 'warning' | 'critical';
  state: 'open' | 'resolved';
  dedupKey: string;
  unit: string;
  target: number;
  firstValue: number;
  worstValue: number;
  lastValue: number;
  detail: string | null;
  startedAt: Date;
  endedAt: Date | null;
  clearSince: Date | null;
  firingSentAt: Date | null;
  resolvedSentAt: Date | null;
}

export interface NewBreach {
  slaId: string;
  kind: string;
  subject: string;
  cause: string;
  severity: 'warning' | 'critical';
  unit: string;
  target: number;
  value: number;
  detail: string | null;
  startedAt: Date;
}

type Raw = Record<string, unknown>;

const COLUMNS = `id, sla_id, kind, subject, cause, severity, state, dedup_key, unit, target, first_value, worst_value, last_value, detail,
  started_at, ended_at, clear_since, firing_sent_at, resolved_sent_at`;

function toRow(r: Raw): BreachRow {
  return {
    id: r.id as string,
    slaId: r.sla_id as string,
    kind: r.kind as string,
    subject: r.subject as string,
    cause: r.cause as string,
    severity: r.severity as BreachRow['severity'],
    state: r.state as BreachRow['state'],
    dedupKey: r.dedup_key as string,
    unit: r.unit as string,
    target: Number(r.target),
    firstValue: Number(r.first_value),
    worstValue: Number(r.worst_value),
    lastValue: Number(r.last_value),
    detail: (r.detail as string | null) ?? null,
    startedAt: r.started_at as Date,
    endedAt: (r.ended_at as Date | null) ?? null,
    clearSince: (r.clear_since as Date | null) ?? null,
    firingSentAt: (r.firing_sent_at as Date | null) ?? null,
    resolvedSentAt: (r.resolved_sent_at as Date | null) ?? null,
  };
}

const openKey = (slaId: string, subject: string) => `${slaId}|${subject}`;

/**
 * The SQL of breaches. Opening relies on the unique open_key (set only while open), resolving on a
 * conditional UPDATE: whichever of several workers or API replicas gets the row gets the alert, once.
 */
@Injectable()
export class BreachesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async open(slaIds?: readonly string[]): Promise<BreachRow[]> {
    const filter = slaIds ? ' AND sla_id IN (?)' : '';
    if (slaIds && slaIds.length === 0) return [];
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM sla_breaches WHERE state = 'open'${filter}`, slaIds ? [slaIds] : [])) as Raw[];
    return rows.map(toRow);
  }

  async get(id: string): Promise<BreachRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM sla_breaches WHERE id = ?`, [id])) as Raw[];
    return row ? toRow(row) : null;
  }

  /** Opens a breach unless one is open for the same SLA and subject; the new row, or null when another got there first. */
  async tryOpen(b: NewBreach): Promise<BreachRow | null> {
    const id = uuidv7();
    const result = (await this.dataSource.query(
      `INSERT IGNORE INTO sla_breaches (id, sla_id, kind, subject, cause, severity, state, dedup_key, open_key, unit, target, first_value, worst_value, last_value, detail, started_at)
       VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, b.slaId, b.kind, b.subject, b.cause, b.severity, `${b.slaId}/${b.subject}/${id}`, openKey(b.slaId, b.subject), b.unit, b.target, b.value, b.value, b.value, b.detail, b.startedAt],
    )) as { affectedRows: number };
    return result.affectedRows === 1 ? this.get(id) : null;
  }

  /** Keeps an open breach's latest and worst value; `clearSince` starts or stops the resolution hold. */
  async observe(id: string, value: number, worst: number, clearSince: Date | null, detail?: string | null): Promise<void> {
    await this.dataSource.query(`UPDATE sla_breaches SET last_value = ?, worst_value = ?, clear_since = ?, detail = COALESCE(?, detail) WHERE id = ? AND state = 'open'`, [
      value,
      worst,
      clearSince,
      detail ?? null,
      id,
    ]);
  }

  /** Resolves an open breach; true for the one caller that did it. */
  async resolve(id: string, endedAt: Date, lastValue: number | null): Promise<boolean> {
    const result = (await this.dataSource.query(
      `UPDATE sla_breaches SET state = 'resolved', open_key = NULL, ended_at = ?, last_value = COALESCE(?, last_value) WHERE id = ? AND state = 'open'`,
      [endedAt, lastValue, id],
    )) as { affectedRows: number };
    return result.affectedRows === 1;
  }

  async markSent(id: string, status: 'firing' | 'resolved'): Promise<void> {
    const column = status === 'firing' ? 'firing_sent_at' : 'resolved_sent_at';
    await this.dataSource.query(`UPDATE sla_breaches SET ${column} = COALESCE(${column}, NOW(3)) WHERE id = ?`, [id]);
  }

  /** Alerts not yet delivered (for instance enqueued while Redis was away), of the last `days`. */
  async unsent(days: number, excludeSlaId: string): Promise<Array<{ id: string; status: 'firing' | 'resolved' }>> {
    const rows = (await this.dataSource.query(
      `SELECT id, state, firing_sent_at, resolved_sent_at FROM sla_breaches
        WHERE started_at >= NOW(3) - INTERVAL ? DAY AND sla_id <> ? AND (firing_sent_at IS NULL OR (state = 'resolved' AND resolved_sent_at IS NULL))`,
      [days, excludeSlaId],
    )) as Raw[];
    return rows.flatMap((r) => {
      const out: Array<{ id: string; status: 'firing' | 'resolved' }> = [];
      if (!r.firing_sent_at) out.push({ id: r.id as string, status: 'firing' });
      if (r.state === 'resolved' && !r.resolved_sent_at) out.push({ id: r.id as string, status: 'resolved' });
      return out;
    });
  }

  /** Newest first, after the `cursor` id or skipping `offset` rows (`?page=`). */
  async list(filter: { slaId?: string; state?: 'open' | 'resolved'; from?: Date; to?: Date; cursor?: string; offset?: number; limit: number }): Promise<BreachRow[]> {
    const where = sqlWhere([
      filter.slaId && ['sla_id = ?', filter.slaId],
      filter.state && ['state = ?', filter.state],
      filter.from && ['(ended_at IS NULL OR ended_at >= ?)', filter.from],
      filter.to && ['started_at < ?', filter.to],
      filter.cursor && ['id < ?', filter.cursor],
    ]);
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM sla_breaches ${where.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...where.params, filter.limit, filter.offset ?? 0])) as Raw[];
    return rows.map(toRow);
  }

  async countsBySla(): Promise<Array<{ slaId: string; count: number }>> {
    const rows = (await this.dataSource.query('SELECT sla_id, COUNT(*) AS n FROM sla_breaches GROUP BY sla_id')) as Raw[];
    return rows.map((r) => ({ slaId: r.sla_id as string, count: Number(r.n) }));
  }

  async heartbeat(by: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO monitor_heartbeats (name, evaluated_at, evaluated_by) VALUES ('sla', NOW(3), ?) ON DUPLICATE KEY UPDATE evaluated_at = NOW(3), evaluated_by = VALUES(evaluated_by)`, [by]);
  }

  /** Seconds since the last evaluation (by the database's clock), or null when none ever happened. */
  async secondsSinceHeartbeat(): Promise<number | null> {
    const [row] = (await this.dataSource.query(`SELECT TIMESTAMPDIFF(MICROSECOND, evaluated_at, NOW(3)) / 1e6 AS age FROM monitor_heartbeats WHERE name = 'sla'`)) as Raw[];
    return row ? Number(row.age) : null;
  }
}
