import { Module } from '@nestjs/common';
import { DeliveryCountersService } from './counters/delivery-counters.service';
import { Clock, SystemClock } from './time/clock';

/**
 * The Redis delivery counters alone (no index, no HTTP): what a worker-side module needs to feed or
 * restore them without loading the catalog.
 */
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, DeliveryCountersService],
  exports: [Clock, DeliveryCountersService],
})
export class DeliveryCountersModule {}
