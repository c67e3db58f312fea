import { Foundation1764100000000 } from './1764100000000-Foundation';
import { Campaigns1764200000000 } from './1764200000000-Campaigns';
import { Measurement1764400000000 } from './1764400000000-Measurement';
import { AbuseLimits1764520000000 } from './1764520000000-AbuseLimits';

/** Every migration, in order. Listed explicitly so the compiled build needs no file globbing. */
export const MIGRATIONS = [Foundation1764100000000, Campaigns1764200000000, Measurement1764400000000, AbuseLimits1764520000000];
