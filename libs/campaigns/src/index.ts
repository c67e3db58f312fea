export * from './campaigns.module';
export * from './catalog/delivery-catalog.types';
