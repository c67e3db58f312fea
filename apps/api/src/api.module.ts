import { BillingModule } from '@app/billing';
import { CampaignsModule } from '@app/campaigns';
import { DeliveryModule } from '@app/delivery';
import { MeasurementModule } from '@app/measurement';
import { MonitoringModule } from '@app/monitoring';
import { WarehouseModule } from '@app/warehouse';
import { ApiConfig, ApiKeyGuard, PlatformModule } from '@app/platform';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PlayerRouteTable } from './player-route-table';

@Module({})
export class ApiModule {
  static forRoot(config: ApiConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [PlatformModule.forRoot({ config, http: true }), CampaignsModule, DeliveryModule, MeasurementModule, WarehouseModule, BillingModule, MonitoringModule],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }, PlayerRouteTable],
    };
  }
}
