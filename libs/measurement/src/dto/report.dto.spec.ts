import { createValidationPipe } from '@app/platform';
import { BadRequestException } from '@nestjs/common';
import { ReportQueryDto } from './report.dto';

const ID = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';
const pipe = createValidationPipe();

/** The 400 body the global pipe answers for this query string, or null when it passes. */
async function refusal(query: Record<string, string>): Promise<{ message: string; details: Array<{ field: string; problems: string[] }> } | null> {
  try {
    await pipe.transform(query, { type: 'query', metatype: ReportQueryDto });
    return null;
  } catch (err) {
    if (!(err instanceof BadRequestException)) throw err;
    return err.getResponse() as { message: string; details: Array<{ field: string; problems: string[] }> };
  }
}

describe('ReportQueryDto', () => {
  it.each(['advertiserId', 'campaignId', 'lineItemId'])('accepts %s alone', async (field) => {
    expect(await refusal({ [field]: ID, timezone: 'Asia/Kathmandu', breakdown: 'country,creative' })).toBeNull();
  });

  it('names advertiserId when no scope is given', async () => {
    const body = await refusal({ granularity: 'day' });
    expect(body?.details).toEqual([{ field: 'advertiserId', problems: ['exactly one of advertiserId, campaignId, lineItemId is required'] }]);
  });

  it('names every scope given when there are several', async () => {
    const body = await refusal({ campaignId: ID, lineItemId: ID });
    expect(body?.details.map((d) => d.field)).toEqual(['campaignId', 'lineItemId']);
    expect(body?.message).toMatch(/exactly one of advertiserId, campaignId, lineItemId is required \(got campaignId, lineItemId\)/);
  });

  it('refuses an over-long scope id, naming it', async () => {
    expect((await refusal({ lineItemId: 'x'.repeat(65) }))?.details).toEqual([{ field: 'lineItemId', problems: ['must be a string of at most 64 characters'] }]);
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ timezone: '+05:45' }, 'timezone'],
    [{ breakdown: 'country,city' }, 'breakdown'],
    [{ granularity: 'week' }, 'granularity'],
    [{ from: '2026-13-01' }, 'from'],
  ])('refuses %j, naming %s', async (extra, field) => {
    expect((await refusal({ campaignId: ID, ...extra }))?.details.map((d) => d.field)).toEqual([field]);
  });
});
