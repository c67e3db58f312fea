import { WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ConnectionOptions } from 'bullmq';
import type { Cluster } from 'ioredis';
import { PlatformConfig } from '../config/platform.config';
import { createRedisClient, isClusterConfig, redisOptions } from '../redis/redis-client';
import { JobQueue } from './job-queue.service';
import { ALL_QUEUES } from './jobs';

/**
 * The BullMQ key prefix of a queue. One Redis: QUEUE_PREFIX, as always. A cluster: the hash tag
 * `{<QUEUE_PREFIX>:<queue>}`, because BullMQ's scripts touch many keys of a queue at once (they must share
 * a slot), and one tag per queue spreads the queues over the shards.
 */
export function queuePrefix(config: Pick<PlatformConfig, 'QUEUE_PREFIX' | 'REDIS_CLUSTER_NODES'>, queue: string): string {
  return isClusterConfig(config) ? `{${config.QUEUE_PREFIX}:${queue}}` : config.QUEUE_PREFIX;
}

/** The cluster connection the queues share (null on one Redis, where BullMQ makes its own from options). */
export const QUEUE_CLUSTER_CONNECTION = Symbol('QUEUE_CLUSTER_CONNECTION');

/**
 * BullMQ's connection for producers and workers. One Redis: options (BullMQ connects; producers never
 * queue commands while Redis is away, so an enqueue fails fast and the caller answers 503). A cluster:
 * an ioredis Cluster shared by every queue (BullMQ only builds single-node connections from options;
 * workers duplicate it for their blocking reads), with an offline queue (see redis-client.ts, role
 * 'queue'); enqueues fail fast through JobQueue's timeout.
 */
export function queueConnection(config: PlatformConfig, cluster: Cluster | null): ConnectionOptions {
  return cluster ?? ({ ...redisOptions(config), enableOfflineQueue: false } as ConnectionOptions);
}

export function createQueueCluster(config: PlatformConfig): Cluster | null {
  return isClusterConfig(config) ? (createRedisClient(config, 'queue') as Cluster) : null;
}

/**
 * Closes the shared cluster connection at shutdown, which BullMQ leaves open because it was handed in.
 * Workers finish their active jobs on it, and their module shuts down after this one: so they and the
 * queues are closed first (closing twice is harmless in BullMQ).
 */
@Injectable()
export class QueueClusterCloser implements OnApplicationShutdown {
  constructor(
    @Inject(QUEUE_CLUSTER_CONNECTION) private readonly cluster: Cluster | null,
    private readonly discovery: DiscoveryService,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.cluster) return;
    const hosts = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown).filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
    await Promise.all(hosts.map((host) => (host as unknown as { _worker?: { close(): Promise<void> } })._worker?.close()));
    await Promise.all(ALL_QUEUES.map((name) => this.jobs.queue(name).close()));
    this.cluster.disconnect();
  }
}
