import { requestErrors } from './policy-validation.js';

describe('requestErrors', () => {
  const item = { path: 'roles.3', what: 'role' };

  it("turns the edited item's document paths into the request's fields", () => {
    expect(
      requestErrors(
        [
          { field: 'roles.3.inherits.0', message: 'unknown role "x"' },
          { field: 'roles.3', message: 'must be an object' },
          { field: 'roles.30.id', message: 'elsewhere' },
        ],
        item,
      ),
    ).toEqual([
      { field: 'inherits.0', message: 'unknown role "x"' },
      { field: '(root)', message: 'must be an object' },
      { field: 'policy.roles.30.id', message: 'elsewhere' },
    ]);
  });

  it("puts a cycle found at another role on the request's inherits", () => {
    expect(
      requestErrors([{ field: 'roles.1.inherits', message: 'inheritance cycle: b → a → b' }], item),
    ).toEqual([{ field: 'inherits', message: 'inheritance cycle: b → a → b' }]);
  });
});
