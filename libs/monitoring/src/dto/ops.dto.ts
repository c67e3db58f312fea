import { ApiProperty } from '@nestjs/swagger';

export class QueueProbeDto {
  @ApiProperty({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  id: string;

  @ApiProperty({ example: 'maintenance' })
  queue: string;

  @ApiProperty({ enum: ['pending', 'processed'], example: 'processed' })
  status: 'pending' | 'processed';

  @ApiProperty({ example: '2026-11-25T21:30:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-25T21:30:00.042Z' })
  processedAt: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'host:pid of the worker that ran the job', example: 'worker-1:4242' })
  processedBy: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Milliseconds from enqueue to completion', example: 42 })
  roundTripMs: number | null;
}

export class QueueStatsDto {
  @ApiProperty({ example: 'aggregation' })
  queue: string;

  @ApiProperty({ example: 0 }) waiting: number;
  @ApiProperty({ example: 1 }) active: number;
  @ApiProperty({ example: 0 }) delayed: number;
  @ApiProperty({ example: 0 }) failed: number;
  @ApiProperty({ example: 120 }) completed: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Age in seconds of the oldest waiting job', example: 0.4 })
  oldestWaitingAgeSeconds: number | null;
}
