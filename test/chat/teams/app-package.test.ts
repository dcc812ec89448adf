// The Teams app package a Teams admin uploads: `dmm teams package --out FILE` as a user runs it, and the
// offline manifest check against Microsoft's published schema (v1.25, shipped in @microsoft/app-manifest).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestVersion, teamsAppPackage, teamsManifest, validateManifest } from '../../../src/chat/teams/app-package.js';
import { baseEnv, runDmm } from '../../support/dmm-process.js';

const clientId = '0b0b0b0b-0000-4000-8000-00000000a001';
const tenantId = '7e7e7e7e-0000-4000-8000-00000000a001';
const publicUrl = 'https://dmm.example.org';
const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian), after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number; colourType: number } {
  expect(bytes.subarray(0, 8).equals(pngSignature), 'PNG signature').toBe(true);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), colourType: bytes[25]! };
}

describe('dmm teams package', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-teams-package-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) =>
    baseEnv({
      DMM_DATA_DIR: path.join(dir, 'data'),
      TEAMS_CLIENT_ID: clientId,
      TEAMS_CLIENT_SECRET: 'test-client-secret',
      TEAMS_TENANT_ID: tenantId,
      DMM_PUBLIC_URL: publicUrl,
      ...extra,
    });

  it('writes a zip with manifest.json, a 192×192 colour icon and a 32×32 outline icon; the manifest validates', async () => {
    const out = path.join(dir, 'dmm-bot-teams.zip');
    const run = await runDmm(['teams', 'package', '--out', out], env(), 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Wrote ${out} (manifest v${manifestVersion}, validated against Microsoft's schema).`);

    const zip = await JSZip.loadAsync(await readFile(out));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as Record<string, unknown> & {
      id: string;
      icons: { color: string; outline: string };
      bots: Array<{ botId: string; scopes: string[]; commandLists: Array<{ commands: Array<{ title: string; description: string }> }> }>;
      validDomains: string[];
      developer: Record<string, string>;
    };
    expect(validateManifest(manifest)).toEqual({ ok: true });
    expect(manifest.manifestVersion).toBe(manifestVersion);
    expect(manifest.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${manifestVersion}/MicrosoftTeams.schema.json`);
    expect(manifest.id).toBe(clientId);
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0]!.botId).toBe(clientId);
    expect(manifest.bots[0]!.scopes).toEqual(expect.arrayContaining(['team', 'personal']));
    const commands = manifest.bots[0]!.commandLists.flatMap((l) => l.commands);
    expect(commands.map((c) => c.title)).toEqual(expect.arrayContaining(['agenda', 'action add', 'help']));
    for (const c of commands) {
      expect(c.title.length).toBeLessThanOrEqual(32);
      expect(c.description.length).toBeLessThanOrEqual(128);
    }
    expect(manifest.validDomains).toContain('dmm.example.org');
    expect(manifest.developer.websiteUrl).toMatch(/^https:\/\/dmm\.example\.org/);
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });

    const color = pngSize(await zip.file('color.png')!.async('nodebuffer'));
    const outline = pngSize(await zip.file('outline.png')!.async('nodebuffer'));
    expect([color.width, color.height]).toEqual([192, 192]);
    expect([outline.width, outline.height]).toEqual([32, 32]);
    // The outline icon must be transparent: a colour type with an alpha channel (4 or 6).
    expect([4, 6]).toContain(outline.colourType);
  }, 150_000);

  it('says what is missing without DMM_PUBLIC_URL, and writes nothing', async () => {
    const out = path.join(dir, 'missing-url.zip');
    const run = await runDmm(['teams', 'package', '--out', out], env({ DMM_PUBLIC_URL: '' }), 120_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/DMM_PUBLIC_URL must be set/);
    await expect(readFile(out)).rejects.toThrow();
  }, 150_000);
});

describe('validateManifest', () => {
  const settings = { botId: clientId, publicUrl, name: 'dmm-bot', version: '0.1.0' };

  it('accepts the manifest dmm-bot writes', async () => {
    expect(validateManifest(teamsManifest(settings))).toEqual({ ok: true });
    const pkg = await teamsAppPackage(settings);
    expect(pkg.validation).toEqual({ ok: true });
    expect(pkg.zip.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('refuses a manifest with an unknown top-level key', () => {
    const result = validateManifest({ ...teamsManifest(settings), notAManifestKey: true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/must NOT have additional properties/);
  });

  it('refuses a manifest whose bot id is not a GUID, or that lacks its icons', () => {
    expect(validateManifest({ ...teamsManifest(settings), id: 'not-a-guid' }).ok).toBe(false);
    const { icons: _icons, ...withoutIcons } = teamsManifest(settings);
    const result = validateManifest(withoutIcons);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/icons/);
  });
});
