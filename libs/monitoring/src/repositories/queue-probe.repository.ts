import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { QueueProbeEntity } from '../entities/queue-probe.entity';

/** The rows of queue probes: written when one is sent, completed once by the worker that runs it. */
@Injectable()
export class QueueProbeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get orm() {
    return this.dataSource.getRepository(QueueProbeEntity);
  }

  /** A new pending probe of `queue` (the database stamps its creation). */
  insert(id: string, queue: string): Promise<QueueProbeEntity> {
    return this.orm.save(this.orm.create({ id, queue, processedAt: null, processedBy: null }));
  }

  async delete(id: string): Promise<void> {
    await this.orm.delete({ id });
  }

  find(id: string): Promise<QueueProbeEntity | null> {
    return this.orm.findOne({ where: { id } });
  }

  /** Records the first run of a probe: 'processed' the first time, 'already' after, 'missing' when there is no such probe. */
  async markProcessed(id: string, at: Date, by: string): Promise<'processed' | 'already' | 'missing'> {
    const result = await this.orm.update({ id, processedAt: IsNull() }, { processedAt: at, processedBy: by });
    if (result.affected) return 'processed';
    return (await this.orm.existsBy({ id })) ? 'already' : 'missing';
  }
}
