// A one-shot `dmm` command run in a working directory of the test's choosing (runDmm always runs in the
// project root), so that what a command writes to a relative path, such as `report/`, lands where the
// test can look for it and nowhere else.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { projectRoot, type DmmRun } from './dmm-process.js';

const dmmBin = path.join(projectRoot, 'bin/dmm.mjs');

/** Runs `dmm …args` to completion in `cwd`, with exactly `env`. */
export function runDmmIn(cwd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<DmmRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [dmmBin, ...args], { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
