import { DeliveryModule } from '@app/delivery';
import { Module } from '@nestjs/common';
import { AggregationStatusService } from './aggregation/aggregation-status.service';
import { EventsController } from './controllers/events.controller';
import { ReportsController } from './controllers/reports.controller';
import { BeaconRoutes } from './http/beacon.routes';
import { AggregationTrigger } from './ingest/aggregation-trigger.service';
import { ClickThroughService } from './ingest/click-through.service';
import { CountersFeed } from './ingest/counters-feed.service';
import { EventStore } from './ingest/event-store.service';
import { IngestService } from './ingest/ingest.service';
import { MeasurementMetrics } from './ingest/measurement-metrics.service';
import { LagGauge } from './ingest/lag-gauge.service';
import { RateLimiterService } from './ingest/rate-limiter.service';
import { ReachService } from './reports/reach.service';
import { MEASUREMENT_REPOSITORIES } from './repositories/measurement-repositories';
import { RetentionGauge } from './retention/retention-gauge.service';
import { ReportService } from './reports/report.service';
import { RollupReader } from './reports/rollup-reader.service';
import { SpendStateService } from './reports/spend-state.service';
import { SPEND_STATE } from '@app/platform';

/** The API side of measurement: beacons (a player route), the offline batch endpoint, reports. */
@Module({
  imports: [DeliveryModule],
  controllers: [EventsController, ReportsController],
  providers: [
    EventStore,
    RateLimiterService,
    MeasurementMetrics,
    LagGauge,
    ...MEASUREMENT_REPOSITORIES,
    RetentionGauge,
    AggregationTrigger,
    CountersFeed,
    IngestService,
    ClickThroughService,
    AggregationStatusService,
    ReachService,
    ReportService,
    RollupReader,
    SpendStateService,
    BeaconRoutes,
    { provide: SPEND_STATE, useExisting: SpendStateService },
  ],
  exports: [SPEND_STATE, BeaconRoutes, IngestService, ReportService, RollupReader, AggregationStatusService],
})
export class MeasurementModule {}
