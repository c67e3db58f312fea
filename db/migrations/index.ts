import { Foundation1764100000000 } from './1764100000000-Foundation';
import { Measurement1764400000000 } from './1764400000000-Measurement';

/** Every migration, in order. Listed explicitly so the compiled build needs no file globbing. */
export const MIGRATIONS = [Foundation1764100000000, Measurement1764400000000];
