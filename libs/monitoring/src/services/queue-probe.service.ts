import { JobName, JobQueue, QueueName, uuidv7 } from '@app/platform';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { DataSource, IsNull } from 'typeorm';
import { QueueProbeDto } from '../dto/ops.dto';
import { QueueProbeEntity } from '../entities/queue-probe.entity';

/** Sends a probe job through the maintenance queue and records when a worker ran it. */
@Injectable()
export class QueueProbeService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
  ) {}

  async send(): Promise<QueueProbeDto> {
    const repo = this.dataSource.getRepository(QueueProbeEntity);
    const probe = await repo.save(repo.create({ id: uuidv7(), queue: QueueName.Maintenance, processedAt: null, processedBy: null }));
    try {
      await this.jobs.enqueue(JobName.OpsProbe, { probeId: probe.id }, { jobId: `probe-${probe.id}` });
    } catch (err) {
      await repo.delete({ id: probe.id });
      throw err;
    }
    return toDto(probe);
  }

  async get(id: string): Promise<QueueProbeDto> {
    const probe = await this.dataSource.getRepository(QueueProbeEntity).findOne({ where: { id } });
    if (!probe) throw new NotFoundException(`probe ${id} not found`);
    return toDto(probe);
  }

  /** Worker side; a retry after success changes nothing. A probe that is not (yet) in MySQL fails the job, to be retried. */
  async markProcessed(id: string): Promise<void> {
    const repo = this.dataSource.getRepository(QueueProbeEntity);
    const result = await repo.update({ id, processedAt: IsNull() }, { processedAt: new Date(), processedBy: `${hostname()}:${process.pid}` });
    if (!result.affected && !(await repo.existsBy({ id }))) throw new Error(`probe ${id} not found`);
  }
}

function toDto(p: QueueProbeEntity): QueueProbeDto {
  return {
    id: p.id,
    queue: p.queue,
    status: p.processedAt ? 'processed' : 'pending',
    createdAt: p.createdAt.toISOString(),
    processedAt: p.processedAt?.toISOString() ?? null,
    processedBy: p.processedBy,
    roundTripMs: p.processedAt ? p.processedAt.getTime() - p.createdAt.getTime() : null,
  };
}
