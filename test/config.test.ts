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

  it('refuses a MySQL URL', () => {
    expect(() => parseConfig({ DATABASE_URL: 'mysql://root@localhost/dmm' })).toThrow(ConfigError);
  });
});
