import { PlatformConfig } from '@app/platform';
import { Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { DELIVERY_LEDGER_OPTIONS, DeliveryLedger, DeliveryLedgerOptions } from './delivery-ledger.service';
import { LedgerRebuildService } from './ledger-rebuild.service';
import { LedgerSnapshotRepository } from './repositories/ledger-snapshot.repository';

/**
 * The delivery ledger (budgets, caps, outstanding decisions in Redis, and their rebuild from MySQL):
 * imported by delivery (reserve), measurement's ingestion (apply) and the worker (rebuild).
 */
@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: DELIVERY_LEDGER_OPTIONS,
      inject: [PlatformConfig],
      // Reservations expire in buckets of 10 s, or a tenth of a window shorter than 100 s.
      useFactory: ({ RESERVATION_WINDOW_SECONDS: seconds }: PlatformConfig): Partial<DeliveryLedgerOptions> => ({
        reservationWindowMs: seconds * 1000,
        reservationBucketMs: Math.min(10_000, seconds * 100),
      }),
    },
    DeliveryLedger,
    LedgerSnapshotRepository,
    LedgerRebuildService,
  ],
  exports: [Clock, DeliveryLedger, LedgerRebuildService],
})
export class DeliveryLedgerModule {}
