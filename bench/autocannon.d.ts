/** autocannon ships no typings; the benchmarks use a small part of its API. */
declare module 'autocannon';
