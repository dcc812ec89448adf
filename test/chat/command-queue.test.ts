// The queue chat commands are worked through: how many run at once, when a new one would start at
// once (Teams then holds its HTTP answer for it), when it is too full to take more, and draining.
import { describe, expect, it } from 'vitest';
import { CommandQueue } from '../../src/chat/command-queue.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('CommandQueue', () => {
  it('is idle until its workers are all busy, and again once one is free and nobody waits', async () => {
    const queue = new CommandQueue(2, 3);
    const gates = [gate(), gate(), gate()];
    expect(queue.idle).toBe(true);
    const done = gates.map((g) => queue.add(() => g.opened));
    await Promise.resolve();
    expect(queue.idle).toBe(false);
    gates[0]!.open();
    await done[0];
    // The third started in the freed worker: still nobody waiting, but no worker free.
    expect(queue.idle).toBe(false);
    gates[1]!.open();
    await done[1];
    expect(queue.idle).toBe(true);
    gates[2]!.open();
    await Promise.all(done);
    expect(queue.idle).toBe(true);
  });

  it('is full once more than its limit wait, and runs every command it took', async () => {
    const queue = new CommandQueue(1, 2);
    const g = gate();
    const ran: number[] = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      queue.add(async () => {
        await g.opened;
        ran.push(i);
      }),
    );
    await Promise.resolve();
    // One runs, three wait: more than two.
    expect(queue.full).toBe(true);
    g.open();
    await Promise.all(tasks);
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(queue.full).toBe(false);
  });

  it('keeps going after a command that fails, and drain waits for what is queued', async () => {
    const queue = new CommandQueue(1);
    const ran: string[] = [];
    void queue.add(() => Promise.reject(new Error('a command that failed')));
    void queue.add(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ran.push('after');
    });
    await queue.drain(5_000);
    expect(ran).toEqual(['after']);
  });
});
