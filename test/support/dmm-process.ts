// The `dmm` command as a child process, for end-to-end tests: `dmm start` as `npm start` runs it
// (waiting for its "running on port N" line), and one-shot commands with their exit code and output.
// Every child started here is tracked, so a test's afterEach can kill whatever is still running.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

/** The project root: the working directory `npm start` runs in. */
export const projectRoot = path.resolve(import.meta.dirname, '../..');
const dmmBin = path.join(projectRoot, 'bin/dmm.mjs');

/**
 * A clean environment: PATH and HOME only, plus every setting a stray `.env` could supply set to
 * empty (an empty setting counts as unset, and the environment wins over `.env`).
 */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LOG_LEVEL: 'warn',
    DATABASE_URL: '',
    DMM_MEETINGS_FILE: '',
    DMM_INGEST_TOKEN: '',
    DMM_AREAS: '',
    DMM_EXTRA_HOLIDAYS: '',
    DMM_NOT_HOLIDAYS: '',
    DMM_TIME: '',
    DMM_TIMEZONE: '',
    DMM_HOLIDAYS: '',
    DMM_NOW: '',
    SLACK_BOT_TOKEN: '',
    SLACK_SIGNING_SECRET: '',
    SLACK_APP_TOKEN: '',
    SLACK_API_URL: '',
    SLACK_TEAM_IDS: '',
    DMM_CHANNEL: '',
    ...extra,
  };
}

export interface DmmServer {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`); resolves to the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

async function stopChild(child: ChildProcessWithoutNullStreams, graceMs: number): Promise<number | string | null> {
  const exited = exitOf(child);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
      running.delete(child);
    }
  }
  running.delete(child);
  return exited;
}

/** Spawns `node bin/dmm.mjs start` and resolves once it prints the port it listens on. */
export async function startDmm(env: NodeJS.ProcessEnv, options: { timeoutMs?: number; nodeOptions?: string[] } = {}): Promise<DmmServer> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), dmmBin, 'start'], { cwd: projectRoot, env: { PORT: '0', ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const timeoutMs = options.timeoutMs ?? 45_000;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dmm start printed no start-up line within ${timeoutMs} ms.\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
      const onData = () => {
        const match = /running on port (\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          resolve(Number(match[1]));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new Error(`dmm start exited (${code ?? signal}) before it was running.\nstdout: ${out}\nstderr: ${err}`));
      };
      child.stdout.on('data', onData);
      child.once('exit', onExit);
    });
    return { child, port, stdout: () => out, stderr: () => err, stop: (graceMs = 15_000) => stopChild(child, graceMs) };
  } catch (error) {
    await stopChild(child, 2_000);
    throw error;
  }
}

/** Kills every `dmm start` still running (for afterEach/afterAll, also after a failed test). */
export async function stopAllDmm(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child, 5_000)));
}

export interface DmmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a one-shot `dmm` command to completion. */
export function runDmm(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<DmmRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [dmmBin, ...args], { cwd: projectRoot, env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
