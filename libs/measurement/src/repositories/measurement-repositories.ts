import { AggregationWatermarkRepository } from './aggregation-watermark.repository';
import { ApprovedCreativeRepository } from './approved-creative.repository';
import { PartitionsRepository } from './partitions.repository';
import { RawEventRepository } from './raw-event.repository';
import { ReachRepository } from './reach.repository';
import { ReportScopeRepository } from './report-scope.repository';
import { RollupRepository } from './rollup.repository';
import { SpendLedgerRepository } from './spend-ledger.repository';

/** Measurement's repositories, provided by both of its modules. */
export const MEASUREMENT_REPOSITORIES = [
  AggregationWatermarkRepository,
  ApprovedCreativeRepository,
  PartitionsRepository,
  RawEventRepository,
  ReachRepository,
  ReportScopeRepository,
  RollupRepository,
  SpendLedgerRepository,
];
