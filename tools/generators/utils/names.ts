import { names } from '@nx/devkit';

/** Lowercase words of letters and digits joined by single hyphens, starting with a letter. */
export const KEBAB_CASE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Long enough for any feature or service, short enough for table, role and Kubernetes names. */
export const MAX_NAME_LENGTH = 40;

/** The English plural of a kebab-case name (its last word): `user` → `users`, `policy` → `policies`, `address` → `addresses`. */
export function pluralOf(name: string): string {
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  if (/(?:s|x|z|ch|sh)$/.test(name)) return `${name}es`;
  return `${name}s`;
}

/** One kebab-case name in every form the code uses. */
export interface NameForms {
  /** `api-key`: file and folder names, subjects, routes */
  kebab: string;
  /** `ApiKey`: classes and types */
  className: string;
  /** `apiKey`: properties and variables */
  propertyName: string;
  /** `API_KEY`: error reasons */
  constant: string;
  /** `api_key`: table and constraint names */
  snake: string;
  /** `api key`: messages and documentation */
  words: string;
}

export function nameForms(kebab: string): NameForms {
  const n = names(kebab);
  return {
    kebab,
    className: n.className,
    propertyName: n.propertyName,
    constant: n.constantName,
    snake: kebab.replace(/-/g, '_'),
    words: kebab.replace(/-/g, ' '),
  };
}

/** Refuses a name that is not kebab-case, naming the option and what it expects. */
export function checkKebabName(option: string, value: unknown, example: string): string {
  if (typeof value !== 'string' || !KEBAB_CASE.test(value) || value.length > MAX_NAME_LENGTH) {
    throw new Error(
      `--${option} must be a kebab-case name (lowercase letters and digits, words joined by "-", ` +
        `starting with a letter, at most ${MAX_NAME_LENGTH} characters), e.g. ${example}; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
