// The `/dmm` command grammar, one for Slack, Teams and the console: text in, a typed command or a
// message saying what was wrong and the right form (with an example) out. Never throws.
import { z } from 'zod';
import { leverModes, leverOutcomes, type LeverMode, type LeverOutcome } from './levers.js';
import { flagKinds, type FlagKind } from './records.js';

export interface CommandHelp {
  name: string;
  usage: string;
  example: string;
  summary: string;
  chairsOnly?: boolean;
}

export const commandHelp: CommandHelp[] = [
  { name: 'agenda', usage: 'agenda [YYYY-MM-DD]', example: 'agenda', summary: "show today's agenda (or a working day's), only to you" },
  {
    name: 'action add',
    usage: 'action add <ref> @owner <due> <text…>',
    example: 'action add INC-2041 @jo friday Review the safety plan with the victim',
    summary: 'record an agreed action; <ref> is an incident reference or a person\'s label, <due> is YYYY-MM-DD, today, tomorrow, a weekday, +3d or panel',
  },
  { name: 'action list', usage: 'action list [mine|overdue|@user|<ref>]', example: 'action list overdue', summary: 'list open actions' },
  { name: 'action show', usage: 'action show <id>', example: 'action show A-12', summary: 'show one action and its history' },
  { name: 'action done', usage: 'action done <id> [note…]', example: 'action done A-12 Safety plan agreed', summary: 'close an action as done' },
  { name: 'action update', usage: 'action update <id> <note…>', example: 'action update A-12 Left a message, will try again Monday', summary: 'add a progress note' },
  { name: 'action reassign', usage: 'action reassign <id> @user', example: 'action reassign A-12 @sam', summary: 'give an action to another member' },
  { name: 'action due', usage: 'action due <id> <due>', example: 'action due A-12 +7d', summary: 'change the due date' },
  { name: 'action cancel', usage: 'action cancel <id> <reason…>', example: 'action cancel A-12 Duplicate of A-10', summary: 'cancel an action, with the reason' },
  { name: 'review', usage: 'review <incident-ref> <outcome…>', example: 'review INC-2041 MARAC referral', summary: 'record that an agenda item was discussed, and the outcome' },
  { name: 'flag', usage: `flag <perpetrator> <${flagKinds.join('|')}> [note…]`, example: 'flag N-7KQ2M-9XWDA chair Repeat breaches', summary: 'flag a perpetrator from today', chairsOnly: true },
  { name: 'unflag', usage: `unflag <perpetrator> <${flagKinds.join('|')}>`, example: 'unflag N-7KQ2M-9XWDA chair', summary: "end a perpetrator's flag", chairsOnly: true },
  { name: 'member add', usage: 'member add @user <agency> [chair]', example: 'member add @sam idva', summary: 'let someone use dmm-bot', chairsOnly: true },
  { name: 'member remove', usage: 'member remove @user', example: 'member remove @sam', summary: 'remove a member (a leaver)', chairsOnly: true },
  { name: 'member list', usage: 'member list', example: 'member list', summary: 'list the members and their agencies', chairsOnly: true },
  { name: 'panel add', usage: 'panel add <YYYY-MM-DD> <HH:MM> <monthly-review|marac|local-panel> [title…]', example: 'panel add 2026-03-10 10:00 monthly-review March review', summary: 'schedule a panel', chairsOnly: true },
  {
    name: 'panel add every',
    usage: 'panel add every <first|second|third|fourth|last>-<weekday> <HH:MM> <monthly-review|marac|local-panel> [title…]',
    example: 'panel add every first-tuesday 10:00 monthly-review',
    summary: 'schedule a monthly panel for the next 12 months',
    chairsOnly: true,
  },
  { name: 'panel list', usage: 'panel list', example: 'panel list', summary: 'list the panels to come' },
  { name: 'panel cancel', usage: 'panel cancel <id>', example: 'panel cancel P-4', summary: 'cancel a panel', chairsOnly: true },
  {
    name: 'lever',
    usage: 'lever <perpetrator|incident> tier <tier> mode <letter|in-person|call-in> outcome <delivered|refused|not-found> [script <version>] [incident <ref>]',
    example: 'lever N-7KQ2M-9XWDA tier C mode in-person outcome delivered',
    summary: "record a trial lever (scripted notification) given to a treated perpetrator; a delivered lever opens the victim's support contact",
  },
  { name: 'report', usage: 'report <trial>', example: 'report dv-rct', summary: "post the trial's headline effects, CONSORT counts and main chart to this channel (no individual is named)", chairsOnly: true },
  { name: 'remind snooze', usage: 'remind snooze <id> <days>', example: 'remind snooze A-12 3', summary: "pause an action's reminders for some days" },
  { name: 'help', usage: 'help [command]', example: 'help action add', summary: 'list the commands, or explain one' },
];

export const panelKinds = ['monthly-review', 'marac', 'local-panel'] as const;
export type PanelKindName = (typeof panelKinds)[number];
export const monthlyOrdinals = ['first', 'second', 'third', 'fourth', 'last'] as const;

export type DueSpec = string;
export type ListFilter = { kind: 'all' } | { kind: 'mine' } | { kind: 'overdue' } | { kind: 'user'; userId: string } | { kind: 'ref'; ref: string };

export type Command =
  | { name: 'agenda'; date?: string }
  | { name: 'help'; topic?: string }
  | { name: 'action add'; ref: string; ownerId: string; due: DueSpec; text: string }
  | { name: 'action list'; filter: ListFilter }
  | { name: 'action show'; id: number }
  | { name: 'action done'; id: number; note: string }
  | { name: 'action update'; id: number; note: string }
  | { name: 'action reassign'; id: number; ownerId: string }
  | { name: 'action due'; id: number; due: DueSpec }
  | { name: 'action cancel'; id: number; reason: string }
  | { name: 'review'; ref: string; outcome: string }
  | { name: 'flag'; ref: string; kind: FlagKind; note: string }
  | { name: 'unflag'; ref: string; kind: FlagKind }
  | { name: 'member add'; userId: string; agency: string; chair: boolean }
  | { name: 'member remove'; userId: string }
  | { name: 'member list' }
  | { name: 'panel add'; date: string; time: string; kind: PanelKindName; title: string }
  | { name: 'panel add every'; ordinal: (typeof monthlyOrdinals)[number]; weekday: (typeof weekdays)[number]; time: string; kind: PanelKindName; title: string }
  | { name: 'panel list' }
  | { name: 'panel cancel'; id: number }
  | { name: 'remind snooze'; id: number; days: number }
  | { name: 'report'; trial: string }
  | { name: 'lever'; ref: string; tier: string; mode: LeverMode; outcome: LeverOutcome; script?: string; incident?: string };

export type ParsedCommand = { ok: true; command: Command } | { ok: false; message: string };

export const maxCommandLength = 4_000;
export const maxTextLength = 1_000;
export const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** A mention as platforms write it (`<@U123>`, `<@U123|jo>`) or as typed on the console (`@U123`). */
const mentionPattern = /^<@([A-Za-z0-9_.:-]{1,120})(?:\|[^>]*)?>$|^@([A-Za-z0-9_.:-]{1,120})$/;
const refPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const duePattern = new RegExp(`^(\\d{4}-\\d{2}-\\d{2}|today|tomorrow|panel|\\+\\d{1,3}d|${weekdays.join('|')})$`, 'i');

const mention = z.string().transform((value, ctx) => {
  const match = mentionPattern.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not an @mention of a person` });
    return z.NEVER;
  }
  return match[1] ?? match[2]!;
});
const ref = z.string().regex(refPattern, 'a reference is letters, digits and . _ : / - (at most 64)');
const actionIdArg = z.string().transform((value, ctx) => {
  const match = /^(?:[Aa]-)?(\d{1,9})$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not an action id such as A-12` });
    return z.NEVER;
  }
  return Number(match[1]);
});
const due = z
  .string()
  .regex(duePattern, 'the due date must be YYYY-MM-DD, today, tomorrow, a weekday name, +3d or panel')
  .transform((v) => v.toLowerCase());
const freeText = (what: string, required: boolean) =>
  z
    .string()
    .trim()
    .max(maxTextLength, `the ${what} is longer than ${maxTextLength} characters`)
    .refine((v) => !required || v.length > 0, `the ${what} is missing`)
    .refine((v) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v), `the ${what} contains control characters`);
const flagKind = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(flagKinds, { error: `the flag kind must be one of ${flagKinds.join(', ')}` }));
const agency = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,39}$/i, 'the agency is one word such as police, idva, probation or childrens-social-care')
  .transform((v) => v.toLowerCase());

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'the time must be HH:MM, such as 10:00');
const panelKind = z
  .string()
  .transform((v) => v.toLowerCase().replace(/_/g, '-'))
  .pipe(z.enum(panelKinds, { error: `the panel kind must be one of ${panelKinds.join(', ')}` }));
const monthlyPattern = z.string().transform((value, ctx) => {
  const match = new RegExp(`^(${monthlyOrdinals.join('|')})-(${weekdays.join('|')})$`, 'i').exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not a monthly pattern such as first-tuesday or last-friday` });
    return z.NEVER;
  }
  return { ordinal: match[1]!.toLowerCase() as (typeof monthlyOrdinals)[number], weekday: match[2]!.toLowerCase() as (typeof weekdays)[number] };
});
const panelIdArg = z.string().transform((value, ctx) => {
  const match = /^(?:[Pp]-)?(\d{1,9})$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not a panel id such as P-4` });
    return z.NEVER;
  }
  return Number(match[1]);
});

/** `tier C mode in-person outcome delivered …`: named values in any order, each once. */
const leverDetails = z.string().transform((value, ctx) => {
  const words = value.trim().split(/\s+/).filter(Boolean);
  const known: Record<string, z.ZodType<unknown, string>> = {
    tier: z.string().regex(/^[A-Za-z]$/, 'the tier is one letter, such as C').transform((v) => v.toUpperCase()),
    mode: z.string().transform((v) => v.toLowerCase().replace(/_/g, '-')).pipe(z.enum(leverModes, { error: `the mode must be one of ${leverModes.join(', ')}` })),
    outcome: z.string().transform((v) => v.toLowerCase().replace(/_/g, '-')).pipe(z.enum(leverOutcomes, { error: `the outcome must be one of ${leverOutcomes.join(', ')}` })),
    script: z.string().regex(/^[0-9a-f]{6,64}$/i, 'the script version is the hex hash shown by dmm trial scripts').transform((v) => v.toLowerCase()),
    incident: ref,
  };
  const found: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i]!.toLowerCase();
    const schema = Object.hasOwn(known, key) ? known[key] : undefined;
    if (!schema) {
      ctx.addIssue({ code: 'custom', message: `"${words[i]!.slice(0, 40)}" is not one of tier, mode, outcome, script, incident` });
      return z.NEVER;
    }
    if (key in found) {
      ctx.addIssue({ code: 'custom', message: `${key} is given twice` });
      return z.NEVER;
    }
    if (words[i + 1] === undefined) {
      ctx.addIssue({ code: 'custom', message: `${key} needs a value` });
      return z.NEVER;
    }
    const result = schema.safeParse(words[i + 1]);
    if (!result.success) {
      ctx.addIssue({ code: 'custom', message: result.error.issues[0]?.message ?? `the ${key} is not understood` });
      return z.NEVER;
    }
    found[key] = result.data;
  }
  for (const required of ['tier', 'mode', 'outcome']) {
    if (!(required in found)) {
      ctx.addIssue({ code: 'custom', message: `the ${required} is missing` });
      return z.NEVER;
    }
  }
  return found as { tier: string; mode: LeverMode; outcome: LeverOutcome; script?: string; incident?: string };
});

interface Rule {
  /** Named positional words, then optionally the rest of the line as text. */
  words: Array<[string, z.ZodType<unknown, string>]>;
  optionalWords?: Array<[string, z.ZodType<unknown, string>]>;
  rest?: [string, z.ZodType<unknown, string>];
  build(values: Record<string, unknown>): Command;
}

const rules: Record<string, Rule> = {
  agenda: {
    words: [],
    optionalWords: [['date', z.iso.date({ error: 'the date must be YYYY-MM-DD' })]],
    build: (v) => ({ name: 'agenda', ...(v.date ? { date: v.date as string } : {}) }),
  },
  help: { words: [], rest: ['topic', z.string().trim()], build: (v) => ({ name: 'help', ...(v.topic ? { topic: (v.topic as string).toLowerCase() } : {}) }) },
  'action add': {
    words: [
      ['ref', ref],
      ['ownerId', mention],
      ['due', due],
    ],
    rest: ['text', freeText('action text', true)],
    build: (v) => ({ name: 'action add', ref: v.ref as string, ownerId: v.ownerId as string, due: v.due as string, text: v.text as string }),
  },
  'action list': {
    words: [],
    optionalWords: [['filter', z.string()]],
    build: (v) => ({ name: 'action list', filter: listFilter(v.filter as string | undefined) }),
  },
  'action show': { words: [['id', actionIdArg]], build: (v) => ({ name: 'action show', id: v.id as number }) },
  'action done': { words: [['id', actionIdArg]], rest: ['note', freeText('note', false)], build: (v) => ({ name: 'action done', id: v.id as number, note: v.note as string }) },
  'action update': { words: [['id', actionIdArg]], rest: ['note', freeText('note', true)], build: (v) => ({ name: 'action update', id: v.id as number, note: v.note as string }) },
  'action reassign': {
    words: [
      ['id', actionIdArg],
      ['ownerId', mention],
    ],
    build: (v) => ({ name: 'action reassign', id: v.id as number, ownerId: v.ownerId as string }),
  },
  'action due': {
    words: [
      ['id', actionIdArg],
      ['due', due],
    ],
    build: (v) => ({ name: 'action due', id: v.id as number, due: v.due as string }),
  },
  'action cancel': { words: [['id', actionIdArg]], rest: ['reason', freeText('reason', true)], build: (v) => ({ name: 'action cancel', id: v.id as number, reason: v.reason as string }) },
  review: { words: [['ref', ref]], rest: ['outcome', freeText('outcome', true)], build: (v) => ({ name: 'review', ref: v.ref as string, outcome: v.outcome as string }) },
  flag: {
    words: [
      ['ref', ref],
      ['kind', flagKind],
    ],
    rest: ['note', freeText('note', false)],
    build: (v) => ({ name: 'flag', ref: v.ref as string, kind: v.kind as FlagKind, note: v.note as string }),
  },
  unflag: {
    words: [
      ['ref', ref],
      ['kind', flagKind],
    ],
    build: (v) => ({ name: 'unflag', ref: v.ref as string, kind: v.kind as FlagKind }),
  },
  'member add': {
    words: [
      ['userId', mention],
      ['agency', agency],
    ],
    optionalWords: [['role', z.string().regex(/^chair$/i, 'the last word may only be "chair"')]],
    build: (v) => ({ name: 'member add', userId: v.userId as string, agency: v.agency as string, chair: v.role !== undefined }),
  },
  'member remove': { words: [['userId', mention]], build: (v) => ({ name: 'member remove', userId: v.userId as string }) },
  'member list': { words: [], build: () => ({ name: 'member list' }) },
  'panel add': {
    words: [
      ['date', z.iso.date({ error: 'the date must be YYYY-MM-DD' })],
      ['time', clockTime],
      ['kind', panelKind],
    ],
    rest: ['title', freeText('title', false)],
    build: (v) => ({ name: 'panel add', date: v.date as string, time: v.time as string, kind: v.kind as PanelKindName, title: v.title as string }),
  },
  'panel add every': {
    words: [
      ['pattern', monthlyPattern],
      ['time', clockTime],
      ['kind', panelKind],
    ],
    rest: ['title', freeText('title', false)],
    build: (v) => {
      const pattern = v.pattern as { ordinal: (typeof monthlyOrdinals)[number]; weekday: (typeof weekdays)[number] };
      return { name: 'panel add every', ...pattern, time: v.time as string, kind: v.kind as PanelKindName, title: v.title as string };
    },
  },
  'panel list': { words: [], build: () => ({ name: 'panel list' }) },
  'remind snooze': {
    words: [
      ['id', actionIdArg],
      ['days', z.string().regex(/^([1-9]|[1-2]\d|30)$/, 'the days must be a whole number from 1 to 30').transform(Number)],
    ],
    build: (v) => ({ name: 'remind snooze', id: v.id as number, days: v.days as number }),
  },
  'panel cancel': { words: [['id', panelIdArg]], build: (v) => ({ name: 'panel cancel', id: v.id as number }) },
  report: {
    words: [['trial', z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/i, 'a trial name is letters, digits, - or _')]],
    build: (v) => ({ name: 'report', trial: v.trial as string }),
  },
  lever: {
    words: [['ref', ref]],
    rest: ['details', leverDetails],
    build: (v) => ({ name: 'lever', ref: v.ref as string, ...(v.details as { tier: string; mode: LeverMode; outcome: LeverOutcome; script?: string; incident?: string }) }),
  },
};

function listFilter(word: string | undefined): ListFilter {
  if (!word) return { kind: 'all' };
  const lower = word.toLowerCase();
  if (lower === 'mine') return { kind: 'mine' };
  if (lower === 'overdue') return { kind: 'overdue' };
  const m = mentionPattern.exec(word);
  if (m) return { kind: 'user', userId: m[1] ?? m[2]! };
  return { kind: 'ref', ref: word };
}

export function usageOf(name: string): string {
  const help = commandHelp.find((h) => h.name === name);
  return help ? `Usage: /dmm ${help.usage}  (for example: /dmm ${help.example})` : '';
}

export function parseCommand(text: string): ParsedCommand {
  if (text.length > maxCommandLength) {
    // Name the command and its own text limit, so a shortened retry is not refused again.
    const [w1, w2, w3] = text.slice(0, 200).trim().split(/\s+/).map((w) => w.toLowerCase());
    const named = [`${w1} ${w2} ${w3}`, `${w1} ${w2}`, `${w1}`].find((k) => Object.hasOwn(rules, k));
    const rest = named ? rules[named]!.rest : undefined;
    const textLimit = rest && named !== 'help' ? ` (and ${maxTextLength} for its ${rest[0]})` : '';
    return { ok: false, message: `That command is ${text.length} characters long; the limit is ${maxCommandLength}${textLimit}.${named ? ` ${usageOf(named)}` : ''}` };
  }
  const tokens = [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0], end: (m.index ?? 0) + m[0].length }));
  if (tokens.length === 0) return { ok: true, command: { name: 'help' } };
  const [first, second, third] = tokens.slice(0, 3).map((t) => t.word.toLowerCase());
  // Own properties only: "constructor" or "__proto__" must be unknown commands, not Object's members.
  const ruleOf = (key: string): Rule | undefined => (Object.hasOwn(rules, key) ? rules[key] : undefined);
  const name = [`${first} ${second} ${third}`, `${first} ${second}`, first!].find((candidate) => ruleOf(candidate)) ?? first!;
  const rule = ruleOf(name);
  if (!rule) {
    if (first === 'action' || first === 'member' || first === 'panel' || first === 'remind') {
      const subs = [...new Set(Object.keys(rules).filter((k) => k.startsWith(`${first} `)).map((k) => k.split(' ')[1]))];
      return {
        ok: false,
        message: `"${first} ${(tokens[1]?.word ?? '').slice(0, 40)}" is not a command. Try one of: ${subs.map((s) => `/dmm ${first} ${s}`).join(', ')}. ${usageOf(`${first} ${subs[0]}`)}`,
      };
    }
    return { ok: false, message: `Unknown command "${tokens[0]!.word.slice(0, 40)}". Try /dmm help for the list.` };
  }
  let at = name.split(' ').length;
  const values: Record<string, unknown> = {};
  const fail = (problem: string): ParsedCommand => ({ ok: false, message: `${capitalise(problem)}. ${usageOf(name)}` });
  if (!rule.rest && tokens.length - at > rule.words.length + (rule.optionalWords?.length ?? 0)) {
    return fail(`there are too many words after "${name}"`);
  }
  for (const [key, schema] of rule.words) {
    const token = tokens[at++];
    if (!token) return fail(`the ${describeArgument(key)} is missing`);
    const result = schema.safeParse(token.word);
    if (!result.success) return fail(result.error.issues[0]?.message ?? `the ${key} is not understood`);
    values[key] = result.data;
  }
  for (const [key, schema] of rule.optionalWords ?? []) {
    const token = tokens[at];
    if (!token) break;
    const result = schema.safeParse(token.word);
    if (!result.success) return fail(result.error.issues[0]?.message ?? `the ${key} is not understood`);
    values[key] = result.data;
    at++;
  }
  if (rule.rest) {
    const restText = at < tokens.length ? text.slice(tokens[at - 1]!.end) : '';
    const result = rule.rest[1].safeParse(restText);
    if (!result.success) return fail(result.error.issues[0]?.message ?? `the ${rule.rest[0]} is not understood`);
    values[rule.rest[0]] = result.data;
  }
  return { ok: true, command: rule.build(values) };
}

function describeArgument(key: string): string {
  return (
    ({ ref: 'reference', ownerId: '@owner', userId: '@user', due: 'due date', id: 'id', kind: 'kind', agency: 'agency', pattern: 'monthly pattern', date: 'date', time: 'time' }) as Record<string, string>
  )[key] ?? key;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function helpText(topic?: string): string {
  if (topic) {
    const matches = commandHelp.filter((h) => h.name === topic || h.name.startsWith(`${topic} `));
    if (matches.length === 0) return `There is no command "${topic.slice(0, 40)}". Try /dmm help for the list.`;
    return matches.map((h) => `/dmm ${h.usage}: ${h.summary}${h.chairsOnly ? ' (chairs only)' : ''}.\nFor example: /dmm ${h.example}`).join('\n\n');
  }
  return ['dmm-bot commands:', ...commandHelp.map((h) => `/dmm ${h.usage}: ${h.summary}${h.chairsOnly ? ' (chairs only)' : ''}`)].join('\n');
}

/** A lever from a form's or the CLI's fields, checked by the same grammar as a typed `/dmm lever`. */
export function leverCommandFrom(fields: { subject: string; tier: string; mode: string; outcome: string; incident?: string | undefined; script?: string | undefined }):
  | { ok: true; command: Extract<Command, { name: 'lever' }> }
  | { ok: false; message: string } {
  const words = ['lever', fields.subject, 'tier', fields.tier, 'mode', fields.mode, 'outcome', fields.outcome];
  if (fields.incident?.trim()) words.push('incident', fields.incident.trim());
  if (fields.script?.trim()) words.push('script', fields.script.trim());
  if (words.some((w) => w.trim() === '' || /\s/.test(w.trim()))) return { ok: false, message: 'Every field needs one word: the tier, how it was given and the outcome.' };
  const parsed = parseCommand(words.join(' '));
  if (!parsed.ok) return { ok: false, message: parsed.message.replace(/ Usage: .*$/s, '') };
  return parsed.command.name === 'lever' ? { ok: true, command: parsed.command } : { ok: false, message: 'That is not a lever.' };
}
