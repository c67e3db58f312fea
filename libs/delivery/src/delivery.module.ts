import { Module } from '@nestjs/common';
import { DeliveryCountersService } from './counters/delivery-counters.service';
import { Clock, SystemClock } from './time/clock';

@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, DeliveryCountersService],
  exports: [Clock, DeliveryCountersService],
})
export class DeliveryModule {}
