// Names this process in the claims it takes on agendas and reminders, so a log or a row says who held one.
import { randomBytes } from 'node:crypto';
import os from 'node:os';

/** Host, process id and a random part: unique among the replicas sharing a database. */
export function instanceName(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
