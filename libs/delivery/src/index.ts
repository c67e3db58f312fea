export * from './delivery.module';
export * from './tracking/tracking-token';
export * from './time/clock';
export * from './time/local-time';
export * from './counters/pricing';
export * from './counters/counters.types';
export * from './counters/counter-keys';
export * from './counters/delivery-counters.service';
