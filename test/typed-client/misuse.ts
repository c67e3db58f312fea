import { createClient } from './client';

/** Calls the compiler must refuse: proof that the generated types are not `any`. Each line is one error. */
export async function misuse(): Promise<void> {
  const api = createClient('http://127.0.0.1:1', 'key');
  // @ts-expect-error an unknown path
  await api.get('/v1/nowhere');
  // @ts-expect-error name must be a string
  await api.post('/v1/advertisers', { body: { name: 42 } });
  // @ts-expect-error campaigns need advertiserId, startAt and endAt
  await api.post('/v1/campaigns', { body: { name: 'incomplete' } });
  const campaign = await api.get('/v1/campaigns/{id}', { path: { id: 'x' } });
  // @ts-expect-error budgetMicros may be null
  const budget: number = campaign.budgetMicros;
  // @ts-expect-error no such status
  const status: 'sold' = campaign.status;
  void budget;
  void status;
}
