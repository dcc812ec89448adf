// node-cron wiring for reminders: every minute, plan what is due and send it. Overlapping runs in one
// process are skipped; other replicas are kept apart by the outbox's claims.
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { RunSummary } from '../app/send-reminders.js';

export function startReminderSchedule(run: () => Promise<RunSummary>, log: Logger): { tick(): Promise<void>; stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const summary = await run();
      if (summary.sent || summary.failed) log.info(summary, 'reminders run');
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'reminders run failed');
    } finally {
      running = false;
    }
  };
  const task = cron.schedule('* * * * *', () => void tick(), { name: 'reminders' });
  return {
    tick,
    stop() {
      void task.stop();
    },
  };
}
