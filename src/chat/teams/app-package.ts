// The Teams app package a Teams admin uploads: manifest.json (the bot, its scopes, the command menu
// and valid domains) and two icons, validated offline against Microsoft's published manifest schema.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import JSZip from 'jszip';
import { PNG } from 'pngjs';

export const manifestVersion = '1.25';

export interface PackageSettings {
  botId: string;
  publicUrl: string;
  name: string;
  version: string;
}

/** The commands offered in Teams' command menu; picking one inserts its text. */
const menu = [
  { title: 'agenda', description: "Show today's agenda" },
  { title: 'action add', description: 'Record an action: action add <ref> @owner <due> <text>' },
  { title: 'action list', description: 'List open actions: action list [mine|overdue|@user|<ref>]' },
  { title: 'action done', description: 'Close an action: action done <id> [note]' },
  { title: 'review', description: 'Record an agenda item as discussed: review <incident-ref> <outcome>' },
  { title: 'panel list', description: 'List the panels to come' },
  { title: 'help', description: 'List the commands' },
];

export function teamsManifest(settings: PackageSettings): Record<string, unknown> {
  const host = new URL(settings.publicUrl).host;
  return {
    $schema: `https://developer.microsoft.com/json-schemas/teams/v${manifestVersion}/MicrosoftTeams.schema.json`,
    manifestVersion,
    version: settings.version,
    id: settings.botId,
    developer: {
      name: settings.name,
      websiteUrl: settings.publicUrl,
      privacyUrl: new URL('/privacy', settings.publicUrl).toString(),
      termsOfUseUrl: new URL('/terms', settings.publicUrl).toString(),
    },
    name: { short: settings.name.slice(0, 30), full: `${settings.name}: Daily Management Meeting bot`.slice(0, 100) },
    description: {
      short: 'DMM agendas, agreed actions and reminders'.slice(0, 80),
      full: 'Posts the Daily Management Meeting agenda for multi-agency domestic-abuse meetings, records the actions agreed on the call, and reminds owners before panels. Chat shows pseudonymous labels only.',
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: '#1F4E79',
    bots: [
      {
        botId: settings.botId,
        scopes: ['team', 'personal'],
        supportsFiles: false,
        isNotificationOnly: false,
        commandLists: [
          { scopes: ['team', 'personal'], commands: menu },
        ],
      },
    ],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains: [...new Set([host, 'token.botframework.com'])],
  };
}

export type ValidationResult = { ok: true } | { ok: false; errors: string[] };

const require = createRequire(import.meta.url);
// Both packages are CommonJS with a default export; require gives the constructor and the function.
type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
type AjvInstance = { compile(schema: object): Validator };
const Ajv = (require('ajv-draft-04') as { default: new (options: object) => AjvInstance }).default;
const addFormats = (require('ajv-formats') as { default: (ajv: AjvInstance, formats: string[]) => void }).default;

export function validateManifest(manifest: unknown): ValidationResult {
  const schemaFile = path.join(path.dirname(require.resolve('@microsoft/app-manifest/package.json')), 'build', 'json-schemas', 'teams', `v${manifestVersion}`, 'MicrosoftTeams.schema.json');
  // Microsoft's schema carries a `\a` escape that JavaScript regular expressions reject.
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8').replace(/\\\\a/g, '\\\\x07')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strictTypes: false, strict: false });
  addFormats(ajv, ['uri', 'email', 'regex', 'uri-reference', 'date-time']);
  const validate = ajv.compile(schema);
  if (validate(manifest)) return { ok: true };
  return { ok: false, errors: (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath || '/'} ${e.message ?? 'is not valid'}`) };
}

/** A square icon: a filled rounded badge (colour) or a white outline on transparency (outline). */
function icon(size: number, outline: boolean): Buffer {
  const png = new PNG({ width: size, height: size });
  const centre = (size - 1) / 2;
  const radius = size * 0.45;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - centre, y - centre);
      const i = (y * size + x) * 4;
      const inside = outline ? d <= radius && d >= radius - Math.max(2, size / 12) : d <= radius;
      png.data[i] = outline ? 255 : 0x1f;
      png.data[i + 1] = outline ? 255 : 0x4e;
      png.data[i + 2] = outline ? 255 : 0x79;
      png.data[i + 3] = inside ? 255 : outline ? 0 : 255;
    }
  }
  return PNG.sync.write(png);
}

export async function teamsAppPackage(settings: PackageSettings): Promise<{ zip: Buffer; manifest: Record<string, unknown>; validation: ValidationResult }> {
  const manifest = teamsManifest(settings);
  const validation = validateManifest(manifest);
  const zip = new JSZip();
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  zip.file('color.png', icon(192, false));
  zip.file('outline.png', icon(32, true));
  return { zip: await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }), manifest, validation };
}
