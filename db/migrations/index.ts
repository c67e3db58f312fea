import { Foundation1764100000000 } from './1764100000000-Foundation';
import { Campaigns1764200000000 } from './1764200000000-Campaigns';
import { Measurement1764400000000 } from './1764400000000-Measurement';
import { BudgetLedger1764500000000 } from './1764500000000-BudgetLedger';
import { Billing1764600000000 } from './1764600000000-Billing';

/** Every migration, in order. Listed explicitly so the compiled build needs no file globbing. */
export const MIGRATIONS = [Foundation1764100000000, Campaigns1764200000000, Measurement1764400000000, BudgetLedger1764500000000, Billing1764600000000];
