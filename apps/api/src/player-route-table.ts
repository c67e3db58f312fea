import { DecisionRoutes } from '@app/delivery';
import { BeaconRoutes } from '@app/measurement';
import { PlayerRoute, PlayerRoutes } from '@app/platform';
import { Injectable, OnModuleInit } from '@nestjs/common';

/**
 * Every player route, in one place: the routes players and SDKs call, served by PlayerRoutes on plain
 * Fastify beside Nest (docs/architecture.md). Nest's guards, pipes, interceptors and filters do not
 * apply to them: each validates its request and writes its answer with its own JSON schemas, from
 * which the OpenAPI document describes it too.
 */
@Injectable()
export class PlayerRouteTable implements OnModuleInit {
  constructor(
    private readonly server: PlayerRoutes,
    private readonly decisions: DecisionRoutes,
    private readonly beacons: BeaconRoutes,
  ) {}

  routes(): PlayerRoute[] {
    return [
      this.decisions.decide, // POST /v1/decisions
      this.decisions.vast, // GET (and HEAD) /v1/vast
      this.beacons.beacon, // GET (and HEAD) /t/:event
    ];
  }

  onModuleInit(): void {
    for (const route of this.routes()) this.server.route(route);
  }
}
