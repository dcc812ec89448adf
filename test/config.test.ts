// Configuration: defaults for a fresh clone, and one clear line per bad value.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

describe('parseConfig', () => {
  it('runs on the embedded database with nothing set', () => {
    const config = parseConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DMM_DATA_DIR).toBe('./data');
    expect(config.PORT).toBe(3000);
  });

  it('takes a PostgreSQL URL', () => {
    expect(parseConfig({ DATABASE_URL: 'postgresql://dmm@db.example.test:5432/dmm' }).DATABASE_URL).toBe('postgresql://dmm@db.example.test:5432/dmm');
  });

  it('names every bad value, one line each', () => {
    try {
      parseConfig({ DATABASE_URL: 'nonsense', PORT: 'eighty', DMM_INGEST_TOKEN: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toMatch(/PostgreSQL URL/);
      expect(problems.find((p) => p.startsWith('PORT:'))).toBeDefined();
      expect(problems.find((p) => p.startsWith('DMM_INGEST_TOKEN:'))).toMatch(/at least 24/);
    }
  });

  it('takes Slack and Teams chairs; a Teams AAD object id in capitals is read in lower case, as Teams sends it', () => {
    expect(parseConfig({ DMM_CHAIRS: 'U0TESTCHAIR, slack:U0TESTCHAIR2, TEAMS:C0C0C0C0-0000-4000-8000-00000000000A' }).DMM_CHAIRS).toEqual([
      'U0TESTCHAIR',
      'slack:U0TESTCHAIR2',
      'teams:c0c0c0c0-0000-4000-8000-00000000000a',
    ]);
    expect(() => parseConfig({ DMM_CHAIRS: 'teams:not-an-object-id' })).toThrow(/DMM_CHAIRS/);
  });

  it('refuses a MySQL URL', () => {
    expect(() => parseConfig({ DATABASE_URL: 'mysql://root@localhost/dmm' })).toThrow(ConfigError);
  });
});
