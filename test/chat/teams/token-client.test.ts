// The bot's outgoing Teams token: fetched with a client-credentials grant at TEAMS_TOKEN_URL (the fake
// token endpoint on loopback), kept until shortly before it expires, and shared by concurrent sends.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { botFrameworkScope, TeamsTokenClient } from '../../../src/chat/teams/token-client.js';
import { startFakeTeams, type FakeTeams } from '../../support/fake-teams.js';

const clientId = '0b0b0b0b-0000-4000-8000-00000000b001';
const clientSecret = 'test-token-client-secret';

describe('TeamsTokenClient', () => {
  let fake: FakeTeams;
  beforeAll(async () => {
    fake = await startFakeTeams({ clientId, clientSecret, tokenExpiresIn: 3600 });
  });
  afterAll(() => fake?.close());
  afterEach(() => {
    vi.useRealTimers();
    fake.reset();
  });

  const client = () => new TeamsTokenClient({ clientId, clientSecret, tokenUrl: fake.tokenUrl });

  it('asks the token endpoint once (client credentials, the Bot Framework scope) and reuses the token', async () => {
    const tokens = client();
    const first = await tokens.token();
    const again = await Promise.all(Array.from({ length: 5 }, () => tokens.token()));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]).toMatchObject({ grantType: 'client_credentials', clientId, clientSecret, scope: botFrameworkScope, authMethod: 'body', status: 200 });
    expect(first).toBe(fake.issuedTokens[0]);
    expect(again).toEqual(Array(5).fill(first));
  });

  it('shares one request among sends that start together', async () => {
    const tokens = client();
    const all = await Promise.all(Array.from({ length: 8 }, () => tokens.token()));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(new Set(all).size).toBe(1);
  });

  it('keeps the token until 5 minutes before it expires, then fetches a new one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const tokens = client();
    const first = await tokens.token();
    // 54 minutes on (6 minutes before expiry): still the same token.
    vi.setSystemTime(start + 54 * 60_000);
    expect(await tokens.token()).toBe(first);
    expect(fake.tokenRequests).toHaveLength(1);
    // 56 minutes on (4 minutes before expiry): renewed.
    vi.setSystemTime(start + 56 * 60_000);
    const renewed = await tokens.token();
    expect(fake.tokenRequests).toHaveLength(2);
    expect(renewed).not.toBe(first);
    expect(renewed).toBe(fake.issuedTokens[1]);
    expect(await tokens.token()).toBe(renewed);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('fails a send whose token cannot be had, and asks again next time', async () => {
    fake.failNext('token', { status: 503 });
    const tokens = client();
    await expect(tokens.token()).rejects.toThrow();
    const token = await tokens.token();
    expect(token).toBe(fake.issuedTokens[0]);
    expect(fake.tokenRequests.map((r) => r.status)).toEqual([503, 200]);
  });
});
