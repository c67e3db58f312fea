import type { DeliveryCatalog } from '@app/campaigns';

/**
 * Where the eligibility index reads the servable catalog from: the campaigns lib's
 * DeliveryCatalogService, bound in DeliveryModule. `version()` is compared for equality only.
 */
export abstract class CatalogSource {
  abstract load(): Promise<DeliveryCatalog>;
  abstract version(): Promise<string | number>;
}
