import { ScimSchemas, scimTypeOf, type Problem, type ScimError } from '@tenantry/contracts';

/** What SCIM routes answer with, errors included. */
export const SCIM_JSON = 'application/scim+json; charset=utf-8';

/**
 * A problem (as `toProblem` makes every error into one) as a SCIM error (RFC 7644 §3.12):
 * the same status, as a string; `scimType` from the reason (SCIM_INVALID_FILTER is
 * invalidFilter, ...), else for a 400 invalidValue when fields are named and invalidSyntax
 * when not (a body that is not JSON); `detail` the problem's detail.
 */
export function scimErrorOf(problem: Problem): ScimError {
  const scimType =
    scimTypeOf(problem.reason) ??
    (problem.status === 400
      ? problem.errors?.length
        ? 'invalidValue'
        : 'invalidSyntax'
      : undefined);
  return {
    schemas: [ScimSchemas.error],
    status: String(problem.status),
    ...(scimType ? { scimType } : {}),
    detail: problem.detail,
  };
}

/** Whether a request is for the SCIM routes, whose errors ProblemDetailsFilter answers in SCIM's format. */
export function isScimPath(url: string): boolean {
  return url === '/scim/v2' || url.startsWith('/scim/v2/') || url.startsWith('/scim/v2?');
}
