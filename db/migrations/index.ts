import { Foundation1764100000000 } from './1764100000000-Foundation';
import { Campaigns1764200000000 } from './1764200000000-Campaigns';
import { Measurement1764400000000 } from './1764400000000-Measurement';
import { BudgetLedger1764500000000 } from './1764500000000-BudgetLedger';
import { AbuseLimits1764520000000 } from './1764520000000-AbuseLimits';
import { CreativeApprovedVersions1764530000000 } from './1764530000000-CreativeApprovedVersions';
import { Billing1764600000000 } from './1764600000000-Billing';
import { Operations1764700000000 } from './1764700000000-Operations';
import { DataExports1764800000000 } from './1764800000000-DataExports';
import { DayPartitions1764900000000 } from './1764900000000-DayPartitions';
import { ReachSketches1765000000000 } from './1765000000000-ReachSketches';
import { DailyRollupsByEventDay1765100000000 } from './1765100000000-DailyRollupsByEventDay';

/** Every migration, in order. Listed explicitly so the compiled build needs no file globbing. */
export const MIGRATIONS = [
  Foundation1764100000000,
  Campaigns1764200000000,
  Measurement1764400000000,
  BudgetLedger1764500000000,
  AbuseLimits1764520000000,
  CreativeApprovedVersions1764530000000,
  Billing1764600000000,
  Operations1764700000000,
  DataExports1764800000000,
  DayPartitions1764900000000,
  ReachSketches1765000000000,
  DailyRollupsByEventDay1765100000000,
];
