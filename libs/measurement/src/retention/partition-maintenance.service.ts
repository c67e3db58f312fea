import { Injectable, Logger } from '@nestjs/common';
import { DAY_PARTITIONED_TABLES, PARTITION_DAYS_AHEAD, PARTITION_MAX, dayNumber, isoDay } from './day-partitions';
import { PartitionsRepository } from '../repositories/partitions.repository';

export interface PartitionsAdded {
  table: string;
  days: string[];
}

/**
 * Keeps a partition ready for every day from today to PARTITION_DAYS_AHEAD days ahead in each
 * day-partitioned table (the migration made the first ones; the worker runs this at boot and daily).
 * Rows of a day without its partition would still be stored (in `pmax`, split off when the day is
 * added), so a late run never refuses an event; it only makes the split copy those rows.
 */
@Injectable()
export class PartitionMaintenance {
  private readonly logger = new Logger(PartitionMaintenance.name);

  constructor(private readonly partitions: PartitionsRepository) {}

  async ensureAhead(nowMs: number = Date.now()): Promise<PartitionsAdded[]> {
    const until = dayNumber(nowMs) + PARTITION_DAYS_AHEAD;
    return this.partitions.locked(async (runner) => {
      const added: PartitionsAdded[] = [];
      for (const spec of DAY_PARTITIONED_TABLES) {
        const listed = await this.partitions.list(spec, runner);
        if (!listed.some((p) => p.name === PARTITION_MAX)) throw new Error(`${spec.table} is not day-partitioned (migration DayPartitions1764900000000 not applied?)`);
        const days = listed.map((p) => p.day).filter((d): d is number => d !== null);
        // Days are only ever added after the newest one: retention removes old days, never the newest.
        const from = days.length > 0 ? Math.max(...days) + 1 : dayNumber(nowMs);
        const missing: number[] = [];
        for (let day = from; day <= until; day++) missing.push(day);
        if (missing.length === 0) continue;
        await this.partitions.addDays(runner, spec, missing);
        added.push({ table: spec.table, days: missing.map(isoDay) });
        this.logger.log(`${spec.table}: partitions added for ${isoDay(missing[0])}..${isoDay(missing[missing.length - 1])}`);
      }
      return added;
    });
  }
}
