// The `dmm` command as a user runs it: exit codes, summaries, and one clear line for each mistake.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvOf, incidentHeader, incidentRow } from './support/records.js';

const run = promisify(execFile);
const dmm = path.resolve('bin/dmm.mjs');

describe('dmm', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-cli-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, DMM_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const dmmRun = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [dmm, ...args], { env: { ...env, ...extraEnv }, cwd: dir });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['import', 'incidents', '--help'], ['seed', '--help'], ['migrate', '--help'], ['start', '--help']]) {
      const result = await dmmRun(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage: dmm/);
    }
  });

  it('imports a file, reports the counts, and exits non-zero when rows were rejected', async () => {
    const file = path.join(dir, 'march.csv');
    await writeFile(file, csvOf(incidentHeader, [incidentRow(1), incidentRow(2, { risk_level: 'severe' }), incidentRow(3)]));
    const first = await dmmRun(['import', 'incidents', file]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('incidents: inserted 2, updated 0, unchanged 0, rejected 1');
    expect(first.stdout).toContain(`${file}.rejects.csv`);
    await writeFile(file, csvOf(incidentHeader, [incidentRow(1), incidentRow(3)]));
    const second = await dmmRun(['import', 'incidents', file]);
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain('incidents: inserted 0, updated 0, unchanged 2, rejected 0');
  });

  it('refuses a wrong header in one line, with no stack trace', async () => {
    const file = path.join(dir, 'wrong.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const result = await dmmRun(['import', 'incidents', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^dmm: The header line .*missing source_ref/);
    expect(result.stderr).not.toMatch(/\s+at /);
  });

  it('stops on a bad setting with one line per problem', async () => {
    const result = await dmmRun(['import', 'incidents', 'x.csv'], { DATABASE_URL: 'nonsense', PORT: 'x' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DATABASE_URL: must be a PostgreSQL URL/);
    expect(result.stderr).toMatch(/PORT: /);
    expect(result.stderr).not.toMatch(/\s+at /);
  });

  it('seeds demo data into an empty store only', async () => {
    const fresh = { DMM_DATA_DIR: path.join(dir, 'demo-data') };
    const first = await dmmRun(['seed', '--demo'], fresh);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Demo data: \d+ incidents, \d+ flags, 4 members, 4 open actions, 1 panel/);
    const again = await dmmRun(['seed', '--demo'], fresh);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/only fills an empty store/);
  });

  it('starts the bot, serves the health check, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [dmm, 'start'], { env: { ...env, PORT: '0' }, cwd: dir });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up line: ${output}`)), 30_000);
      child.stdout.on('data', () => {
        const match = /running on port (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
