// The `/dmm` command grammar, one for Slack, Teams and the console: text in, a typed command or a
// message saying what was wrong and the right form out. Never throws.
import { z } from 'zod';

export interface CommandHelp {
  name: string;
  usage: string;
  example: string;
  summary: string;
}

export const commandHelp: CommandHelp[] = [
  { name: 'agenda', usage: 'agenda [YYYY-MM-DD]', example: 'agenda', summary: "show today's agenda (or a working day's), only to you" },
  { name: 'help', usage: 'help [command]', example: 'help agenda', summary: 'list the commands, or explain one' },
];

export type Command = { name: 'agenda'; date?: string } | { name: 'help'; topic?: string };

export type ParsedCommand = { ok: true; command: Command } | { ok: false; message: string };

const maxCommandLength = 4_000;

const argumentSchemas = {
  agenda: z.tuple([z.iso.date({ error: 'the date must be YYYY-MM-DD' }).optional()]).transform(([date]) => ({ name: 'agenda' as const, ...(date ? { date } : {}) })),
  help: z.tuple([z.string().optional()]).transform(([topic]) => ({ name: 'help' as const, ...(topic ? { topic: topic.toLowerCase() } : {}) })),
} satisfies Record<Command['name'], z.ZodType<Command, unknown>>;

export function usageOf(name: string): string {
  const help = commandHelp.find((h) => h.name === name);
  return help ? `Usage: /dmm ${help.usage}  (for example: /dmm ${help.example})` : '';
}

export function parseCommand(text: string): ParsedCommand {
  if (text.length > maxCommandLength) return { ok: false, message: `That command is ${text.length} characters long; the limit is ${maxCommandLength}.` };
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (!first) return { ok: true, command: { name: 'help' } };
  const name = first.toLowerCase();
  if (!(name in argumentSchemas)) {
    return { ok: false, message: `Unknown command "${first.slice(0, 40)}". Try /dmm help for the list.` };
  }
  const schema = argumentSchemas[name as Command['name']];
  const maxArgs = schema.def.in.def.items.length;
  if (rest.length > maxArgs) return { ok: false, message: `Too many words after "${name}". ${usageOf(name)}` };
  const result = schema.safeParse(rest);
  if (!result.success) return { ok: false, message: `${result.error.issues[0]?.message ?? 'Not understood'}. ${usageOf(name)}` };
  return { ok: true, command: result.data };
}

export function helpText(topic?: string): string {
  if (topic) {
    const help = commandHelp.find((h) => h.name === topic);
    if (!help) return `There is no command "${topic.slice(0, 40)}". Try /dmm help for the list.`;
    return `/dmm ${help.usage}: ${help.summary}.\nFor example: /dmm ${help.example}`;
  }
  return ['dmm-bot commands:', ...commandHelp.map((h) => `/dmm ${h.usage}: ${h.summary}`)].join('\n');
}
