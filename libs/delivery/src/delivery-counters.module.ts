import { PlatformConfig } from '@app/platform';
import { Module } from '@nestjs/common';
import { DELIVERY_COUNTERS_OPTIONS, DeliveryCountersOptions, DeliveryCountersService } from './counters/delivery-counters.service';
import { Clock, SystemClock } from './time/clock';

/**
 * The Redis delivery counters alone (no index, no HTTP): what a worker-side module needs to feed or
 * restore them without loading the catalog.
 */
@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: DELIVERY_COUNTERS_OPTIONS,
      inject: [PlatformConfig],
      // Reservations expire in buckets of 10 s, or a tenth of a window shorter than 100 s.
      useFactory: ({ RESERVATION_WINDOW_SECONDS: seconds }: PlatformConfig): Partial<DeliveryCountersOptions> => ({
        reservationWindowMs: seconds * 1000,
        reservationBucketMs: Math.min(10_000, seconds * 100),
      }),
    },
    DeliveryCountersService,
  ],
  exports: [Clock, DeliveryCountersService],
})
export class DeliveryCountersModule {}
