import { Gate, PasswordHasher } from './password.hasher.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Gate (argon2 computations at once)', () => {
  it('runs at most its size at once, the others in arrival order, and goes on after a failure', async () => {
    const gate = new Gate(2);
    const tasks = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = tasks.map((t, i) =>
      gate
        .run(() => {
          started.push(i);
          return t.promise;
        })
        .catch((error: Error) => error.message),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(gate.queued).toBe(3);
    tasks[1]!.reject(new Error('boom'));
    await results[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    tasks[0]!.resolve();
    tasks[2]!.resolve();
    await Promise.all([results[0], results[2]]);
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    tasks[3]!.resolve();
    tasks[4]!.resolve();
    expect(await Promise.all(results)).toEqual([
      undefined,
      'boom',
      undefined,
      undefined,
      undefined,
    ]);
    expect(gate.queued).toBe(0);
  });
});

describe('PasswordHasher', () => {
  it('verifies what it hashed, and nothing else, through the gate', async () => {
    const hasher = new PasswordHasher();
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const answers = await Promise.all([
      hasher.verify(stored, 'correct horse battery staple'),
      hasher.verify(stored, 'wrong'),
      hasher.verify('not a hash', 'x'),
      hasher.verifyNothing('correct horse battery staple'),
    ]);
    expect(answers).toEqual([true, false, false, false]);
  });
});
