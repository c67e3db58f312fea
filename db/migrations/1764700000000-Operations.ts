import { MigrationInterface, QueryRunner } from 'typeorm';

const ID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';

/**
 * SLA monitoring: breaches (one row per breach, with its start, end and worst value, and whether each
 * of its two alerts went out), jobs that failed every attempt (dead letters), and the monitor's
 * heartbeat that the API's watchdog reads.
 */
export class Operations1764700000000 implements MigrationInterface {
  name = 'Operations1764700000000';

  async up(q: QueryRunner): Promise<void> {
    // open_key is set only while a breach is open: its uniqueness lets one (SLA, subject) have at most one
    // open breach, however many workers evaluate at once (NULLs do not collide once resolved).
    await q.query(`CREATE TABLE sla_breaches (
      id ${ID} NOT NULL,
      sla_id VARCHAR(100) CHARACTER SET ascii NOT NULL,
      kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
      subject VARCHAR(191) NOT NULL,
      cause VARCHAR(32) CHARACTER SET ascii NOT NULL,
      severity ENUM('warning','critical') NOT NULL,
      state ENUM('open','resolved') NOT NULL,
      dedup_key VARCHAR(400) CHARACTER SET ascii NOT NULL,
      open_key VARCHAR(300) NULL,
      unit VARCHAR(16) CHARACTER SET ascii NOT NULL,
      target DOUBLE NOT NULL,
      first_value DOUBLE NOT NULL,
      worst_value DOUBLE NOT NULL,
      last_value DOUBLE NOT NULL,
      detail VARCHAR(500) NULL,
      started_at DATETIME(3) NOT NULL,
      ended_at DATETIME(3) NULL,
      clear_since DATETIME(3) NULL,
      firing_sent_at DATETIME(3) NULL,
      resolved_sent_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_sla_breaches_dedup (dedup_key),
      UNIQUE KEY uq_sla_breaches_open (open_key),
      KEY ix_sla_breaches_sla (sla_id, started_at),
      KEY ix_sla_breaches_started (started_at),
      KEY ix_sla_breaches_state (state)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`CREATE TABLE dead_letters (
      id ${ID} NOT NULL,
      queue VARCHAR(64) CHARACTER SET ascii NOT NULL,
      job_name VARCHAR(128) CHARACTER SET ascii NOT NULL,
      job_id VARCHAR(255) NULL,
      payload LONGTEXT NOT NULL,
      error TEXT NOT NULL,
      attempts INT UNSIGNED NOT NULL,
      failed_at DATETIME(3) NOT NULL,
      state ENUM('dead','retrying','done') NOT NULL,
      retry_job_id VARCHAR(255) CHARACTER SET ascii NULL,
      retried_at DATETIME(3) NULL,
      retried_by VARCHAR(64) NULL,
      done_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      KEY ix_dead_letters_failed (failed_at),
      KEY ix_dead_letters_retry_job (retry_job_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`CREATE TABLE monitor_heartbeats (
      name VARCHAR(32) CHARACTER SET ascii NOT NULL,
      evaluated_at DATETIME(3) NOT NULL,
      evaluated_by VARCHAR(128) NOT NULL,
      PRIMARY KEY (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE monitor_heartbeats');
    await q.query('DROP TABLE dead_letters');
    await q.query('DROP TABLE sla_breaches');
  }
}
