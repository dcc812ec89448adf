// Checks the `/dmm` command grammar: what parses, what each mistake says, and that no input makes it throw.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { commandHelp, helpText, parseCommand, usageOf, type ParsedCommand } from '../../src/domain/commands.js';

function failure(result: ParsedCommand): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.command)}`);
  return result.message;
}

describe('parseCommand', () => {
  it('treats an empty or blank command as help', () => {
    expect(parseCommand('')).toEqual({ ok: true, command: { name: 'help' } });
    expect(parseCommand('   \t\n ')).toEqual({ ok: true, command: { name: 'help' } });
  });

  it('parses agenda with no date, with no date key at all', () => {
    const result = parseCommand('agenda');
    expect(result).toEqual({ ok: true, command: { name: 'agenda' } });
    expect(result.ok && 'date' in result.command).toBe(false);
  });

  it('parses agenda with a date', () => {
    expect(parseCommand('agenda 2026-03-02')).toEqual({ ok: true, command: { name: 'agenda', date: '2026-03-02' } });
    expect(parseCommand('  agenda\t 2024-02-29  ')).toEqual({ ok: true, command: { name: 'agenda', date: '2024-02-29' } });
  });

  it('reads the command name case-insensitively', () => {
    expect(parseCommand('AGENDA')).toEqual({ ok: true, command: { name: 'agenda' } });
    expect(parseCommand('Agenda 2026-03-02')).toEqual({ ok: true, command: { name: 'agenda', date: '2026-03-02' } });
    expect(parseCommand('HELP')).toEqual({ ok: true, command: { name: 'help' } });
  });

  it('parses help with a topic, lower-cased', () => {
    expect(parseCommand('help agenda')).toEqual({ ok: true, command: { name: 'help', topic: 'agenda' } });
    expect(parseCommand('help AGENDA')).toEqual({ ok: true, command: { name: 'help', topic: 'agenda' } });
  });

  it('rejects a date that does not exist, naming the form and showing the usage with an example', () => {
    const message = failure(parseCommand('agenda 2026-02-30'));
    expect(message).toContain('YYYY-MM-DD');
    expect(message).toContain('Usage: /dmm agenda [YYYY-MM-DD]');
    expect(message).toContain('for example: /dmm agenda');
    expect(message).toContain(usageOf('agenda'));
  });

  it.each(['2026-2-3', '02/03/2026', 'tomorrow', '2026-13-01', '2025-02-29'])('rejects the date %j', (date) => {
    const message = failure(parseCommand(`agenda ${date}`));
    expect(message).toContain('YYYY-MM-DD');
    expect(message).toContain(usageOf('agenda'));
  });

  it('rejects too many words after a command, with its usage', () => {
    const message = failure(parseCommand('agenda 2026-03-02 extra'));
    expect(message).toMatch(/too many words after "agenda"/i);
    expect(message).toContain(usageOf('agenda'));
    expect(failure(parseCommand('agenda 2026-03-02 2026-03-03'))).toMatch(/too many words/i);
  });

  it('rejects "agenda a b" as too many words, showing the usage', () => {
    const message = failure(parseCommand('agenda a b'));
    expect(message).toMatch(/too many words after "agenda"/i);
    expect(message).toContain(usageOf('agenda'));
  });

  it('rejects an unknown command and points to /dmm help', () => {
    const message = failure(parseCommand('frobnicate'));
    expect(message).toContain('Unknown command "frobnicate"');
    expect(message).toContain('/dmm help');
  });

  it('quotes at most 40 characters of an unknown command', () => {
    const word = 'z'.repeat(500);
    const message = failure(parseCommand(word));
    expect(message).toContain(`"${'z'.repeat(40)}"`);
    expect(message).not.toContain('z'.repeat(41));
  });

  it('rejects a 10,000-character command without throwing', () => {
    const text = `agenda ${'x'.repeat(9_993)}`;
    expect(text).toHaveLength(10_000);
    let result: ParsedCommand | undefined;
    expect(() => {
      result = parseCommand(text);
    }).not.toThrow();
    const message = failure(result!);
    expect(message).toContain('10000 characters');
    expect(message.length).toBeLessThan(200);
  });

  // Object.prototype's own lower-case names pass an `in` check against a plain object.
  it.each(['constructor', '__proto__', 'Constructor', 'constructor agenda'])(
    'answers %j as an unknown command rather than throwing',
    (text) => {
      let result: ParsedCommand | undefined;
      expect(() => {
        result = parseCommand(text);
      }).not.toThrow();
      expect(failure(result!)).toContain('Unknown command');
    },
  );

  it('never throws on arbitrary strings and always returns a command or a non-empty message', () => {
    const check = (text: string) => {
      const result = parseCommand(text);
      if (result.ok) expect(['agenda', 'help']).toContain(result.command.name);
      else expect(result.message.trim().length).toBeGreaterThan(0);
    };
    fc.assert(fc.property(fc.string(), check), { numRuns: 500 });
    // fast-check 4 dropped fullUnicodeString; `unit: 'binary'` draws from every code point.
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), check), { numRuns: 300 });
    // Sentences built from real command words, odd spacing and near-misses.
    const word = fc.oneof(
      fc.constantFrom('agenda', 'AGENDA', 'help', 'Help', '2026-03-02', '2026-02-30', 'constructor', '__proto__', 'toString', 'hasOwnProperty'),
      fc.string({ maxLength: 12 }),
    );
    const gap = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000');
    fc.assert(
      fc.property(fc.array(fc.tuple(word, gap), { maxLength: 5 }), (parts) => check(parts.map(([w, g]) => w + g).join(''))),
      { numRuns: 500 },
    );
  });

  it('accepts every real calendar date as YYYY-MM-DD', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const day = d.toISOString().slice(0, 10);
        expect(parseCommand(`agenda ${day}`)).toEqual({ ok: true, command: { name: 'agenda', date: day } });
      }),
      { numRuns: 300 },
    );
  });
});

describe('helpText', () => {
  it('lists every command with its usage and summary', () => {
    const text = helpText();
    expect(commandHelp.length).toBeGreaterThanOrEqual(2);
    for (const help of commandHelp) {
      expect(text).toContain(`/dmm ${help.usage}: ${help.summary}`);
    }
    expect(text.split('\n')).toHaveLength(commandHelp.length + 1);
  });

  it('explains one command with its usage and an example', () => {
    const text = helpText('agenda');
    expect(text).toContain('/dmm agenda [YYYY-MM-DD]');
    expect(text).toContain('For example: /dmm agenda');
    expect(text).not.toContain('/dmm help [command]');
  });

  it('says when there is no such command', () => {
    const text = helpText('nope');
    expect(text).toContain('There is no command "nope"');
    expect(text).toContain('/dmm help');
  });

  it('answers a help topic that names an Object.prototype property as no such command', () => {
    expect(helpText('constructor')).toContain('There is no command "constructor"');
  });
});
