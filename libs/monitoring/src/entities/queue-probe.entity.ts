import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A round trip through a queue: written by the API, completed by a worker. */
@Entity('queue_probes')
export class QueueProbeEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  queue: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'processed_at', type: 'datetime', precision: 3, nullable: true })
  processedAt: Date | null;

  /** Pid and host of the worker process that ran it. */
  @Column({ name: 'processed_by', type: 'varchar', length: 128, nullable: true })
  processedBy: string | null;
}
