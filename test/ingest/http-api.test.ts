// The push API on each database: bearer token, size limits, all-or-nothing validation, idempotent writes.
import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApp } from '../../src/main.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { incidentRow } from '../support/records.js';

const token = 'test-ingest-token-0123456789abcdef';

function jsonIncident(i: number, overrides: Record<string, unknown> = {}) {
  const { occurred_at: _, ...row } = incidentRow(i);
  return { ...row, children_present: i % 2 === 1, ...overrides };
}

describe.each(databaseTargets)('POST /api/v1/incidents on $name', (target) => {
  let db: TestDatabase;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    db = await target.create();
    server = httpApp(db, { DMM_INGEST_TOKEN: token }, pino({ level: 'silent' })).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.destroy();
  });

  const post = async (body: string, auth: string | null = `Bearer ${token}`, path = '/api/v1/incidents') => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const count = () => db.prisma.incident.count();

  it('stores a batch and answers with the counts, then changes nothing on a repeat', async () => {
    const body = JSON.stringify([jsonIncident(1), jsonIncident(2), jsonIncident(3)]);
    expect(await post(body)).toEqual({ status: 200, json: { inserted: 3, updated: 0, unchanged: 0 } });
    expect(await post(body)).toEqual({ status: 200, json: { inserted: 0, updated: 0, unchanged: 3 } });
    expect(await count()).toBe(3);
  });

  it('refuses a request without a token, or with a token wrong by one character', async () => {
    const body = JSON.stringify([jsonIncident(10)]);
    expect((await post(body, null)).status).toBe(401);
    const oneOff = token.slice(0, -1) + (token.endsWith('f') ? 'e' : 'f');
    expect((await post(body, `Bearer ${oneOff}`)).status).toBe(401);
    expect((await post(body, `Basic ${token}`)).status).toBe(401);
    expect(await count()).toBe(3);
  });

  it('refuses a body that is not an array, and one that is not JSON', async () => {
    expect(await post(JSON.stringify(jsonIncident(11)))).toMatchObject({ status: 400, json: { error: expect.stringMatching(/JSON array/) } });
    expect(await post('[{"source_ref": ')).toMatchObject({ status: 400, json: { error: expect.stringMatching(/not valid JSON/) } });
    expect(await count()).toBe(3);
  });

  it('names each bad record by index, field and reason, and writes none of the batch', async () => {
    const body = JSON.stringify([
      jsonIncident(20),
      jsonIncident(21, { risk_level: 'severe' }),
      jsonIncident(22, { victim_name: 'anything' }),
      jsonIncident(23, { reported_at: '2026-03-02T09:15:00' }),
      jsonIncident(20),
    ]);
    const { status, json } = await post(body);
    expect(status).toBe(400);
    expect(json.problems).toEqual([
      { index: 1, field: 'risk_level', reason: 'must be one of standard|medium|high' },
      { index: 2, field: 'victim_name', reason: 'unknown field' },
      { index: 3, field: 'reported_at', reason: expect.stringMatching(/offset/) },
      { index: 4, field: 'source_ref', reason: 'repeats record 0' },
    ]);
    expect(await count()).toBe(3);
  });

  it('refuses more than 1,000 records, and a body too large to read, with 413', async () => {
    const many = JSON.stringify(Array.from({ length: 1_001 }, (_, i) => jsonIncident(1_000 + i)));
    expect((await post(many)).status).toBe(413);
    const huge = JSON.stringify([jsonIncident(30, { category: 'x'.repeat(5 * 1024 * 1024) })]);
    expect((await post(huge)).status).toBe(413);
    expect(await count()).toBe(3);
  });

  it('takes exactly 1,000 records', async () => {
    const body = JSON.stringify(Array.from({ length: 1_000 }, (_, i) => jsonIncident(5_000 + i)));
    expect(await post(body)).toEqual({ status: 200, json: { inserted: 1_000, updated: 0, unchanged: 0 } });
  });

  it('takes flags on /api/v1/flags', async () => {
    const body = JSON.stringify([{ perpetrator_ref: 'TEST-P-1', kind: 'marac', note: '', starts_on: '2026-03-01' }]);
    expect(await post(body, null, '/api/v1/flags')).toMatchObject({ status: 401 });
    expect(await post(body, `Bearer ${token}`, '/api/v1/flags')).toEqual({ status: 200, json: { inserted: 1, updated: 0, unchanged: 0 } });
  });

  it('takes victim contacts on /api/v1/contacts, all or nothing, and again changes nothing', async () => {
    const contact = (i: number, overrides: Record<string, unknown> = {}) => ({
      source_ref: `TEST-C-${i}`,
      victim_ref: `TEST-V-${i}`,
      contacted_at: '2026-03-01T10:00:00Z',
      perceived_risk: i,
      agency: 'idva',
      ...overrides,
    });
    const bad = await post(JSON.stringify([contact(1), contact(2, { perceived_risk: 11 }), contact(3, { victim_ref: '' })]), `Bearer ${token}`, '/api/v1/contacts');
    expect(bad.status).toBe(400);
    expect(bad.json.problems).toEqual([
      { index: 1, field: 'perceived_risk', reason: 'must be a whole number from 0 to 10' },
      { index: 2, field: 'victim_ref', reason: 'is required' },
    ]);
    expect(await db.prisma.victimContact.count()).toBe(0);
    const good = JSON.stringify([contact(1), contact(2, { perceived_risk: '7' })]);
    expect(await post(good, `Bearer ${token}`, '/api/v1/contacts')).toEqual({ status: 200, json: { inserted: 2, updated: 0, unchanged: 0 } });
    expect(await post(good, `Bearer ${token}`, '/api/v1/contacts')).toEqual({ status: 200, json: { inserted: 0, updated: 0, unchanged: 2 } });
    const stored = await db.prisma.victimContact.findMany({ orderBy: { sourceRef: 'asc' }, include: { victim: { select: { ref: true } } } });
    expect(stored.map((c) => [c.sourceRef, c.victim.ref, c.perceivedRisk, c.agency])).toEqual([
      ['TEST-C-1', 'TEST-V-1', 1, 'idva'],
      ['TEST-C-2', 'TEST-V-2', 7, 'idva'],
    ]);
  });

  it('audits every push', async () => {
    expect(await db.prisma.auditEvent.count({ where: { action: 'ingest.incidents', actor: 'api:ingest' } })).toBe(3);
  });
});

describe('the push API without DMM_INGEST_TOKEN', () => {
  it('is switched off with 503 rather than open', async () => {
    const fakeDb = {} as TestDatabase;
    const server = httpApp(fakeDb, { DMM_INGEST_TOKEN: undefined }, pino({ level: 'silent' })).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/incidents`, { method: 'POST', body: '[]', headers: { authorization: 'Bearer x' } });
    expect(response.status).toBe(503);
    await new Promise((resolve) => server.close(resolve));
  });
});
