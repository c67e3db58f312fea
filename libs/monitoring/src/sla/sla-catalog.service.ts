import { PlatformConfig } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { SlaSpec, declaredSlas } from './sla.definitions';

/** The declared SLAs with this process's configuration applied; a wrong SLA_OVERRIDES id stops the boot. */
@Injectable()
export class SlaCatalog {
  readonly all: readonly SlaSpec[];
  private readonly byId: Map<string, SlaSpec>;

  constructor(@Inject(PlatformConfig) config: PlatformConfig) {
    this.all = declaredSlas(config);
    this.byId = new Map(this.all.map((s) => [s.id, s]));
  }

  get(id: string): SlaSpec | undefined {
    return this.byId.get(id);
  }
}
