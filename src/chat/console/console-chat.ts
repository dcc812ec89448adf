// The local console channel, used when no chat platform is configured: agendas and replies print as
// readable text, and `/dmm …` lines typed on standard input are handled as Slack's would be.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Agenda } from '../../domain/agenda.js';
import { actionLine, renderAgendaText } from '../../domain/agenda-text.js';
import type { ChatPlatform, DirectDelivery, OutgoingMessage, Recipient, ReminderView, Reply } from '../../ports.js';

export class ConsoleChat implements ChatPlatform {
  readonly name = 'console' as const;
  private posted = 0;

  constructor(private readonly output: Writable) {}

  agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
    const text = renderAgendaText(agenda, options);
    return [{ summary: text.split('\n')[0] ?? '', payload: text }];
  }

  async post(channel: string, message: OutgoingMessage, threadRef?: string): Promise<string> {
    const ref = `console-${++this.posted}`;
    const text = String(message.payload);
    const banner = threadRef ? `── #${channel}, in thread ${threadRef} ──` : `── #${channel} ──`;
    this.output.write(`\n${banner}\n${text}\n`);
    return ref;
  }

  reminderMessage(reminder: ReminderView): OutgoingMessage {
    const lines = [reminder.heading, ...reminder.actions.map((a) => `  - ${actionLine(a)}`)];
    return { summary: reminder.heading, payload: lines.join('\n') };
  }

  async sendDirect(recipient: Recipient, message: OutgoingMessage): Promise<DirectDelivery> {
    const ref = `console-${++this.posted}`;
    this.output.write(`\n── direct message to ${recipient.name || `member ${recipient.memberId}`} ──\n${String(message.payload)}\n`);
    return { ref, via: 'direct' };
  }

  renderReply(reply: Reply): string {
    const parts: string[] = [];
    if (reply.agenda) parts.push(renderAgendaText(reply.agenda));
    if (reply.text) parts.push(reply.visibility === 'meeting' ? `[to the meeting${reply.threadRef ? `, in thread ${reply.threadRef}` : ''}] ${reply.text}` : reply.text);
    for (const action of reply.actions ?? []) parts.push(`  - ${actionLine(action)}${action.status === 'open' ? '' : ` [${action.status}]`}`);
    if (reply.image) parts.push(`  [chart: ${reply.image.title}, ${reply.image.png.length} bytes of PNG; the console cannot show it: see report.html]`);
    return parts.join('\n');
  }
}

/** Reads `/dmm …` lines; everything else gets a hint. Returns a function that stops reading. */
export function readConsoleCommands(input: Readable, output: Writable, handle: (text: string) => Promise<string>): () => void {
  const lines = createInterface({ input, terminal: false });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    // One command at a time, in the order typed, as a person on a call would expect.
    queue = queue.then(async () => {
      const match = /^\/dmm(?:\s+([\s\S]*))?$/i.exec(trimmed);
      let answer: string;
      try {
        answer = match ? await handle(match[1] ?? '') : 'Type a command such as /dmm agenda or /dmm help.';
      } catch {
        // The bot keeps running; the log has the detail.
        answer = 'Sorry, that did not work. Nothing was changed; please try again.';
      }
      output.write(`${answer}\n`);
    });
  });
  return () => lines.close();
}
