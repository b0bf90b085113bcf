import { ContractValidationError, type FieldError } from '@tenantry/contracts';
import { compile, type PolicyDocument } from '@tenantry/policy-engine';

/** Where the item a request changes sits in the document (`roles.3`), and what it is. */
export interface EditedItem {
  path: string;
  /** `role`, `role binding`, …: named in the error message. */
  what: string;
}

/**
 * The engine's errors about a document, as errors about the request that changed it: a field
 * of the edited item (`roles.3.inherits.0`) becomes the request's field (`inherits.0`); an
 * inheritance cycle found at another role is about the request's `inherits`; anything else
 * keeps its document path under `policy.`.
 */
export function requestErrors(errors: readonly FieldError[], item: EditedItem): FieldError[] {
  const prefix = `${item.path}.`;
  return errors.map(({ field, message }) => {
    if (field === item.path) return { field: '(root)', message };
    if (field.startsWith(prefix)) return { field: field.slice(prefix.length), message };
    if (message.startsWith('inheritance cycle')) return { field: 'inherits', message };
    return { field: `policy.${field}`, message };
  });
}

/**
 * Compiles the changed document as every holder will: a ContractValidationError (400) naming
 * the request's fields when the engine refuses it.
 */
export function validateDocument(document: PolicyDocument, item: EditedItem): void {
  try {
    compile(document);
  } catch (error) {
    if (!(error instanceof ContractValidationError)) throw error;
    const errors = requestErrors(error.errors ?? [], item);
    throw new ContractValidationError(errors, item.what, error.errorCount ?? errors.length);
  }
}
