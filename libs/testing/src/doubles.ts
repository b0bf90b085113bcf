/**
 * Typed test doubles for unit tests. Imports nothing and opens nothing.
 *
 * ```ts
 * const repository = double(TenantRepository, { findById: async () => null });
 * const store = double<IdempotencyStore>('IdempotencyStore', { get: async () => null });
 * ```
 *
 * The implementation is checked against the real type: a misspelled or renamed
 * member, or one with the wrong signature, is a compile error. Members the test does
 * not implement throw when the code under test uses them, naming the member
 * ("TenantRepository.list was used, but the test double does not implement it"),
 * instead of failing later on an `undefined`.
 */

/** Anything whose `prototype` is typed as T: a class, also one with a private or protected constructor. */
export interface DoubledType<T> {
  readonly name: string;
  readonly prototype: T;
}

/**
 * Keys that libraries read only to find out what a value is (a thenable for `await`,
 * jest's matchers and printer, JSON). Reading them from a double says "not that";
 * they never throw.
 */
const PROBES = new Set([
  'then',
  'toJSON',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
  'nodeName',
  'tagName',
  'isEqualNode',
]);

/** A double of a class's instances; the class gives the type and the name in error messages. */
export function double<T extends object>(type: DoubledType<T>, impl?: Partial<NoInfer<T>>): T;
/** A double of an interface or type: `double<Port>('Port', { ... })`. */
export function double<T extends object>(name: string, impl?: Partial<NoInfer<T>>): T;
export function double<T extends object>(type: string | DoubledType<T>, impl: Partial<T> = {}): T {
  const name = typeof type === 'string' ? type : type.name;
  return new Proxy(impl as T, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || PROBES.has(key) || key.startsWith('@@'))
        return Reflect.get(target, key, receiver);
      throw new Error(
        `${name}.${key} was used, but the test double does not implement it: add it to the double's implementation`,
      );
    },
  });
}
