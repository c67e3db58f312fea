import { JobName, JobQueue, QueueName, uuidv7 } from '@app/platform';
import { Injectable, NotFoundException } from '@nestjs/common';
import { hostname } from 'node:os';
import { QueueProbeDto } from '../dto/ops.dto';
import { QueueProbeEntity } from '../entities/queue-probe.entity';
import { QueueProbeRepository } from '../repositories/queue-probe.repository';

/** Sends a probe job through the maintenance queue and records when a worker ran it. */
@Injectable()
export class QueueProbeService {
  constructor(
    private readonly repo: QueueProbeRepository,
    private readonly jobs: JobQueue,
  ) {}

  async send(): Promise<QueueProbeDto> {
    const probe = await this.repo.insert(uuidv7(), QueueName.Maintenance);
    try {
      await this.jobs.enqueue(JobName.OpsProbe, { probeId: probe.id }, { jobId: `probe-${probe.id}` });
    } catch (err) {
      await this.repo.delete(probe.id);
      throw err;
    }
    return toDto(probe);
  }

  async get(id: string): Promise<QueueProbeDto> {
    const probe = await this.repo.find(id);
    if (!probe) throw new NotFoundException(`probe ${id} not found`);
    return toDto(probe);
  }

  /** Worker side; a retry after success changes nothing. A probe that is not (yet) in MySQL fails the job, to be retried. */
  async markProcessed(id: string): Promise<void> {
    if ((await this.repo.markProcessed(id, new Date(), `${hostname()}:${process.pid}`)) === 'missing') throw new Error(`probe ${id} not found`);
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
