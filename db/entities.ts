import { CAMPAIGN_ENTITIES } from '@app/campaigns';
import { QueueProbeEntity } from '@app/monitoring';
import { ApiKeyEntity } from '@app/platform';

/** Every entity, for the migration CLI (the apps load theirs through TypeOrmModule.forFeature). */
export const ENTITIES = [ApiKeyEntity, ...CAMPAIGN_ENTITIES, QueueProbeEntity];
