import { createClient } from './client';

/** Creates an advertiser and a campaign and lists them, through the typed client; prints what it saw as JSON. */
async function main(): Promise<void> {
  const api = createClient(process.env.API_URL!, process.env.API_KEY!);
  const name = process.env.DEMO_NAME ?? 'Typed client demo';
  const advertiser = await api.post('/v1/advertisers', { body: { name, currency: 'EUR', timezone: 'Europe/Berlin' } });
  const campaign = await api.post('/v1/campaigns', {
    body: { advertiserId: advertiser.id, name: `${name} campaign`, startAt: '2026-01-01T00:00:00Z', endAt: '2036-01-01T00:00:00Z', budgetMicros: 5_000_000 },
  });
  // Typed answers: budgetMicros is number | null, the page's data are campaigns.
  const budget: number | null = campaign.budgetMicros;
  const page = await api.get('/v1/campaigns', { query: { advertiserId: advertiser.id, limit: 10 } });
  const advertisers = await api.get('/v1/advertisers', { query: { limit: 100 } });
  const one = await api.get('/v1/advertisers/{id}', { path: { id: advertiser.id } });
  process.stdout.write(
    `${JSON.stringify({ advertiserId: advertiser.id, currency: one.currency, campaignId: campaign.id, budget, status: campaign.status, listedCampaigns: page.data.map((c) => c.id), listedAdvertisers: advertisers.data.map((a) => a.id) })}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
