// The records dmm-bot ingests from a force's records system: one zod schema per record type,
// shared by the CSV import, the HTTP API and the tests.
import { z } from 'zod';

export const riskLevels = ['standard', 'medium', 'high'] as const;
export const riskTools = ['dash', 'dara', 'other'] as const;
export const flagKinds = ['cohort', 'iom', 'matac', 'marac', 'bail', 'order', 'chair'] as const;
export type RiskLevel = (typeof riskLevels)[number];
export type RiskTool = (typeof riskTools)[number];
export type FlagKind = (typeof flagKinds)[number];

const maxReferenceLength = 64;
const maxLabelLength = 100;
const maxNoteLength = 500;

/** A CSV cell left empty means "not given", like a missing JSON field. */
const blankAsMissing = (value: unknown) => (value === '' || value === null ? undefined : value);

// Control characters would let a value forge lines in a log or break a rendered message.
const noControlCharacters = /^[^\u0000-\u001f\u007f]*$/;

const reference = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .min(1, { error: 'is required', abort: true })
  .max(maxReferenceLength, { error: `must be at most ${maxReferenceLength} characters`, abort: true })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'may hold only letters, digits and . _ : / -');

const shortText = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .min(1, { error: 'is required', abort: true })
  .max(maxLabelLength, { error: `must be at most ${maxLabelLength} characters`, abort: true })
  .regex(noControlCharacters, 'must not contain control characters');

// Years PostgreSQL stores and JavaScript writes in ISO 8601 alike: year 0000, or a year past 9999
// once an offset is applied, would pass the pattern and then be refused by the database.
const earliestInstant = new Date('0001-01-01T00:00:00Z').getTime();
const latestInstant = new Date('9999-12-31T23:59:59.999Z').getTime();

const instant = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .pipe(
    z.iso.datetime({
      offset: true,
      error: 'must be an ISO 8601 date and time with an offset or Z, such as 2026-03-02T08:15:00Z',
    }),
  )
  .transform((value) => new Date(value))
  .refine((date) => date.getTime() >= earliestInstant && date.getTime() <= latestInstant, 'must be between the years 0001 and 9999 in UTC');

const localDate = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .pipe(z.iso.date({ error: 'must be a date as YYYY-MM-DD' }))
  .refine((date) => !date.startsWith('0000'), 'must be between the years 0001 and 9999');

// Text first: a CSV cell always is, and a branch that fails costs zod an issue for each row.
const booleanValue = z.union(
  [z.enum(['true', 'false']).transform((value) => value === 'true'), z.boolean()],
  { error: (issue) => (issue.input === undefined ? 'is required' : 'must be true or false') },
);

function lowerCaseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
    z.enum(values, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${values.join('|')}`) }),
  );
}

export const incidentRecordSchema = z
  .strictObject(
    {
      source_ref: reference,
      reported_at: instant,
      occurred_at: z.preprocess(blankAsMissing, instant.optional()),
      risk_level: lowerCaseEnum(riskLevels),
      category: shortText,
      area: shortText,
      perpetrator_ref: reference,
      victim_ref: reference,
      children_present: booleanValue,
      source_system: z.preprocess(blankAsMissing, reference.default('rms')),
      risk_tool: z.preprocess(blankAsMissing, lowerCaseEnum(riskTools).optional()),
      prof_judgement: z.preprocess(blankAsMissing, booleanValue.default(false)),
      crime: z.preprocess(blankAsMissing, booleanValue.default(false)),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field` : 'must be an object with the incident fields') },
  )
  .refine((record) => record.perpetrator_ref !== record.victim_ref, {
    path: ['victim_ref'],
    message: 'must differ from perpetrator_ref',
  });

export type IncidentRecord = z.infer<typeof incidentRecordSchema>;

export const flagRecordSchema = z
  .strictObject(
    {
      perpetrator_ref: reference,
      kind: lowerCaseEnum(flagKinds),
      note: z.preprocess(
        (value) => (value === undefined || value === null ? '' : value),
        z
          .string({ error: 'must be text' })
          .trim()
          .max(maxNoteLength, `must be at most ${maxNoteLength} characters`)
          .regex(noControlCharacters, 'must not contain control characters'),
      ),
      starts_on: localDate,
      ends_on: z.preprocess(blankAsMissing, localDate.optional()),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field` : 'must be an object with the flag fields') },
  )
  .refine((record) => record.ends_on === undefined || record.ends_on >= record.starts_on, {
    path: ['ends_on'],
    message: 'must be on or after starts_on',
  });

export type FlagRecord = z.infer<typeof flagRecordSchema>;

/** A victim support service's contact: never shown in chat except as aggregates. */
export const contactRecordSchema = z.strictObject(
  {
    source_ref: reference,
    victim_ref: reference,
    contacted_at: instant,
    perceived_risk: z.preprocess(
      (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
      z
        .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a whole number from 0 to 10') })
        .int('must be a whole number from 0 to 10')
        .min(0, 'must be a whole number from 0 to 10')
        .max(10, 'must be a whole number from 0 to 10'),
    ),
    agency: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'must be one word such as idva'),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field` : 'must be an object with the contact fields') },
);

export type ContactRecord = z.infer<typeof contactRecordSchema>;

export type RecordType = 'incidents' | 'flags' | 'contacts';

export interface RecordKind<T> {
  name: RecordType;
  schema: z.ZodType<T>;
  requiredColumns: readonly string[];
  optionalColumns: readonly string[];
  /** What makes two records the same record (a second one in a batch updates the first). */
  keyOf(record: T): string;
}

export const incidentRecords: RecordKind<IncidentRecord> = {
  name: 'incidents',
  schema: incidentRecordSchema,
  requiredColumns: ['source_ref', 'reported_at', 'occurred_at', 'risk_level', 'category', 'area', 'perpetrator_ref', 'victim_ref', 'children_present'],
  optionalColumns: ['source_system', 'risk_tool', 'prof_judgement', 'crime'],
  keyOf: (record) => `${record.source_system}\u0000${record.source_ref}`,
};

export const flagRecords: RecordKind<FlagRecord> = {
  name: 'flags',
  schema: flagRecordSchema,
  requiredColumns: ['perpetrator_ref', 'kind', 'note', 'starts_on', 'ends_on'],
  optionalColumns: [],
  keyOf: (record) => `${record.perpetrator_ref}\u0000${record.kind}\u0000${record.starts_on}`,
};

export const contactRecords: RecordKind<ContactRecord> = {
  name: 'contacts',
  schema: contactRecordSchema,
  requiredColumns: ['source_ref', 'victim_ref', 'contacted_at', 'perceived_risk', 'agency'],
  optionalColumns: [],
  keyOf: (record) => `${record.agency}\u0000${record.source_ref}`,
};

export interface FieldProblem {
  field: string;
  reason: string;
}

/** Turns zod's issues into one line per field, in the user's words. */
export function describeProblems(error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: key, reason: 'unknown field' });
    } else {
      problems.push({ field: issue.path.map(String).join('.') || '(record)', reason: issue.message });
    }
  }
  return problems;
}

export function formatProblems(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field} ${p.reason}`).join('; ');
}
