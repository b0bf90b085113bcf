import {
  MultiSamlStrategy,
  type PassportSamlConfig,
  type Profile,
  type VerifyWithoutRequest,
} from '@node-saml/passport-saml';
import passport from 'passport';

/** The verified profile is the strategy's "user": what the ACS returns. */
const signedIn: VerifyWithoutRequest = (profile, done) => {
  if (!profile) done(new Error('the SAML response carries no sign-in'));
  else done(null, profile as unknown as Record<string, unknown>);
};

const logout: VerifyWithoutRequest = (_profile, done) =>
  done(new Error('SAML single logout is not supported'));

/** How one run of the SAML strategy ended. */
export type SamlStrategyOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'success'; profile: Profile }
  | { kind: 'error'; error: unknown }
  | { kind: 'failed'; info: unknown };

/** The parts of an HTTP request the SAML strategy reads, built from an RPC (no HTTP here). */
export interface SamlStrategyRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, string>;
}

/**
 * `@node-saml/passport-saml` on its own `passport.Passport` instance: one `MultiSamlStrategy`
 * whose options are those of the connection the request is about (given with the request),
 * driven by `passport.authenticate('saml', { session: false }, callback)` on a minimal
 * request and response. The login start ends in the strategy's redirect (the Location of the
 * response), the ACS in the callback (the verified profile, or node-saml's error).
 */
export class SamlPassport {
  private readonly passport = new passport.Passport();
  private readonly optionsByRequest = new WeakMap<object, PassportSamlConfig>();
  private readonly strategy: MultiSamlStrategy;

  constructor() {
    this.strategy = new MultiSamlStrategy(
      {
        passReqToCallback: false,
        getSamlOptions: (req, done) => {
          const options = this.optionsByRequest.get(req);
          if (options) done(null, options);
          else done(new Error('no SAML connection options for this request'));
        },
      },
      signedIn,
      logout,
    );
    this.passport.use('saml', this.strategy);
  }

  /** Runs the strategy on `req` with a connection's options; resolves however it ends. */
  run(req: SamlStrategyRequest, options: PassportSamlConfig): Promise<SamlStrategyOutcome> {
    return new Promise((resolve) => {
      this.optionsByRequest.set(req, options);
      const headers: Record<string, string> = {};
      const res = {
        statusCode: 200,
        setHeader(name: string, value: string) {
          headers[name.toLowerCase()] = value;
        },
        end() {
          if (res.statusCode >= 300 && res.statusCode < 400 && headers['location']) {
            resolve({ kind: 'redirect', location: headers['location'] });
          } else {
            resolve({ kind: 'failed', info: `HTTP ${res.statusCode}` });
          }
        },
      };
      const middleware = this.passport.authenticate(
        'saml',
        { session: false },
        (error: unknown, user: unknown, info: unknown) => {
          if (error) resolve({ kind: 'error', error });
          else if (user) resolve({ kind: 'success', profile: user as Profile });
          else resolve({ kind: 'failed', info });
        },
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      middleware(req, res, (error?: unknown) =>
        resolve(error ? { kind: 'error', error } : { kind: 'failed', info: 'passed' }),
      );
    });
  }
}
