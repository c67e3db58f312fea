import { JobHandler, JobName, JobPayloads } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { QueueProbeService } from '../services/queue-probe.service';

@Injectable()
export class ProbeJob {
  constructor(private readonly probes: QueueProbeService) {}

  @JobHandler(JobName.OpsProbe)
  async run(payload: JobPayloads[JobName.OpsProbe]): Promise<void> {
    await this.probes.markProcessed(payload.probeId);
  }
}
