export * from './monitoring.module';
export * from './monitoring-jobs.module';
export * from './entities/queue-probe.entity';
export * from './services/queue-probe.service';
export * from './services/queue-stats.service';
export * from './dto/ops.dto';
