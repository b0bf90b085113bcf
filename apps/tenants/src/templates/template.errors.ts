import { AppError, ErrorCode, type FieldError } from '@tenantry/contracts';

/** Reasons a template request fails; clients may rely on them (`reason` in the problem). */
export enum TemplateErrorReason {
  NotFound = 'TEMPLATE_NOT_FOUND',
  KeyTaken = 'TEMPLATE_KEY_TAKEN',
  Invalid = 'TEMPLATE_INVALID',
  VariablesInvalid = 'TEMPLATE_VARIABLES_INVALID',
  OverridesInvalid = 'TEMPLATE_OVERRIDES_INVALID',
  RenderInvalid = 'TEMPLATE_RENDER_INVALID',
}

const listed = (errors: FieldError[]) => errors.map((e) => `${e.field}: ${e.message}`).join('; ');

export const TemplateErrors = {
  notFound: (key: string) =>
    new AppError(ErrorCode.NotFound, `template "${key}" does not exist`, {
      reason: TemplateErrorReason.NotFound,
      field: 'key',
    }),

  keyTaken: (key: string) =>
    new AppError(ErrorCode.Conflict, `a template with the key "${key}" exists; choose another`, {
      reason: TemplateErrorReason.KeyTaken,
      field: 'key',
    }),

  /** The template as written is wrong (its variables or body), each problem with its path. */
  invalid: (key: string, errors: FieldError[]) =>
    new AppError(ErrorCode.ValidationFailed, `template "${key}" is invalid: ${listed(errors)}`, {
      reason: TemplateErrorReason.Invalid,
      errors,
    }),

  variablesInvalid: (key: string, errors: FieldError[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the variables do not fit the template "${key}": ${listed(errors)}`,
      { reason: TemplateErrorReason.VariablesInvalid, errors },
    ),

  overridesInvalid: (key: string, errors: FieldError[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the overrides do not fit the template "${key}": ${listed(errors)}`,
      { reason: TemplateErrorReason.OverridesInvalid, errors },
    ),

  /** The rendered request is not a valid tenant: each problem with its path in the request. */
  renderInvalid: (key: string, errors: FieldError[]) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the template "${key}" does not render to a valid tenant: ${listed(errors)}`,
      { reason: TemplateErrorReason.RenderInvalid, errors },
    ),
};
