// The OpenID Provider of the sso benchmark, in a process of its own (the runner pins it to the
// server CPU, as the other areas' servers): `startOidcProvider` from @tenantry/testing, the
// same real oidc-provider the integration tests sign in against. It also plays the browser
// before the timed rows: given authorization URLs, it signs each in (`nextLogin` +
// `followLogin`) and answers with the callback URLs (code, state, iss).
//
// IPC: sends `{ ready: { issuer, clientId, clientSecret } }` once listening; answers
// `{ id, urls, sub, concurrency }` with `{ id, callbacks }` or `{ id, error }`.
import { startOidcProvider } from '@tenantry/testing';

const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!redirectUri || !process.send) {
  throw new Error('oidc-op.mjs runs as an IPC child with OIDC_REDIRECT_URI set');
}

const op = await startOidcProvider({
  redirectUri,
  accounts: [
    {
      sub: 'alice',
      email: 'alice@corp.example',
      email_verified: true,
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
      groups: ['engineering', 'admins'],
    },
  ],
});
// The harness records every request it receives; a benchmark sends tens of thousands.
setInterval(() => op.requests.splice(0), 1_000).unref();

process.on('message', ({ id, urls, sub, concurrency = 4 }) => {
  const callbacks = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const i = next++;
      op.nextLogin(sub);
      callbacks[i] = await op.followLogin(urls[i]);
    }
  };
  Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker)).then(
    () => process.send({ id, callbacks }),
    (error) => process.send({ id, error: error.message }),
  );
});
process.on('disconnect', () => void op.close().finally(() => process.exit(0)));
process.on('SIGTERM', () => void op.close().finally(() => process.exit(0)));

process.send({
  ready: { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret },
});
