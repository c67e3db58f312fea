import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The SQL of approved creative versions (`creative_approved_versions`, rows never change once written), as clicks need them. */
@Injectable()
export class ApprovedCreativeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The click-through URL of a creative's approved `version` (its latest approved one when undefined), or null when there is none. */
  async clickThroughUrl(creativeId: string, version: number | undefined): Promise<string | null> {
    const rows =
      version === undefined
        ? await this.dataSource.query<Array<{ click_through_url: string }>>('SELECT click_through_url FROM creative_approved_versions WHERE creative_id = ? ORDER BY version DESC LIMIT 1', [creativeId])
        : await this.dataSource.query<Array<{ click_through_url: string }>>('SELECT click_through_url FROM creative_approved_versions WHERE creative_id = ? AND version = ?', [creativeId, version]);
    return rows[0]?.click_through_url ?? null;
  }
}
